// One HTTP request/response exchange through a chain of wasm filters, with Envoy's filter
// manager semantics: the request flows through the filters in order, the response in
// reverse; a filter that stops holds everything behind it until it continues; buffered
// body data is shown whole to the filter that buffers it; a local reply answers at once.
// The stream does no I/O: events come in through receive*(), what passes the filters goes
// out through a sink (the harness records it, the proxy writes it to sockets).
import type { LocalReply } from "../abi/host.ts";
import { DataAction, HeadersAction, LogLevel, TrailersAction, type HeaderList } from "../abi/types.ts";
import type { Plugin } from "../plugin.ts";
import { HttpFilter, type Side } from "./filter.ts";
import { type StreamInfo, newStreamInfo, streamProperty } from "../stream-info.ts";
import { type Clock, wallClock } from "../clock.ts";
import type { HttpTracer } from "../inspect/trace.ts";
import { ByteBuffer } from "../byte-buffer.ts";

/** Where a side's output goes: upstream for the request, to the client for the response. */
export interface SideSink {
  headers(headers: HeaderList, endOfStream: boolean): void;
  data(data: Uint8Array, endOfStream: boolean): void;
  trailers(trailers: HeaderList): void;
}

export interface HttpStreamSink {
  request: SideSink;
  response: SideSink;
  /** A filter (or, with null, the host) answered locally (informational: the reply also goes out through `response`). */
  localReply?(reply: LocalReply, filter: HttpFilter | null): void;
  /** The stream was reset (closed by a filter, or a local reply after the response had started). */
  reset?(reason: string): void;
  /** The host failed acting for this stream: answer 500 if nothing was sent yet, else drop it (default: reset). */
  internalError?(error: Error): void;
  /** A filter stopped one side (see HttpStream.holds); the proxy watches for streams held too long. */
  held?(): void;
}

/** A side waiting on a filter that stopped it and has not continued. */
export interface Hold {
  side: Side;
  filter: HttpFilter;
  /** The callback whose answer stopped it. */
  callback: string;
  /** The action it returned (the ABI's value). */
  action: number;
  /** When, on the stream's clock (ns). */
  sinceNanos: bigint;
}

const EMPTY = new Uint8Array(0);
/**
 * The pair with its name lowercase; the same pair when it already is (pairs are never mutated
 * in place). V8's toLowerCase answers an already-lowercase string itself, without copying:
 * cheaper than a regular expression's test.
 */
function lowercased(pair: [string, string]): [string, string] {
  const name = pair[0].toLowerCase();
  return name === pair[0] ? pair : [name, pair[1]];
}

function header(list: HeaderList, name: string): string | undefined {
  for (let i = 0; i < list.length; i++) if (list[i][0] === name) return list[i][1];
  return undefined;
}
const text = (value: string | undefined): Uint8Array | undefined => (value === undefined ? undefined : Buffer.from(value));

/** gRPC's status for an HTTP status, as Envoy maps them (Grpc::Utility::httpToGrpcStatus). */
function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400: return 13; // Internal
    case 401: return 16; // Unauthenticated
    case 403: return 7; // PermissionDenied
    case 404: return 12; // Unimplemented
    case 429: case 502: case 503: case 504: return 14; // Unavailable
    default: return 2; // Unknown
  }
}

/** Sets a header in place when present (the first of that name, the others removed), else appends it. */
function setHeader(headers: HeaderList, name: string, value: string): void {
  const at = headers.findIndex(([n]) => n === name);
  if (at < 0) headers.push([name, value]);
  else {
    headers[at] = [name, value];
    for (let i = headers.length - 1; i > at; i--) if (headers[i][0] === name) headers.splice(i, 1);
  }
}

const removeHeader = (headers: HeaderList, name: string) => {
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i][0] === name) headers.splice(i, 1);
};

/** grpc-message's encoding (Envoy's PercentEncoding::encode): bytes outside ' '..'}' and '%' as %XX. */
function percentEncode(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text)) {
    out += byte < 0x20 || byte >= 0x7e || byte === 0x25 ? `%${byte.toString(16).toUpperCase().padStart(2, "0")}` : String.fromCharCode(byte);
  }
  return out;
}

const GRPC_CONTENT_TYPE = /^application\/grpc(?:$|[+;])/;

