// What the inspector keeps of one HTTP exchange or TCP connection (a Trace), and the tracers
// that fill it from the stream's hooks: every callback into every filter with its action and
// duration, what the callback changed (headers as a diff, bodies and TCP data before and
// after), logs, properties, metrics, callouts, local replies and traps, in order.
//
// The hooks cost nothing when the inspector is off: a stream's `tracer` (and each filter's)
// is null, checked once per callback or stream event, and nothing here is allocated.
import type { LocalReply } from "../abi/host.ts";
import { DataAction, HeadersAction, type HeaderList, TrailersAction } from "../abi/types.ts";
import type { HttpFilter } from "../http/filter.ts";
import type { HttpStream } from "../http/stream.ts";
import type { StreamFilter } from "../stream-filter.ts";
import type { TcpFilter } from "../tcp/filter.ts";
import type { TcpStream } from "../tcp/stream.ts";

/** How much the inspector keeps (all configurable on the command line). */
export interface InspectLimits {
  /** Exchanges and connections kept (a ring: the oldest goes). */
  exchanges: number;
  /** Bytes kept of each body (or TCP data) snapshot; the rest is counted, not kept. */
  bodyBytes: number;
  /** Events kept per exchange; later ones are counted, not kept. */
  events: number;
}

export const DEFAULT_LIMITS: InspectLimits = { exchanges: 200, bodyBytes: 4096, events: 500 };

/** A body or data snapshot: its first bytes, as text (or hex when not UTF-8), and its real size. */
export interface BodyView {
  size: number;
  text: string;
  truncated: boolean;
  binary: boolean;
}

export type HeaderChange = { op: "+" | "-"; name: string; value: string } | { op: "~"; name: string; value: string; was: string };

/** One event on an exchange's timeline; `t` is ms since the exchange began. */
export type TraceEvent = { t: number; type: string; plugin?: string; [field: string]: unknown };

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function bodyView(data: Uint8Array, limit: number): BodyView {
  const kept = data.length > limit ? data.subarray(0, limit) : data;
  let text: string;
  let binary = false;
  try {
    text = utf8.decode(kept);
  } catch {
    // Cut in the middle of a character, or not text: hex, 16 bytes a line.
    binary = true;
    const hex = Buffer.from(kept.buffer, kept.byteOffset, kept.length).toString("hex");
    text = (hex.match(/.{1,32}/g) ?? []).map((l) => l.replace(/(..)(?!$)/g, "$1 ")).join("\n");
  }
  return { size: data.length, text, truncated: data.length > limit, binary };
}

/** What changed from `before` to `after` (as multisets of pairs, order aside); null when nothing did. */
export function headerDiff(before: HeaderList, after: HeaderList): HeaderChange[] | null {
  if (before.length === after.length && before.every((p, i) => p === after[i] || (p[0] === after[i][0] && p[1] === after[i][1]))) return null;
  const values = (list: HeaderList) => {
    const byName = new Map<string, string[]>();
    for (const [n, v] of list) byName.set(n, [...(byName.get(n) ?? []), v]);
    return byName;
  };
  const was = values(before), now = values(after);
  const changes: HeaderChange[] = [];
  for (const name of new Set([...was.keys(), ...now.keys()])) {
    const a = [...(was.get(name) ?? [])], b = [...(now.get(name) ?? [])];
    for (let i = a.length - 1; i >= 0; i--) {
      const j = b.indexOf(a[i]);
      if (j >= 0) {
        a.splice(i, 1);
        b.splice(j, 1);
      }
    }
    if (a.length === 1 && b.length === 1) changes.push({ op: "~", name, value: b[0], was: a[0] });
    else {
      for (const v of a) changes.push({ op: "-", name, value: v });
      for (const v of b) changes.push({ op: "+", name, value: v });
    }
  }
  return changes.length ? changes : null;
}

