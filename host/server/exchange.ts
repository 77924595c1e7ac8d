// One downstream HTTP/1.1 request through the proxy: the client's request into an HttpStream,
// what leaves the filters routed to an upstream cluster, the upstream's response back through
// the filters to the client. Bodies stream with backpressure both ways; nothing is buffered
// unless a filter asks.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Dispatcher } from "undici";
import type { HeaderList } from "../abi/types.ts";
import type { Cluster } from "../upstream/cluster.ts";
import type { HttpListenerConfig, RouteConfig } from "../config/model.ts";
import { connectionInfo } from "./connections.ts";
import { guarded } from "./guard.ts";
import { type StatScope, statusClassNames } from "./stats.ts";
import { type Hold, HttpStream, type HttpStreamSink } from "../http/stream.ts";
import type { LocalReply } from "../abi/host.ts";
import type { HoldSubject } from "./held-streams.ts";
import { redirectLocation, rewritePath, selectRoute, selectVirtualHost } from "../http/router.ts";
import { HOP_BY_HOP, prepareRequest, STATUS_TEXT } from "../http/request-checks.ts";
import { type StreamTimeout, StreamTimers } from "./stream-timers.ts";
import type { Proxy } from "./proxy.ts";
import { type ExchangeSide, RequestBody, ToClient, ToUpstream, UpstreamHandler } from "./exchange-sinks.ts";

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

const DOWNSTREAM_RQ_CLASSES = statusClassNames("downstream_rq");
const UPSTREAM_RQ_CLASSES = statusClassNames("upstream_rq");

const headerOf = (list: HeaderList, name: string) => list.find(([n]) => n === name)?.[1];

/**
 * The exchange is its stream's sink (HttpStreamSink): `request` and `response` are where each
 * side goes once through the filters, and its own methods hear local replies, resets,
 * failures and holds.
 */
export class Exchange implements HoldSubject, HttpStreamSink, ExchangeSide {
  private readonly stream: HttpStream;
  heldId = 0;
  readonly request = new ToUpstream(this);
  readonly response = new ToClient(this);
  /** The upstream request under way (undici's controller: abort, pause, resume). */
  private upstream: Dispatcher.DispatchController | null = null;
  private upstreamDone = false;
  private upstreamBody: RequestBody | null = null;
  /** HEAD: the upstream's response has no body whatever its headers say. */
  private noResponseBody = false;
  private details = "via_upstream";
  private cluster = "-";
  /** The routed cluster's stats (cluster.<name>.…), looked up once. */
  private clusterStats: StatScope | null = null;
  private upstreamHost = "-";
  private readonly started = performance.now();
  private bytesReceived = 0;
  private bytesSent = 0;
  /** stream_idle_timeout, request_timeout and the route's timeout. */
  private readonly timers = new StreamTimers(this.timedOut.bind(this));
  private requestEnded = false;
  /** The route's timeout, started once the request has ended and gone upstream (0: none yet). */
  private routeTimeoutMs = 0;
  /** The cluster's circuit breaker while this request holds a place in it. */
  private breaker: Cluster["breaker"] | null = null;

  constructor(private readonly proxy: Proxy, private readonly listener: HttpListenerConfig, private readonly plugins: import("../plugin.ts").Plugin[],
    private readonly req: IncomingMessage, private readonly res: ServerResponse, private readonly stats: StatScope) {
    this.stream = new HttpStream(plugins, this, listener.bufferLimitBytes, {
      ...connectionInfo(req.socket),
      protocol: `HTTP/${req.httpVersion}`,
    }, proxy.inspector === null ? null : proxy.inspector.http(listener.name, plugins));
  }

  // HttpStreamSink, besides the two sides.
  localReply(reply: LocalReply): void {
    this.details = reply.details || "local_reply";
    this.cancelUpstream();
  }