/**
 * The response a local reply becomes, as Envoy's prepareLocalReply writes it: `:status`, the
 * reply's own headers, then content-length (set in place when the reply gave one) and
 * content-type text/plain when it gave none; a reply without a body carries neither. A gRPC
 * request (content-type application/grpc) gets a trailers-only answer instead: status 200,
 * content-type application/grpc, grpc-status (the reply's, else mapped from the HTTP status)
 * and grpc-message (the body, percent-encoded), no body. A HEAD request gets the headers only.
 */
export function localReplyMessage(reply: LocalReply, requestHeaders: HeaderList): { headers: HeaderList; body: Uint8Array } {
  const headers: HeaderList = [[":status", String(reply.status)], ...reply.headers];
  if (GRPC_CONTENT_TYPE.test(header(requestHeaders, "content-type") ?? "")) {
    setHeader(headers, ":status", "200");
    setHeader(headers, "content-type", "application/grpc");
    if (!headers.some(([n]) => n === "grpc-status")) {
      headers.push(["grpc-status", String(reply.grpcStatus >= 0 && reply.grpcStatus <= 16 ? reply.grpcStatus : httpToGrpcStatus(reply.status))]);
    }
    if (reply.body.length && header(requestHeaders, ":method") !== "HEAD") setHeader(headers, "grpc-message", percentEncode(Buffer.from(reply.body).toString()));
    removeHeader(headers, "content-length");
    return { headers, body: EMPTY };
  }
  if (reply.body.length) {
    setHeader(headers, "content-length", String(reply.body.length));
    if (!headers.some(([n]) => n === "content-type")) headers.push(["content-type", "text/plain"]);
  } else {
    removeHeader(headers, "content-length");
    removeHeader(headers, "content-type");
  }
  return { headers, body: header(requestHeaders, ":method") === "HEAD" ? EMPTY : reply.body };
}

/** What waits at one filter in one direction. */
class Slot {
  headersPassed = false;
  /** Headers stopped here: data and trailers wait, unseen by this filter. */
  stoppedOnHeaders = false;
  /** Data stopped here (buffered in the filter's body buffer, seen). */
  stoppedOnData = false;
  /** Data that came while headers were stopped here (null: none, not even an empty chunk). */
  unseen: ByteBuffer | null = null;
  unseenEnd = false;
  /** The buffered data here includes the end of the stream. */
  bufferedEnd = false;
  trailers: "none" | "unseen" | "seen" = "none";
  /** When this filter last stopped the side, and with what (read only by holds()). */
  stoppedAt = 0n;
  stoppedBy = "";
  stoppedWith = 0;

  /** This filter stopped the side and has not continued. */
  get holding(): boolean {
    return this.stoppedOnHeaders || this.stoppedOnData || this.trailers === "seen";
  }
}

/** `plugin "x" holds the request: its onRequestHeaders returned StopIteration 5.2 s ago and it has not continued`. */
export function describeHold(hold: Hold, nowNanos: bigint): string {
  const actions: Record<string, Record<number, string>> = { Headers: HeadersAction, Body: DataAction, Trailers: TrailersAction };
  const kind = hold.callback.replace(/^on(Request|Response)/, "");
  const action = actions[kind]?.[hold.action] ?? `action ${hold.action}`;
  const seconds = Number(nowNanos - hold.sinceNanos) / 1e9;
  return `plugin "${hold.filter.plugin.name}" holds the ${hold.side}: its ${hold.callback} returned ${action} ${seconds.toFixed(1)} s ago and it has not continued`;
}

const CALLBACKS: Record<Side, Record<"headers" | "body" | "trailers", string>> = {
  request: { headers: "onRequestHeaders", body: "onRequestBody", trailers: "onRequestTrailers" },
  response: { headers: "onResponseHeaders", body: "onResponseBody", trailers: "onResponseTrailers" },
};

export class HttpDirection {
  readonly headers: HeaderList = [];
  trailers: HeaderList | null = null;
  received = false;
  /** Headers have gone out through the sink. */
  sent = false;
  ended = false;
  closed = false;
  private headersEnd = false;
  private readonly slots: Slot[];

  constructor(private readonly stream: HttpStream, readonly side: Side, private readonly order: HttpFilter[], private readonly out: SideSink) {
    this.slots = order.map(() => new Slot());
  }

  trailersFor(_filter: HttpFilter): HeaderList | null {
    return this.trailers;
  }

