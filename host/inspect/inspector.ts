// The live inspector (`run --inspect`): a ring of the last exchanges and connections, each
// traced as it passes (host/inspect/trace.ts), served on the admin port at /inspector as a
// page that follows them live over server-sent events.
//
// Where events come from, all wired only when the inspector is on:
// - the streams' tracer field (callbacks, headers and bodies in and out, local replies, ends);
// - the plugins' host functions, observed (wrapped) when their VM is built: logs, properties,
//   metrics, continue and close calls, attributed to the stream whose context is current;
// - the plugins' callout and gRPC senders, wrapped: requests and their answers.
// With the inspector off none of this exists: no ring, no tracer, the host functions as they are.
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import type { AbiHost, HostFunctions } from "../abi/host.ts";
import { readPath } from "../abi/memory-args.ts";
import { LOG_LEVEL_NAMES, Status, type HeaderList } from "../abi/types.ts";
import type { MetricRegistry } from "../state/metrics.ts";
import type { CalloutSender, GrpcSender } from "../upstream/outbound.ts";
import type { Plugin } from "../plugin.ts";
import { StreamFilter } from "../stream-filter.ts";
import { DEFAULT_LIMITS, HttpTracer, type InspectLimits, type StreamTracer, TcpTracer, Trace } from "./trace.ts";

const PAGE = join(import.meta.dirname, "inspector.html");
/** How often changed summaries go out to the pages watching (coalesced: a trace once per flush). */
const FLUSH_MS = 100;
const KEEPALIVE_MS = 15_000;
const STREAM_TYPES = ["request", "response", "downstream", "upstream"];

/** The tracer of the stream whose context the plugin is acting on now, if the inspector traces it. */
function tracerOf(host: { readonly current: AbiHost["current"] }): StreamTracer | null {
  const current = host.current;
  return current instanceof StreamFilter ? current.tracer : null;
}

const u64Text = (v: bigint) => v.toString();