  reset(reason: string): void {
    this.details = reason.replaceAll(" ", "_");
    this.cancelUpstream();
    const { res } = this;
    // Response headers written but still queued reach the client before the reset, as Envoy's codec had sent them.
    if (res.headersSent && !res.writableEnded) res.flushHeaders();
    res.destroy();
  }

  held(): void {
    this.proxy.heldStreams.watch(this);
  }

  // The response side, once through the filters (ToClient).
  responseHeaders(headers: HeaderList, end: boolean): void {
    this.timers.touch();
    this.writeHead(headers, end);
  }

  responseData(data: Uint8Array, end: boolean): void {
    this.timers.touch();
    this.bytesSent += data.length;
    if (data.length) this.res.write(data);
    if (end) this.res.end();
  }

  responseTrailers(trailers: HeaderList): void {
    this.res.addTrailers(trailers.filter(([n]) => !n.startsWith(":")));
    this.res.end();
  }

  // HoldSubject: what the proxy asks of a stream a filter holds.
  holds(): Hold[] {
    return this.stream.holds();
  }
  nowNanos(): bigint {
    return this.stream.nowNanos();
  }
  get label(): string {
    return `${this.req.method} ${this.req.url}`;
  }

  /** An event handler whose errors (the host's own) end this exchange only: a 500 when nothing was sent yet. */
  private guard<A extends unknown[]>(handler: (...args: A) => void): (...args: A) => void {
    return guarded(handler, (e) => this.internalError(e));
  }

  /** The host's own error while acting for this exchange (also what the stream reports as its sink's internalError). */
  internalError(e: Error): void {
    this.proxy.logger.log("error", "http", `${this.req.method} ${this.req.url}: internal error: ${e.stack ?? e.message}`);
    this.details = "internal_error";
    this.cancelUpstream();
    if (this.res.headersSent || this.res.destroyed) this.res.destroy();
    else this.res.writeHead(500, { "content-type": "text/plain", connection: "close" }).end("internal error\n");
  }

  start(): void {
    this.guard(() => this.begin())();
  }

  private begin(): void {
    const { req, res, proxy } = this;
    this.stats.counter("downstream_rq_total").add();
    this.stats.gauge("downstream_rq_active").add(1);
    res.on("close", this.guard(() => this.finish()));
    res.on("drain", this.guard(() => this.upstream?.resume()));

    const prepared = prepareRequest({
      method: req.method ?? "GET", url: req.url ?? "/", httpVersion: req.httpVersion, rawHeaders: req.rawHeaders,
      remoteAddress: req.socket.remoteAddress ?? "", tls: false,
    }, this.listener.http);
    if ("status" in prepared) {
      this.rejectBeforeFilters(prepared.status, prepared.details);
      return;
    }
    const { headers, authority, path, hasBody, clientAddress } = prepared;
    // Envoy's downstream remote address becomes the client x-forwarded-for names, when trusted.
    if (clientAddress !== null) this.stream.info.source = { address: clientAddress, port: 0 };
    this.timers.startIdle(this.listener.http.streamIdleTimeoutMs);
    if (hasBody) this.timers.startRequest(this.listener.http.requestTimeoutMs);
    else this.requestEnded = true;
    // Envoy picks the route as the headers arrive (filters may change it later): route_name
    // and cluster_name are readable from the first callback.
    const route = this.selectRoute(authority, path);
    if (route) {
      this.stream.info.routeName = route.name || null;
      if (route.action.kind === "cluster") this.stream.info.clusterName = route.action.cluster;
    }
    this.stream.request.receiveHeaders(headers, !hasBody);
    if (!hasBody) return;
    req.on("data", this.guard((chunk: Buffer) => {
      this.timers.touch();
      this.bytesReceived += chunk.length;
      this.stream.request.receiveData(chunk, false);
    }));
    req.on("end", this.guard(() => {
      this.requestEnded = true;
      this.timers.requestDone();
      if (this.routeTimeoutMs) this.timers.startRoute(this.routeTimeoutMs);
      const trailers: HeaderList = [];
      for (let i = 0; i < req.rawTrailers.length; i += 2) trailers.push([req.rawTrailers[i].toLowerCase(), req.rawTrailers[i + 1]]);
      if (trailers.length) this.stream.request.receiveTrailers(trailers);
      else this.stream.request.receiveData(EMPTY, true);
    }));
  }