  /** The filter this side waits on, if one stopped it and has not continued. */
  hold(): Hold | null {
    if (this.closed) return null;
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i];
      if (slot.holding) {
        return { side: this.side, filter: this.order[i], callback: slot.stoppedBy, action: slot.stoppedWith, sinceNanos: slot.stoppedAt };
      }
    }
    return null;
  }

  /** Filter i stopped this side in `callback`: noted for holds(), and the sink told. */
  private stopped(i: number, callback: "headers" | "body" | "trailers"): void {
    const slot = this.slots[i];
    slot.stoppedAt = this.stream.nowNanos();
    slot.stoppedBy = CALLBACKS[this.side][callback];
    slot.stoppedWith = this.order[i].lastAction[this.side] ?? 0;
    this.stream.held();
  }

  receiveHeaders(headers: HeaderList, endOfStream: boolean): void {
    if (this.closed) return;
    this.headers.length = 0;
    for (const pair of headers) this.headers.push(lowercased(pair));
    this.received = true;
    this.headersEnd = endOfStream;
    const tracer = this.stream.tracer;
    if (tracer !== null) tracer.headers(this.side, "in", this.headers, endOfStream);
    this.runHeaders(0);
  }

  receiveData(data: Uint8Array, endOfStream: boolean): void {
    if (this.closed) return;
    this.stream.info[this.side === "request" ? "requestBodyBytes" : "responseBodyBytes"] += data.length;
    const tracer = this.stream.tracer;
    if (tracer !== null) tracer.data(this.side, "in", data, endOfStream);
    this.runData(0, data, endOfStream);
  }

  receiveTrailers(trailers: HeaderList): void {
    if (this.closed) return;
    this.trailers = trailers.map(lowercased);
    const tracer = this.stream.tracer;
    if (tracer !== null) tracer.trailers(this.side, "in", this.trailers);
    this.runTrailers(0);
  }

  /** A filter called continue_stream for this direction. */
  resume(filter: HttpFilter): void {
    const i = this.order.indexOf(filter);
    if (i < 0 || this.closed) return;
    const slot = this.slots[i];
    if (slot.stoppedOnHeaders) {
      slot.stoppedOnHeaders = false;
      slot.headersPassed = true;
      this.runHeaders(i + 1);
      const unseen = slot.unseen;
      slot.unseen = null;
      if (unseen !== null || slot.unseenEnd) this.runData(i, unseen === null ? EMPTY : unseen.take(), slot.unseenEnd);
      if (slot.trailers === "unseen") {
        slot.trailers = "none";
        this.runTrailers(i);
      }
    } else if (slot.stoppedOnData) {
      slot.stoppedOnData = false;
      const buffer = filter.body[this.side];
      const data = buffer.take();
      const trailersSeen = slot.trailers === "seen";
      if (data.length || slot.bufferedEnd) this.runData(i + 1, data, slot.bufferedEnd && !trailersSeen);
      if (slot.trailers !== "none") {
        slot.trailers = "none";
        this.runTrailers(trailersSeen ? i + 1 : i);
      }
    } else if (slot.trailers === "seen") {
      slot.trailers = "none";
      this.runTrailers(i + 1);
    }
  }

  /** Whether this direction is held at `filter` (stopped on headers, data or trailers, waiting for it to continue). */
  heldAt(filter: HttpFilter): boolean {
    const i = this.order.indexOf(filter);
    if (i < 0 || this.closed) return false;
    return this.slots[i].holding;
  }

  /** Whether filter i takes part; a failed one is handled (bypass or fail the stream). */
  private skip(i: number): boolean {
    const f = this.order[i];
    if (this.stream.answeredLocally && this.side === "response" && !f.created) return true;
    return !f.active;
  }

  /** After a callback: a failure is handled; true when processing goes on past this filter. */
  private settle(f: HttpFilter, verdict: string): boolean {
    if (verdict === "fail") return this.stream.filterFailed(f) && !this.closed;
    f.plugin.runDeferred();
    return !this.closed;
  }

  private runHeaders(from: number): void {
    for (let i = from; i < this.order.length; i++) {
      const slot = this.slots[i];
      if (!this.skip(i)) {
        const f = this.order[i];
        const verdict = f.headers(this.side, this.headers.length, this.headersEnd);
        if (verdict === "stop") {
          slot.stoppedOnHeaders = true;
          this.stopped(i, "headers");
        }
        if (!this.settle(f, verdict) || verdict === "stop") return;
      }
      slot.headersPassed = true;
    }
    this.sent = true;
    if (this.headersEnd) this.ended = true;
    const tracer = this.stream.tracer;
    if (tracer !== null) tracer.headers(this.side, "out", this.headers, this.headersEnd);
    this.out.headers(this.headers, this.headersEnd);
  }

  private runData(from: number, data: Uint8Array, endOfStream: boolean): void {
    for (let i = from; i < this.order.length; i++) {
      const slot = this.slots[i];
      if (!slot.headersPassed) {
        const unseen = (slot.unseen ??= new ByteBuffer());
        unseen.append(data);
        slot.unseenEnd ||= endOfStream;
        this.stream.checkBuffered(this.side, unseen.length, this.order[i]);
        return;
      }
      if (this.skip(i)) continue;
      const f = this.order[i];
      if (f.passesData(this.side)) continue;
      // What this filter buffered, then the new chunk (appended, not copied).
      const buffer = f.body[this.side];
      buffer.append(data);
      const verdict = f.data(this.side, buffer.length, endOfStream);
      if (verdict === "continue" || verdict === "fail") {
        data = buffer.take();
        slot.stoppedOnData = false;
      } else {
        if (!slot.stoppedOnData) this.stopped(i, "body");
        slot.stoppedOnData = true;
        slot.bufferedEnd = endOfStream;
        if (verdict === "drop") buffer.take();
        else this.stream.checkBuffered(this.side, buffer.length, f);
      }
      if (!this.settle(f, verdict) || slot.stoppedOnData) return;
    }
    if (endOfStream) this.ended = true;
    const tracer = this.stream.tracer;
    if (tracer !== null) tracer.data(this.side, "out", data, endOfStream);
    this.out.data(data, endOfStream);
  }

  private runTrailers(from: number): void {
    for (let i = from; i < this.order.length; i++) {
      const slot = this.slots[i];
      if (!slot.headersPassed || slot.unseen !== null) {
        slot.trailers = "unseen";
        return;
      }
      if (this.skip(i)) continue;
      const f = this.order[i];
      const verdict = f.trailers(this.side, this.trailers!.length);
      if (verdict === "stop") {
        slot.trailers = "seen";
        this.stopped(i, "trailers");
      }
      if (!this.settle(f, verdict) || verdict === "stop") return;
      if (slot.stoppedOnData) {
        // Continuing at trailers releases what this filter had buffered, then the trailers.
        slot.stoppedOnData = false;
        this.runData(i + 1, f.body[this.side].take(), false);
      }
    }
    this.ended = true;
    const tracer = this.stream.tracer;
    if (tracer !== null) tracer.trailers(this.side, "out", this.trailers!);
    this.out.trailers(this.trailers!);
  }
}