const CALLBACK_NAMES: Record<string, string> = {
  proxy_on_request_headers: "onRequestHeaders", proxy_on_request_body: "onRequestBody", proxy_on_request_trailers: "onRequestTrailers",
  proxy_on_response_headers: "onResponseHeaders", proxy_on_response_body: "onResponseBody", proxy_on_response_trailers: "onResponseTrailers",
  proxy_on_new_connection: "onNewConnection", proxy_on_downstream_data: "onDownstreamData", proxy_on_upstream_data: "onUpstreamData",
  proxy_on_downstream_connection_close: "onDownstreamClose", proxy_on_upstream_connection_close: "onUpstreamClose",
  proxy_on_done: "onDone · onLog · onDelete",
};
const TCP_ACTIONS: Record<number, string> = { 0: "Continue", 1: "StopIteration" };
const PEERS = ["Unknown", "Local", "Remote"];

/** The action's name for a callback's raw answer (null for callbacks that answer none). */
function actionName(callback: string, raw: number): string | null {
  let names: Record<number, string>;
  if (callback.endsWith("_headers")) names = HeadersAction;
  else if (callback.endsWith("_body")) names = DataAction;
  else if (callback.endsWith("_trailers")) names = TrailersAction;
  else if (callback.endsWith("_connection") || callback.endsWith("_data")) names = TCP_ACTIONS;
  else return null;
  return names[raw] ?? `unknown action ${raw}`;
}

let nextTraceId = 1;

/** One exchange or connection as the inspector keeps it. */
export class Trace {
  readonly id = nextTraceId++;
  readonly startedAt = Date.now();
  readonly t0 = performance.now();
  readonly events: TraceEvent[] = [];
  /** Events past the limit, counted only. */
  dropped = 0;
  durationMs: number | null = null;
  status = 0;
  details = "";
  localReply = false;
  trap = false;
  reset = false;
  /** HTTP: the request and response headers, bodies and trailers as they arrived and as they left the filters. */
  readonly http = {
    method: "", path: "", authority: "",
    request: { in: null as HeaderList | null, out: null as HeaderList | null, bodyIn: new Body(), bodyOut: new Body(), trailersIn: null as HeaderList | null, trailersOut: null as HeaderList | null },
    response: { in: null as HeaderList | null, out: null as HeaderList | null, bodyIn: new Body(), bodyOut: new Body(), trailersIn: null as HeaderList | null, trailersOut: null as HeaderList | null },
  };
  /** TCP: the client, bytes each way, why it closed. */
  readonly tcp = { source: "", upstream: "", downstreamBytes: 0, upstreamBytes: 0, closeReason: "" };
  /** Set while an SSE flush has this trace queued. */
  dirty = false;
  /** Bytes of body and data snapshots the timeline may still keep (bodies as they arrived and left are kept apart, each up to the limit). */
  budget: number;

  constructor(readonly kind: "http" | "tcp", readonly listener: string, readonly plugins: string[], readonly limits: InspectLimits, private readonly changed: (t: Trace) => void) {
    this.budget = limits.bodyBytes * 16;
  }

  get elapsedMs(): number {
    return performance.now() - this.t0;
  }

  push(event: TraceEvent): void {
    if (this.events.length >= this.limits.events) this.dropped++;
    else this.events.push(event);
    this.changed(this);
  }

  /** An event already recorded was completed (a callback returned). */
  changedLater(): void {
    this.changed(this);
  }

  /** What the list shows. */
  summary() {
    const { http, tcp } = this;
    return {
      id: this.id, kind: this.kind, listener: this.listener, startedAt: this.startedAt, durationMs: this.durationMs, plugins: this.plugins,
      status: this.status, details: this.details, localReply: this.localReply, trap: this.trap, reset: this.reset, events: this.events.length + this.dropped,
      ...(this.kind === "http" ? { method: http.method, path: http.path, authority: http.authority } : { source: tcp.source, upstream: tcp.upstream, downstreamBytes: tcp.downstreamBytes, upstreamBytes: tcp.upstreamBytes, closeReason: tcp.closeReason }),
    };
  }

  /** Everything, for the detail view. */
  detail() {
    const side = (s: typeof this.http.request) => ({
      in: s.in, out: s.out, bodyIn: s.bodyIn.view(), bodyOut: s.bodyOut.view(), trailersIn: s.trailersIn, trailersOut: s.trailersOut,
      diff: s.in && s.out ? headerDiff(s.in, s.out) : null,
    });
    return {
      ...this.summary(), limits: this.limits, dropped: this.dropped, events: this.events,
      ...(this.kind === "http" ? { request: side(this.http.request), response: side(this.http.response) } : {}),
    };
  }
}