  /** A request Envoy's codec refuses before any filter: its status and text, the connection closed after. */
  private rejectBeforeFilters(status: number, details: string): void {
    this.details = details;
    const body = STATUS_TEXT[status] ?? "";
    this.res.writeHead(status, { "content-length": String(body.length), "content-type": "text/plain", connection: "close" }).end(body);
    this.req.resume(); // a body sent anyway is read and dropped until the close
  }

  private routed: { authority: string; path: string; route: RouteConfig | null } | null = null;

  /** The route for this authority and path; chosen once unless a filter changed them (Envoy's route cache). */
  private selectRoute(authority: string, path: string): RouteConfig | null {
    const cached = this.routed;
    if (cached && cached.authority === authority && cached.path === path) return cached.route;
    const vhost = selectVirtualHost(this.listener.virtualHosts, authority);
    const route = vhost ? selectRoute(vhost.routes, path) : null;
    this.routed = { authority, path, route };
    return route;
  }

  /** The router: the request's headers have passed every filter (ToUpstream). */
  route(headers: HeaderList, end: boolean): void {
    const authority = headerOf(headers, ":authority") ?? "";
    const path = headerOf(headers, ":path") ?? "/";
    const route = this.selectRoute(authority, path);
    if (!route) {
      this.reply(404, "", "route_not_found");
      return;
    }
    const action = route.action;
    this.stream.info.routeName = route.name || null;
    if (action.kind !== "cluster") {
      this.answerDirectly(route, headers);
      return;
    }
    const cluster = this.proxy.clusters.get(action.cluster)!;
    this.cluster = cluster.name;
    this.stream.info.routeName = route.name || null;
    this.stream.info.clusterName = cluster.name;
    const upstreamHeaders: string[] = [];
    for (const [name, value] of headers) if (!name.startsWith(":") && !HOP_BY_HOP.has(name)) upstreamHeaders.push(name, value);
    upstreamHeaders.push("host", authority);
    if (!end) this.upstreamBody = new RequestBody(this.req);
    this.clusterStats = this.proxy.clusterStats.get(cluster.name)!;
    this.clusterStats.counter("upstream_rq_total").add();
    const method = headerOf(headers, ":method") ?? "GET";
    const upstreamPath = rewritePath(route.match, action.prefixRewrite, path);
    if (!cluster.needsResolving) this.dispatch(cluster, method, upstreamPath, upstreamHeaders, action.timeoutMs);
    else {
      cluster.resolve().then(() => this.dispatch(cluster, method, upstreamPath, upstreamHeaders, action.timeoutMs), (e: Error) => this.upstreamFailed(e, false));
    }
  }

  /**
   * A direct_response or redirect route: the router answers itself, as a local reply that
   * goes back through the filters (details direct_response, as Envoy's). A redirect has an
   * empty body and its Location; a direct response its status and body.
   */
  private answerDirectly(route: RouteConfig, headers: HeaderList): void {
    const action = route.action;
    if (action.kind === "direct") {
      this.stream.sendLocalReply(null, { status: action.status, body: action.body, headers: [], details: "direct_response", grpcStatus: -1 });
    } else if (action.kind === "redirect") {
      const location = redirectLocation(action.redirect, route.match, {
        scheme: headerOf(headers, "x-forwarded-proto") ?? headerOf(headers, ":scheme") ?? "http",
        authority: headerOf(headers, ":authority") ?? "", path: headerOf(headers, ":path") ?? "/",
      });
      this.stream.sendLocalReply(null, { status: action.redirect.status, body: EMPTY, headers: [["location", location]], details: "direct_response", grpcStatus: -1 });
    }
  }