export class HttpStream {
  readonly filters: HttpFilter[];
  readonly request: HttpDirection;
  response: HttpDirection;
  /** The local reply that answered this stream, if one did. */
  localReply: LocalReply | null = null;
  answeredLocally = false;
  resetReason: string | null = null;
  private finished = false;

  /** What the stream's properties are computed from, besides its headers. */
  readonly info: StreamInfo;
  /** The plugins' clock (a proxy's are all the wall clock; a test's may be manual). */
  private readonly clock: Clock;

  /**
   * The inspector's tracer (null when it is off): `tracer` is the one check the stream makes
   * per event, so a proxy without --inspect records and allocates nothing for it.
   */
  constructor(plugins: Plugin[], private readonly sink: HttpStreamSink, readonly bufferLimitBytes = Infinity, info: Partial<StreamInfo> = {},
    readonly tracer: HttpTracer | null = null) {
    this.clock = plugins[0]?.clock ?? wallClock;
    this.info = newStreamInfo(this.clock.nowNanos(), { protocol: "HTTP/1.1", ...info });
    for (const plugin of plugins) plugin.prepareStream();
    this.filters = plugins.map((plugin, i) => new HttpFilter(plugin, this, i));
    this.request = new HttpDirection(this, "request", this.filters, sink.request);
    this.response = new HttpDirection(this, "response", [...this.filters].reverse(), sink.response);
    if (tracer !== null) tracer.attach(this);
  }

  resume(filter: HttpFilter, side: Side): void {
    this[side].resume(filter);
  }

  /** The sides waiting on a filter that stopped them, the request's first. */
  holds(): Hold[] {
    const holds: Hold[] = [];
    if (this.finished) return holds;
    const request = this.request.hold(), response = this.response.hold();
    if (request) holds.push(request);
    if (response) holds.push(response);
    return holds;
  }

  /** @internal a side stopped at a filter */
  held(): void {
    this.sink.held?.();
  }

  nowNanos(): bigint {
    return this.clock.nowNanos();
  }

