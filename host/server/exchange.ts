// One downstream HTTP/1.1 request through the proxy: the client's request into an HttpStream,
// what leaves the filters routed to an upstream cluster, the upstream's response back through
// the filters to the client. Bodies stream with backpressure both ways; nothing is buffered
// unless a filter asks.
import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { PassThrough } from "node:stream";
import type { HeaderList } from "../abi/types.ts";
import type { HttpListenerConfig } from "../config/model.ts";
import { HttpStream } from "../http/stream.ts";
import { rewritePath, selectRoute, selectVirtualHost } from "../http/router.ts";
import type { Proxy } from "./proxy.ts";

/** Headers that describe one connection, not the message: never forwarded. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host", "http2-settings"]);
const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

const headerOf = (list: HeaderList, name: string) => list.find(([n]) => n === name)?.[1];

export class Exchange {
  private readonly stream: HttpStream;
  private readonly abort = new AbortController();
  private upstreamBody: PassThrough | null = null;
  private timedOut = false;
  private details = "via_upstream";
  private cluster = "-";
  private upstreamHost = "-";
  private readonly started = performance.now();
  private bytesReceived = 0;
  private bytesSent = 0;

  constructor(private readonly proxy: Proxy, private readonly listener: HttpListenerConfig, private readonly plugins: import("../plugin.ts").Plugin[],
    private readonly req: IncomingMessage, private readonly res: ServerResponse) {
    this.stream = new HttpStream(plugins, {
      request: {
        headers: (headers, end) => this.route(headers, end),
        data: (data, end) => this.toUpstream(data, end),
        trailers: () => this.upstreamBody?.end(),
      },
      response: {
        headers: (headers, end) => this.writeHead(headers, end),
        data: (data, end) => {
          this.bytesSent += data.length;
          if (data.length) res.write(data);
          if (end) res.end();
        },
        trailers: (trailers) => {
          res.addTrailers(trailers.filter(([n]) => !n.startsWith(":")));
          res.end();
        },
      },
      localReply: (reply) => {
        this.details = reply.details || "local_reply";
        this.abort.abort();
      },
      reset: (reason) => {
        this.details = reason.replaceAll(" ", "_");
        this.abort.abort();
        res.destroy();
      },
    }, listener.bufferLimitBytes);
  }

  start(): void {
    const { req, res, proxy } = this;
    const prefix = `http.${this.listener.statPrefix}`;
    proxy.stats.inc(`${prefix}.downstream_rq_total`);
    proxy.stats.gauge(`${prefix}.downstream_rq_active`, 1);
    res.on("close", () => this.finish(prefix));

    const headers: HeaderList = [[":method", req.method ?? "GET"], [":path", req.url ?? "/"], [":authority", req.headers.host ?? ""], [":scheme", "http"]];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i].toLowerCase();
      if (!HOP_BY_HOP.has(name)) headers.push([name, req.rawHeaders[i + 1]]);
    }
    const length = req.headers["content-length"];
    const hasBody = req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
    this.stream.request.receiveHeaders(headers, !hasBody);
    if (!hasBody) return;
    req.on("data", (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      this.stream.request.receiveData(chunk, false);
    });
    req.on("end", () => {
      const trailers: HeaderList = [];
      for (let i = 0; i < req.rawTrailers.length; i += 2) trailers.push([req.rawTrailers[i].toLowerCase(), req.rawTrailers[i + 1]]);
      if (trailers.length) this.stream.request.receiveTrailers(trailers);
      else this.stream.request.receiveData(EMPTY, true);
    });
  }

  /** The router: the request's headers have passed every filter. */
  private route(headers: HeaderList, end: boolean): void {
    const authority = headerOf(headers, ":authority") ?? "";
    const path = headerOf(headers, ":path") ?? "/";
    const vhost = selectVirtualHost(this.listener.virtualHosts, authority);
    const route = vhost ? selectRoute(vhost.routes, path) : null;
    if (!route) {
      this.reply(404, "", "route_not_found");
      return;
    }
    const cluster = this.proxy.clusters.get(route.cluster)!;
    this.cluster = cluster.name;
    const upstreamHeaders: string[] = [];
    for (const [name, value] of headers) if (!name.startsWith(":") && !HOP_BY_HOP.has(name)) upstreamHeaders.push(name, value);
    upstreamHeaders.push("host", authority);
    if (!end) {
      this.upstreamBody = new PassThrough();
      this.upstreamBody.on("drain", () => this.req.resume());
    }
    const timer = route.timeoutMs > 0 ? setTimeout(() => {
      this.timedOut = true;
      this.abort.abort();
    }, route.timeoutMs) : null;
    this.proxy.stats.inc(`cluster.${cluster.name}.upstream_rq_total`);
    void this.exchange(cluster, headerOf(headers, ":method") ?? "GET", rewritePath(route, path), upstreamHeaders)
      .finally(() => timer && clearTimeout(timer));
  }

  private async exchange(cluster: import("../cluster.ts").Cluster, method: string, path: string, headers: string[]): Promise<void> {
    const stats = this.proxy.stats;
    try {
      const { pool, endpoint } = await cluster.pick();
      this.upstreamHost = endpoint;
      const response = await pool.request({ method, path, headers, body: this.upstreamBody, signal: this.abort.signal });
      stats.inc(`cluster.${cluster.name}.upstream_rq_${Math.floor(response.statusCode / 100)}xx`);
      const list: HeaderList = [[":status", String(response.statusCode)]];
      for (const [name, value] of Object.entries(response.headers)) {
        if (HOP_BY_HOP.has(name) || value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) list.push([name, v]);
      }
      const noBody = method === "HEAD" || response.statusCode === 204 || response.statusCode === 304 || response.headers["content-length"] === "0";
      this.stream.response.receiveHeaders(list, noBody);
      if (noBody) {
        response.body.resume();
        return;
      }
      for await (const chunk of response.body) {
        if (this.res.destroyed) break;
        this.stream.response.receiveData(chunk as Buffer, false);
        if (this.res.writableNeedDrain) await once(this.res, "drain");
      }
      const trailers = Object.entries(response.trailers ?? {}).flatMap(([n, v]) => (Array.isArray(v) ? v : [v]).map((x): [string, string] => [n, String(x)]));
      if (trailers.length) this.stream.response.receiveTrailers(trailers);
      else this.stream.response.receiveData(EMPTY, true);
    } catch (e) {
      if (this.stream.answeredLocally || this.stream.resetReason !== null) return;
      if (this.timedOut) {
        stats.inc(`cluster.${cluster.name}.upstream_rq_timeout`);
        this.upstreamFailed(504, "upstream request timeout", "upstream_response_timeout");
      } else {
        const code = (e as { code?: string }).code ?? "";
        const refused = code === "ECONNREFUSED" || code === "UND_ERR_CONNECT_TIMEOUT" || code === "ENOTFOUND" || code === "EHOSTUNREACH";
        if (refused) stats.inc(`cluster.${cluster.name}.upstream_cx_connect_fail`);
        const reason = refused ? "connection_failure" : "remote_reset";
        this.upstreamFailed(503, `upstream connect error or disconnect/reset before headers. reset reason: ${reason.replace("_", " ")}`,
          `upstream_reset_before_response_started{${reason}}`);
      }
    }
  }

  private upstreamFailed(status: number, body: string, details: string): void {
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

  private toUpstream(data: Uint8Array, end: boolean): void {
    const body = this.upstreamBody;
    if (!body) return;
    if (data.length && !body.write(data)) this.req.pause();
    if (end) body.end();
  }

  private writeHead(headers: HeaderList, end: boolean): void {
    const status = Number(headerOf(headers, ":status") ?? 502);
    const flat: string[] = [];
    for (const [name, value] of headers) if (!name.startsWith(":") && !HOP_BY_HOP.has(name)) flat.push(name, value);
    this.res.writeHead(status, flat);
    if (end) this.res.end();
  }

  private finish(prefix: string): void {
    const { stats, logger } = this.proxy;
    stats.gauge(`${prefix}.downstream_rq_active`, -1);
    const status = this.res.headersSent ? this.res.statusCode : 0;
    stats.inc(`${prefix}.downstream_rq_${status ? `${Math.floor(status / 100)}xx` : "reset"}`);
    this.abort.abort();
    this.upstreamBody?.destroy();
    this.stream.finish();
    const ms = Math.round(performance.now() - this.started);
    logger.log("info", "access", `"${this.req.method} ${this.req.url} HTTP/${this.req.httpVersion}" ${status || "-"} ${this.details} ${this.bytesReceived} ${this.bytesSent} ${ms} "${this.cluster}" "${this.upstreamHost}"`);
  }
}