  /** Sends the request upstream through undici's dispatcher, the response streaming back through the filters. */
  private dispatch(cluster: Cluster, method: string, path: string, headers: string[], timeoutMs: number): void {
    if (this.res.destroyed || this.stream.answeredLocally) return;
    if (!cluster.breaker.admit(this.clusterStats!)) {
      // Envoy's pool overflow: 503 at once, nothing sent upstream.
      this.failUpstream(503, "upstream connect error or disconnect/reset before headers. reset reason: overflow", "upstream_reset_before_response_started{overflow}");
      return;
    }
    this.breaker = cluster.breaker;
    const { pool, endpoint, address } = cluster.pick();
    this.upstreamHost = endpoint;
    this.stream.info.upstream = address;
    this.noResponseBody = method === "HEAD";
    this.routeTimeoutMs = timeoutMs;
    if (this.requestEnded) this.timers.startRoute(timeoutMs);
    pool.dispatch({
      path, method, headers, body: this.upstreamBody,
      // Envoy's route timeout is a total (stream timers), not undici's per-wait ones.
      headersTimeout: 0, bodyTimeout: 0,
    }, new UpstreamHandler(this));
  }

  // The upstream request's events (UpstreamHandler).
  upstreamStarted(controller: Dispatcher.DispatchController): void {
    this.upstream = controller;
  }

  upstreamHeaders(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx: wait for the final response
    this.clusterStats!.counter(UPSTREAM_RQ_CLASSES[Math.floor(statusCode / 100)] ?? "upstream_rq_other").add();
    const list: HeaderList = [[":status", String(statusCode)]];
    for (const name in headers) {
      if (HOP_BY_HOP.has(name)) continue;
      const value = headers[name];
      if (typeof value === "string") list.push([name, value]);
      else if (value) for (const v of value) list.push([name, v]);
    }
    this.stream.info.responseCodeDetails = "via_upstream";
    const empty = this.noResponseBody || statusCode === 204 || statusCode === 304 || headers["content-length"] === "0";
    this.stream.response.receiveHeaders(list, empty);
    if (this.res.writableNeedDrain) controller.pause();
  }