  /** Whether either direction waits on `filter` to continue. */
  heldAt(filter: HttpFilter): boolean {
    return !this.finished && this.resetReason === null && (this.request.heldAt(filter) || this.response.heldAt(filter));
  }

  /** Data held for filters past the limit: 413 for a request, 500 for a response, as Envoy answers. */
  checkBuffered(side: Side, size: number, filter: HttpFilter): void {
    if (size <= this.bufferLimitBytes) return;
    filter.plugin.log(LogLevel.Warn, `context ${filter.contextId} buffered ${size} bytes of the ${side} body, over the buffer limit of ${this.bufferLimitBytes} bytes (per_connection_buffer_limit_bytes)`);
    if (side === "request") {
      this.sendLocalReply(null, { status: 413, body: new TextEncoder().encode("Payload Too Large"), headers: [], details: "request_payload_too_large", grpcStatus: -1 });
      return;
    }
    if (this.response.sent) {
      // The client has the response headers: Envoy resets the stream, with the same details.
      this.info.responseCodeDetails = "response_payload_too_large";
      this.reset("response_payload_too_large");
      return;
    }
    // As Envoy's responseDataTooLarge: the 500 goes straight to the client, past the filters
    // (the one that buffered would hold it too).
    const reply: LocalReply = { status: 500, body: new TextEncoder().encode("Internal Server Error"), headers: [], details: "response_payload_too_large", grpcStatus: -1 };
    this.answeredLocally = true;
    this.localReply = reply;
    if (this.tracer !== null) this.tracer.localReply(null, reply);
    this.info.responseCodeDetails = reply.details;
    this.request.closed = true;
    this.response.closed = true;
    this.sink.localReply?.(reply, null);
    const { headers, body } = localReplyMessage(reply, this.request.headers);
    this.response.sent = true;
    this.sink.response.headers(headers, false);
    this.sink.response.data(body, true);
  }

  /** A filter's plugin failed (trap, or no VM): true when the stream goes on without it (fail-open). */
  filterFailed(filter: HttpFilter): boolean {
    if (filter.plugin.failOpen) {
      filter.plugin.log(LogLevel.Warn, `plugin failed; fail_open lets context ${filter.contextId} pass without it`);
      return true;
    }
    // A local reply already on its way through the response filters (the 503 of an earlier
    // filter's failure, one that shares its VM) goes on past this one: the client gets it.
    if (this.answeredLocally) return true;
    this.sendLocalReply(filter, { status: 503, body: EMPTY, headers: [], details: "wasm_fail_stream", grpcStatus: 14 });
    return false;
  }

  /** Answers the client now. Before the response started: through the response filters, as Envoy does. */
  sendLocalReply(filter: HttpFilter | null, reply: LocalReply): void {
    if (this.answeredLocally || this.finished) return;
    if (this.response.sent) {
      this.reset(`local reply ${reply.status} from ${filter ? filter.plugin.name : "the host"} after the response had started`);
      return;
    }
    this.answeredLocally = true;
    this.localReply = reply;
    if (this.tracer !== null) this.tracer.localReply(filter, reply);
    this.info.responseCodeDetails = reply.details || "local_reply";
    this.request.closed = true;
    this.sink.localReply?.(reply, filter);
    const { headers, body } = localReplyMessage(reply, this.request.headers);
    // A fresh response direction: an upstream response under way is dropped.
    const response = new HttpDirection(this, "response", [...this.filters].reverse(), this.sink.response);
    this.response.closed = true;
    this.response = response;
    response.receiveHeaders(headers, body.length === 0);
    if (body.length && !response.closed) response.receiveData(body, true);
  }

  /** The host's own error while acting for this stream (a deferred action threw): the stream ends, nothing else goes through it. */
  internalError(error: Error): void {
    if (this.sink.internalError && this.resetReason === null) {
      this.request.closed = true;
      this.response.closed = true;
      this.sink.internalError(error);
    } else this.reset(`internal error: ${error.message}`);
  }

  reset(reason: string): void {
    if (this.resetReason !== null) return;
    this.resetReason = reason;
    if (this.tracer !== null) this.tracer.reset(reason);
    this.request.closed = true;
    this.response.closed = true;
    this.sink.reset?.(reason);
  }

  /** on_done, on_log, on_delete for every filter that took part. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (const f of this.filters) f.finish();
  }

  /** Stream-level properties (request.*, response.*, source.*, connection.*, …). */
  property(path: string[]): Uint8Array | undefined {
    return streamProperty(path, this.request.headers, this.response.headers, this.info, this.clock.nowNanos());
  }

}