/** A body as it passes: its first bytes (up to the limit) and its size. */
class Body {
  private chunks: Uint8Array[] = [];
  private kept = 0;
  size = 0;
  end = false;

  add(data: Uint8Array, limit: number): void {
    this.size += data.length;
    if (this.kept < limit && data.length) {
      const take = data.subarray(0, limit - this.kept);
      this.chunks.push(take.slice());
      this.kept += take.length;
    }
  }

  view(): BodyView | null {
    if (this.size === 0) return null;
    const all = Buffer.concat(this.chunks);
    return { ...bodyView(all, all.length), size: this.size, truncated: this.size > this.kept };
  }
}

/** What a callback could change, taken just before it runs. */
interface CallMark {
  filter: StreamFilter;
  callback: string;
  /** The callback's line on the timeline, placed before what happens inside it and completed when it returns. */
  event: TraceEvent;
  a: number;
  b: number;
  start: number;
  trap: unknown;
  /** HTTP: both header maps and trailers, both bodies; TCP: both buffers. References only: these are replaced, never changed in place (their arrays are copied). */
  headers: [HeaderList, HeaderList] | null;
  trailers: [HeaderList | null, HeaderList | null] | null;
  data: [Uint8Array, Uint8Array];
}

/** Fills one Trace from a stream's hooks. */
export abstract class StreamTracer {
  constructor(readonly trace: Trace) {}

  /** Callbacks under way (events recorded meanwhile happen inside one: a log, a property read…). */
  private depth = 0;

  protected now(): number {
    return Math.round((performance.now() - this.trace.t0) * 1000) / 1000;
  }

  /** Records an event of the stream, marked when it happened inside a callback. */
  protected push(event: TraceEvent): void {
    if (this.depth > 0) event.inside = true;
    this.trace.push(event);
  }

  protected get limit(): number {
    return this.trace.limits.bodyBytes;
  }

  /** A snapshot for the timeline, within the trace's budget (past it, only the size is kept). */
  protected view(data: Uint8Array, limit = this.limit): BodyView {
    const take = Math.min(limit, this.trace.budget, data.length);
    this.trace.budget -= take;
    return bodyView(data, take);
  }

  /** A callback into `filter` is about to run. */
  abstract before(filter: StreamFilter, callback: string, a: number, b: number): CallMark;

  protected mark(filter: StreamFilter, callback: string, a: number, b: number, headers: CallMark["headers"], trailers: CallMark["trailers"], data: CallMark["data"]): CallMark {
    const start = performance.now();
    const event: TraceEvent = {
      t: Math.round((start - this.trace.t0) * 1000) / 1000, type: "callback", plugin: filter.plugin.name, context: filter.contextId,
      callback: CALLBACK_NAMES[callback] ?? callback,
    };
    if (callback.endsWith("_body") || callback.endsWith("_data")) event.size = a;
    if (callback.endsWith("_headers") || callback.endsWith("_body") || callback.endsWith("_data")) event.end = b !== 0;
    if (callback.endsWith("_close")) event.peer = PEERS[a] ?? a;
    this.push(event);
    this.depth++;
    return { filter, callback, event, a, b, start, trap: filter.plugin.vm?.failure ?? null, headers, trailers, data };
  }

  protected abstract snapshot(mark: CallMark): Pick<CallMark, "headers" | "trailers" | "data">;