  upstreamData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.stream.response.receiveData(chunk, false);
    if (this.res.writableNeedDrain) controller.pause();
  }

  upstreamEnd(trailers: Record<string, string | string[] | undefined>): void {
    this.upstreamFinished();
    if (this.stream.response.ended) return;
    const list: HeaderList = [];
    for (const name in trailers) {
      const value = trailers[name];
      for (const v of typeof value === "string" ? [value] : value ?? []) list.push([name, v]);
    }
    if (list.length) this.stream.response.receiveTrailers(list);
    else this.stream.response.receiveData(EMPTY, true);
  }

  upstreamError(error: Error): void {
    this.upstreamFinished();
    this.upstreamFailed(error, (error as { code?: string }).code === "UND_ERR_HEADERS_TIMEOUT" || (error as { code?: string }).code === "UND_ERR_BODY_TIMEOUT");
  }

  /** The upstream request is over (answered or failed): its circuit-breaker slot and route timer go. */
  private upstreamFinished(): void {
    this.upstreamDone = true;
    this.releaseBreaker();
    this.timers.routeDone();
  }

  /**
   * A stream timer fired. The route's: 504 (upstream_response_timeout), or a reset once the
   * response started. stream_idle_timeout and request_timeout: 408 through the response
   * filters as Envoy's local reply, or a reset once the response started.
   */
  private timedOut(which: StreamTimeout): void {
    this.guard(() => {
      if (this.stream.resetReason !== null || this.res.destroyed) return;
      if (which === "route") {
        this.clusterStats?.counter("upstream_rq_timeout").add();
        this.failUpstream(504, "upstream request timeout", "upstream_response_timeout");
        return;
      }
      const details = which === "idle" ? "stream_idle_timeout" : "request_overall_timeout";
      this.stats.counter(which === "idle" ? "downstream_rq_idle_timeout" : "downstream_rq_timeout").add();
      if (this.stream.response.sent || this.stream.answeredLocally) {
        this.stream.reset(details);
        return;
      }
      this.details = details;
      this.stream.sendLocalReply(null, { status: 408, body: encoder.encode(which === "idle" ? "stream timeout" : "request timeout"), headers: [], details, grpcStatus: -1 });
    })();
  }

  private releaseBreaker(): void {
    this.breaker?.release();
    this.breaker = null;
  }

  private cancelUpstream(): void {
    if (!this.upstreamDone && this.upstream && !this.upstream.aborted) this.upstream.abort(new Error("downstream gone or answered locally"));
    this.upstreamBody?.destroy();
  }

  private upstreamFailed(error: Error, timedOut: boolean): void {
    if (this.stream.answeredLocally || this.stream.resetReason !== null || this.res.destroyed) return;
    const stats = this.clusterStats!;
    if (timedOut) {
      stats.counter("upstream_rq_timeout").add();
      this.failUpstream(504, "upstream request timeout", "upstream_response_timeout");
      return;
    }
    const code = (error as { code?: string }).code ?? "";
    const refused = code === "ECONNREFUSED" || code === "UND_ERR_CONNECT_TIMEOUT" || code === "ENOTFOUND" || code === "EHOSTUNREACH" || code === "EAI_AGAIN";
    if (refused) stats.counter("upstream_cx_connect_fail").add();
    const reason = refused ? "connection_failure" : "remote_reset";
    this.failUpstream(503, `upstream connect error or disconnect/reset before headers. reset reason: ${reason.replace("_", " ")}`,
      `upstream_reset_before_response_started{${reason}}`);
  }

  private failUpstream(status: number, body: string, details: string): void {
    if (this.stream.response.sent) {
      this.details = details;
      this.res.destroy();
      return;
    }
    this.reply(status, body, details);
  }

  private reply(status: number, body: string, details: string): void {
    this.stream.sendLocalReply(null, { status, body: encoder.encode(body), headers: [], details, grpcStatus: -1 });
  }

  /** Body that passed the filters (ToUpstream): to the upstream, the client paused while undici is not reading. */
  toUpstream(data: Uint8Array, end: boolean): void {
    const body = this.upstreamBody;
    if (!body) return;
    if (data.length && !body.push(data)) this.req.pause();
    if (end) body.push(null);
  }

  /** Trailers passed the filters (ToUpstream): the upstream body ends (undici sends no request trailers). */
  endUpstreamBody(): void {
    this.upstreamBody?.push(null);
  }

  private writeHead(headers: HeaderList, end: boolean): void {
    const status = Number(headerOf(headers, ":status") ?? 502);
    const flat: string[] = [];
    for (const [name, value] of headers) if (!name.startsWith(":") && !HOP_BY_HOP.has(name)) flat.push(name, value);
    this.res.writeHead(status, flat);
    if (end) this.res.end();
  }

  private finish(): void {
    const { stats } = this, { logger } = this.proxy;
    stats.gauge("downstream_rq_active").add(-1);
    this.timers.clear();
    this.releaseBreaker();
    const status = this.res.headersSent ? this.res.statusCode : 0;
    stats.counter(status ? DOWNSTREAM_RQ_CLASSES[Math.floor(status / 100)] ?? "downstream_rq_other" : "downstream_rq_reset").add();
    this.cancelUpstream();
    this.stream.finish();
    const { tracer } = this.stream;
    if (tracer !== null) tracer.end(status, this.details);
    if (!logger.enabled("info")) return;
    const ms = Math.round(performance.now() - this.started);
    logger.log("info", "access", `"${this.req.method} ${this.req.url} HTTP/${this.req.httpVersion}" ${status || "-"} ${this.details} ${this.bytesReceived} ${this.bytesSent} ${ms} "${this.cluster}" "${this.upstreamHost}"`);
  }
}