export class Inspector {
  readonly limits: InspectLimits;
  /** The last `limits.exchanges` traces; `next` is where the next one goes. */
  private readonly ring: (Trace | undefined)[] = [];
  private next = 0;
  private readonly clients = new Set<ServerResponse>();
  private readonly dirty: Trace[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private keepalive: NodeJS.Timeout | null = null;
  private page: string | null = null;
  /** Bound once: Trace calls it on every event. */
  private readonly changed = (trace: Trace) => this.markChanged(trace);

  constructor(limits: Partial<InspectLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  private add(trace: Trace): void {
    this.ring[this.next] = trace;
    this.next = (this.next + 1) % this.limits.exchanges;
    this.markChanged(trace);
  }

  /** A tracer for a new HTTP exchange through `plugins`. */
  http(listener: string, plugins: Plugin[]): HttpTracer {
    const trace = new Trace("http", listener, plugins.map((p) => p.name), this.limits, this.changed);
    this.add(trace);
    return new HttpTracer(trace);
  }

  /** A tracer for a new TCP connection through `plugins`. */
  tcp(listener: string, plugins: Plugin[]): TcpTracer {
    const trace = new Trace("tcp", listener, plugins.map((p) => p.name), this.limits, this.changed);
    this.add(trace);
    return new TcpTracer(trace);
  }

  /** The traces kept, oldest first. */
  traces(): Trace[] {
    const out: Trace[] = [];
    const n = this.ring.length;
    for (let i = 0; i < n; i++) {
      const t = this.ring[(this.next + i) % n];
      if (t) out.push(t);
    }
    return out;
  }

  trace(id: number): Trace | undefined {
    return this.ring.find((t) => t?.id === id);
  }

  // What the plugins report, wired in by the proxy when it loads them.

  /** Wraps the host functions that report what a filter does to its stream (the plugin calls this when it builds a VM's imports). */
  observe(host: AbiHost, env: HostFunctions, metrics: MetricRegistry): void {
    const fn = env as Record<string, (...args: never[]) => number>;
    const wrap = <A extends unknown[]>(name: string, report: (status: number, args: A) => void) => {
      const inner = fn[name] as unknown as (...args: A) => number;
      if (!inner) return;
      fn[name] = ((...args: A) => {
        const status = inner(...args);
        report(status, args);
        return status;
      }) as never;
    };
    wrap("proxy_log", (status, [level, ptr, len]: number[]) => {
      const tracer = tracerOf(host);
      if (tracer === null || status !== Status.Ok) return;
      tracer.log(host.name, LOG_LEVEL_NAMES[level] ?? String(level), host.vm.string(ptr, len) ?? "");
    });
    wrap("proxy_get_property", (status, [pathPtr, pathLen, valuePtrPtr, valueLenPtr]: number[]) => {
      const tracer = tracerOf(host);
      if (tracer === null) return;
      const path = readPath(host.vm, pathPtr, pathLen);
      if (path === null) return;
      const ptr = host.vm.u32(valuePtrPtr), len = host.vm.u32(valueLenPtr);
      const value = status === Status.Ok && ptr !== null && len !== null ? host.vm.bytes(ptr, len) : null;
      tracer.property(host.name, "get", path, value);
    });
    wrap("proxy_set_property", (status, [pathPtr, pathLen, valuePtr, valueLen]: number[]) => {
      const tracer = tracerOf(host);
      if (tracer === null || status !== Status.Ok) return;
      const path = readPath(host.vm, pathPtr, pathLen);
      if (path !== null) tracer.property(host.name, "set", path, host.vm.bytes(valuePtr, valueLen));
    });
    const metric = (op: "increment" | "record") => (status: number, [id, value]: [number, bigint]) => {
      const tracer = tracerOf(host);
      if (tracer === null || status !== Status.Ok) return;
      const now = metrics.get(id >>> 0);
      const shown = op === "increment" ? BigInt.asIntN(64, value) : BigInt.asUintN(64, value);
      tracer.metric(host.name, op, metrics.name(id >>> 0) ?? `metric ${id >>> 0}`, u64Text(shown), typeof now === "bigint" ? u64Text(now) : null);
    };
    wrap("proxy_increment_metric", metric("increment"));
    wrap("proxy_record_metric", metric("record"));
    for (const call of ["proxy_continue_stream", "proxy_close_stream"]) {
      wrap(call, (status, [type]: number[]) => {
        const tracer = tracerOf(host);
        if (tracer !== null) tracer.streamCall(host.name, `${call.replace("proxy_", "")}(${STREAM_TYPES[type] ?? type})`, status);
      });
    }
    for (const call of ["proxy_continue_request", "proxy_continue_response"]) {
      wrap(call, (status) => {
        const tracer = tracerOf(host);
        if (tracer !== null) tracer.streamCall(host.name, call.replace("proxy_", ""), status);
      });
    }
  }

  /** A plugin's callouts, traced on the stream that makes each (a root context's are not traced). */
  callouts(sender: CalloutSender, plugin: () => Plugin | null): CalloutSender {
    return {
      hasCluster: (cluster) => sender.hasCluster(cluster),
      send(request, done) {
        const p = plugin();
        const tracer = p ? tracerOf(p) : null;
        if (tracer === null || p === null) return sender.send(request, done);
        const header = (n: string) => request.headers.find(([k]) => k === n)?.[1] ?? "";
        tracer.callout(p.name, "http", { cluster: request.cluster, method: header(":method"), path: header(":path"), authority: header(":authority"), headers: request.headers, timeoutMs: request.timeoutMs }, request.body);
        sender.send(request, (result) => {
          if ("response" in result) {
            const status = Number(result.response.headers.find(([k]) => k === ":status")?.[1] ?? 0);
            tracer.answer(p.name, "http", { cluster: request.cluster, status, headers: result.response.headers }, result.response.body, () => done(result));
          } else {
            tracer.answer(p.name, "http", { cluster: request.cluster, failure: result.failure }, null, () => done(result));
          }
        });
      },
    };
  }

  /** A plugin's gRPC calls, traced on the stream that opens each. */
  grpc<S extends GrpcSender>(sender: S, plugin: () => Plugin | null): GrpcSender {
    return {
      hasCluster: (cluster) => sender.hasCluster(cluster),
      open(request, events) {
        const p = plugin();
        const tracer = p ? tracerOf(p) : null;
        if (tracer === null || p === null) return sender.open(request, events);
        const call = `${request.service}/${request.method}`;
        tracer.callout(p.name, "grpc", { cluster: request.cluster, call, metadata: request.metadata, stream: request.message === null }, request.message);
        const timed = (what: Record<string, unknown>, body: Uint8Array | null, deliver: () => void) => tracer.answer(p.name, "grpc", { call, ...what }, body, deliver);
        return sender.open(request, {
          initialMetadata: (m: HeaderList) => timed({ initialMetadata: m }, null, () => events.initialMetadata(m)),
          message: (m: Uint8Array) => timed({ message: m.length }, m, () => events.message(m)),
          trailingMetadata: (m: HeaderList) => timed({ trailingMetadata: m }, null, () => events.trailingMetadata(m)),
          close: (status: number, message: string) => timed({ grpcStatus: status, grpcMessage: message }, null, () => events.close(status, message)),
        });
      },
    };
  }

  // The page and its live feed (admin endpoint).

  /** Answers an admin request under /inspector; false when the path is not the inspector's. */
  serve(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const path = url.pathname;
    if (path === "/inspector" || path === "/inspector/") {
      this.page ??= readFileSync(PAGE, "utf8");
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(this.page);
      return true;
    }
    if (path === "/inspector/events") {
      this.subscribe(req, res);
      return true;
    }
    if (path === "/inspector/exchanges") {
      this.json(res, 200, { limits: this.limits, exchanges: this.traces().map((t) => t.summary()) });
      return true;
    }
    const one = /^\/inspector\/exchanges\/(\d+)$/.exec(path);
    if (one) {
      const trace = this.trace(Number(one[1]));
      if (trace) this.json(res, 200, trace.detail());
      else this.json(res, 404, { error: `exchange ${one[1]} is not kept (the inspector keeps the last ${this.limits.exchanges})` });
      return true;
    }
    return false;
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify(body));
  }

  /** A page follows the traces: every summary kept now, then the changed ones as they change. */
  private subscribe(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    res.write(`event: hello\ndata: ${JSON.stringify({ limits: this.limits, exchanges: this.traces().map((t) => t.summary()) })}\n\n`);
    this.clients.add(res);
    this.keepalive ??= setInterval(() => {
      for (const c of this.clients) c.write(": keepalive\n\n");
    }, KEEPALIVE_MS).unref();
    req.on("close", () => {
      this.clients.delete(res);
      if (this.clients.size === 0 && this.keepalive) {
        clearInterval(this.keepalive);
        this.keepalive = null;
      }
    });
  }

  private markChanged(trace: Trace): void {
    if (this.clients.size === 0 || trace.dirty) return;
    trace.dirty = true;
    this.dirty.push(trace);
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    this.flushTimer = null;
    const changed = this.dirty.splice(0);
    for (const t of changed) t.dirty = false;
    if (!changed.length || !this.clients.size) return;
    const message = `event: update\ndata: ${JSON.stringify(changed.map((t) => t.summary()))}\n\n`;
    for (const c of this.clients) c.write(message);
  }

  /** Ends the pages' feeds (the admin server can close then). */
  close(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.keepalive) clearInterval(this.keepalive);
    this.flushTimer = this.keepalive = null;
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