  /** It returned its raw answer (undefined: not exported), or "fail": it trapped, or was not called since its VM had failed. */
  after(mark: CallMark, result: number | undefined | "fail"): void {
    const us = Math.round((performance.now() - mark.start) * 10000) / 10;
    this.depth--;
    const { filter, callback, event } = mark;
    event.us = us;
    const failure = filter.plugin.vm?.failure ?? null;
    if (result === "fail" || failure !== mark.trap) {
      if (failure !== null && failure !== mark.trap) {
        event.trap = { message: failure.message, stack: failure.wasmStack, failOpen: filter.plugin.failOpen };
        this.trace.trap = true;
      } else {
        event.failed = "not called: the plugin's VM failed earlier in this stream (a stream stays with the VM it began on)";
      }
    } else if (result === undefined) {
      event.action = actionName(callback, 0) === null ? null : "not exported (Continue)";
    } else {
      event.action = actionName(callback, result);
      if (event.action !== null) event.raw = result;
    }
    const now = this.snapshot(mark);
    const changes: Record<string, unknown> = {};
    const names = ["request", "response"];
    for (let i = 0; i < 2; i++) {
      if (mark.headers && now.headers) {
        const d = headerDiff(mark.headers[i], now.headers[i]);
        if (d) changes[`${names[i]}Headers`] = d;
      }
      if (mark.trailers && now.trailers && (mark.trailers[i] !== null || now.trailers[i] !== null)) {
        const d = headerDiff(mark.trailers[i] ?? [], now.trailers[i] ?? []);
        if (d) changes[`${names[i]}Trailers`] = d;
      }
    }
    const dataNames = mark.headers ? ["requestBody", "responseBody"] : ["downstreamData", "upstreamData"];
    for (let i = 0; i < 2; i++) {
      const was = mark.data[i], is = now.data[i];
      if (was !== is && !(was.length === 0 && is.length === 0) && !Buffer.from(was.buffer, was.byteOffset, was.length).equals(is)) {
        changes[dataNames[i]] = { before: this.view(was), after: this.view(is) };
      }
    }
    if (Object.keys(changes).length) event.changes = changes;
    this.trace.changedLater();
  }

  // Events the ABI observer and the outbound wrappers report (see inspector.ts).

  log(plugin: string, level: string, message: string): void {
    this.push({ t: this.now(), type: "log", plugin, level, message });
  }

  property(plugin: string, op: "get" | "set", path: string[], value: Uint8Array | null): void {
    this.push({ t: this.now(), type: "property", plugin, op, path: path.join("."), value: value === null ? null : this.view(value, 256) });
  }

  metric(plugin: string, op: "increment" | "record", name: string, value: string, now: string | null): void {
    this.push({ t: this.now(), type: "metric", plugin, op, name, value, now });
  }

  streamCall(plugin: string, call: string, status: number): void {
    this.push({ t: this.now(), type: "call", plugin, call, status });
  }

  callout(plugin: string, kind: "http" | "grpc", request: Record<string, unknown>, body: Uint8Array | null): void {
    this.push({ t: this.now(), type: "callout", plugin, kind, ...request, body: body && body.length ? this.view(body) : null });
  }

  /** An answer to a callout reaches the module (`deliver` runs its callback, timed; what it does meanwhile goes inside). */
  answer(plugin: string, kind: "http" | "grpc", what: Record<string, unknown>, body: Uint8Array | null, deliver: () => void): void {
    const event: TraceEvent = { t: this.now(), type: "answer", plugin, kind, ...what, body: body && body.length ? this.view(body) : null };
    this.push(event);
    const start = performance.now();
    this.depth++;
    try {
      deliver();
    } finally {
      this.depth--;
      event.us = Math.round((performance.now() - start) * 10000) / 10;
      this.trace.changedLater();
    }
  }
}

export class HttpTracer extends StreamTracer {
  private stream!: HttpStream;

  constructor(trace: Trace) {
    super(trace);
  }

  /** The stream is built: its filters report here too. */
  attach(stream: HttpStream): void {
    this.stream = stream;
    for (const f of stream.filters) f.tracer = this;
  }

  before(filter: StreamFilter, callback: string, a: number, b: number): CallMark {
    const f = filter as HttpFilter;
    const s = this.stream;
    return this.mark(filter, callback, a, b, [s.request.headers.slice(), s.response.headers.slice()], [s.request.trailers?.slice() ?? null, s.response.trailers?.slice() ?? null],
      [f.body.request.data, f.body.response.data]);
  }

  protected snapshot(mark: CallMark) {
    const f = mark.filter as HttpFilter;
    const s = this.stream;
    return {
      headers: [s.request.headers, s.response.headers] as [HeaderList, HeaderList],
      trailers: [s.request.trailers, s.response.trailers] as [HeaderList | null, HeaderList | null],
      data: [f.body.request.data, f.body.response.data] as [Uint8Array, Uint8Array],
    };
  }

  /** Headers arrived on a side ("in"), or left the filters ("out"). */
  headers(side: "request" | "response", dir: "in" | "out", headers: HeaderList, end: boolean): void {
    const kept = this.trace.http[side];
    kept[dir] = headers.slice();
    const h = this.trace.http;
    if (side === "request" && dir === "in") {
      for (const [n, v] of headers) {
        if (n === ":method") h.method = v;
        else if (n === ":path") h.path = v;
        else if (n === ":authority") h.authority = v;
      }
    }
    if (side === "response" && dir === "out") {
      const status = headers.find(([n]) => n === ":status");
      if (status) this.trace.status = Number(status[1]);
    }
    this.push({ t: this.now(), type: "headers", side, dir, count: headers.length, end });
  }

  data(side: "request" | "response", dir: "in" | "out", data: Uint8Array, end: boolean): void {
    const kept = this.trace.http[side];
    (dir === "in" ? kept.bodyIn : kept.bodyOut).add(data, this.limit);
    this.push({ t: this.now(), type: "data", side, dir, size: data.length, end });
  }

  trailers(side: "request" | "response", dir: "in" | "out", trailers: HeaderList): void {
    const kept = this.trace.http[side];
    if (dir === "in") kept.trailersIn = trailers.slice();
    else kept.trailersOut = trailers.slice();
    this.push({ t: this.now(), type: "trailers", side, dir, count: trailers.length });
  }

  localReply(filter: HttpFilter | null, reply: LocalReply): void {
    this.trace.localReply = true;
    this.push({
      t: this.now(), type: "localReply", plugin: filter?.plugin.name, from: filter ? "filter" : "host", status: reply.status, details: reply.details,
      headers: reply.headers, body: reply.body.length ? this.view(reply.body) : null, grpcStatus: reply.grpcStatus,
    });
  }

  reset(reason: string): void {
    this.trace.reset = true;
    this.push({ t: this.now(), type: "reset", reason });
  }

  /** The exchange is over (the client has its answer, or went away). */
  end(status: number, details: string): void {
    this.trace.status = status;
    this.trace.details = details;
    this.trace.durationMs = Math.round(this.trace.elapsedMs * 1000) / 1000;
    this.push({ t: this.now(), type: "end", status, details });
  }
}

export class TcpTracer extends StreamTracer {
  private stream!: TcpStream;

  attach(stream: TcpStream): void {
    this.stream = stream;
    for (const f of stream.filters) f.tracer = this;
    const { source, upstream } = stream.info;
    this.trace.tcp.source = `${source.address}:${source.port}`;
    if (upstream) this.trace.tcp.upstream = `${upstream.address}:${upstream.port}`;
    this.push({ t: this.now(), type: "open", source: this.trace.tcp.source });
  }

  before(filter: StreamFilter, callback: string, a: number, b: number): CallMark {
    const { downstream, upstream } = this.stream.flows;
    return this.mark(filter as TcpFilter, callback, a, b, null, null, [downstream.buffer.data, upstream.buffer.data]);
  }

  protected snapshot() {
    const { downstream, upstream } = this.stream.flows;
    return { headers: null, trailers: null, data: [downstream.buffer.data, upstream.buffer.data] as [Uint8Array, Uint8Array] };
  }

  /** Bytes from a side ("in"), or passed on to the other side ("out"). */
  data(direction: "downstream" | "upstream", dir: "in" | "out", data: Uint8Array, end: boolean): void {
    if (dir === "in") this.trace.tcp[direction === "downstream" ? "downstreamBytes" : "upstreamBytes"] += data.length;
    const upstream = this.stream.info.upstream;
    if (upstream && !this.trace.tcp.upstream) this.trace.tcp.upstream = `${upstream.address}:${upstream.port}`;
    this.push({ t: this.now(), type: "data", side: direction, dir, size: data.length, end, data: data.length ? this.view(data) : null });
  }

  closed(reason: string, peer: number): void {
    this.trace.tcp.closeReason = reason;
    this.trace.details = reason;
    this.trace.durationMs = Math.round(this.trace.elapsedMs * 1000) / 1000;
    this.push({ t: this.now(), type: "close", reason, peer: PEERS[peer] ?? peer });
  }
}
