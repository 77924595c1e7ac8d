// One TCP connection through a chain of wasm network filters, with Envoy's network filter
// manager semantics (no I/O here: events in, bytes and closes out through a TcpSink):
//
// - The connection has one read buffer (client → upstream) and one write buffer (upstream →
//   client), and every filter sees the whole of it: bytes stay in it until they have passed
//   every filter. A filter that answers StopIteration leaves them there; more bytes append,
//   and the next read runs the filters again from the first (each sees the whole buffer),
//   while continue_stream(Downstream) goes on from the filter after the one that stopped.
// - onNewConnection runs once per filter, as iteration first reaches it (a stop there keeps
//   the filters after it, and the upstream connection, waiting); a filter whose context was
//   never created is passed over, as Envoy does.
// - Upstream bytes pass the filters in reverse order, from the first each time; Envoy has no
//   continue for that direction (continue_stream(Upstream) is Unimplemented), so bytes a
//   filter holds there move on with the next upstream bytes it lets through.
// - Ends: the client's FIN passes the read filters to the upstream and the upstream's FIN
//   passes the write filters to the client (half-close); a filter seeing the upstream's end
//   hears onUpstreamConnectionClose(Unknown). The connection closes when both directions have
//   ended (Remote when the client's FIN came last, Local when ours did), when the client
//   goes away (Remote), or when the proxy closes it: a filter, a failure, the upstream gone
//   (Local). Every filter with a context then hears onDownstreamConnectionClose, and ends.
import { ByteBuffer } from "../byte-buffer.ts";
import { type Clock, wallClock } from "../clock.ts";
import { LogLevel, PeerType } from "../abi/types.ts";
import { type StreamInfo, newStreamInfo, streamProperty } from "../stream-info.ts";
import type { Plugin } from "../plugin.ts";
import { type Direction, TcpFilter } from "./filter.ts";
import type { TcpTracer } from "../inspect/trace.ts";

export interface TcpSink {
  /** Iteration reached the end of the chain for the first time (tcp_proxy's onNewConnection): connect upstream. */
  connectUpstream(): void;
  /** Bytes that passed every filter toward the upstream (end: the client half-closed). */
  toUpstream(data: Uint8Array, end: boolean): void;
  /** Bytes that passed every filter toward the client (end: the upstream half-closed). */
  toDownstream(data: Uint8Array, end: boolean): void;
  /** The connection is over: flush what was written to the client, then close both sides. */
  close(reason: string): void;
}

/** One direction's buffer, its end, and whether that end has gone through. */
class Flow {
  readonly buffer = new ByteBuffer();
  /** The sending side's FIN arrived. */
  ended = false;
  /** The FIN passed every filter and was handed on. */
  endPassed = false;

  get pending(): boolean {
    return this.buffer.length > 0 || (this.ended && !this.endPassed);
  }
}

export class TcpStream {
  readonly filters: TcpFilter[];
  readonly info: StreamInfo;
  /** The plugins' clock (a proxy's are all the wall clock; a test's may be manual). */
  private readonly clock: Clock;
  /** Why the connection closed, or null while it is open. */
  closed: string | null = null;
  /** The peer type the filters were told with the close (Local: the proxy closed it; Remote: the client). */
  closedBy: PeerType | null = null;
  /** Client → upstream (the read buffer) and upstream → client (the write buffer). */
  readonly flows: Record<Direction, Flow> = { downstream: new Flow(), upstream: new Flow() };
  private readonly initialized: boolean[];
  private upstreamStarted = false;
  /** The filter whose StopIteration holds the read buffer (continue_stream goes on after it), or -1. */
  private stoppedAt = -1;
  /** The last of the two FINs, for the close type when both directions have ended. */
  private lastEnd: Direction | null = null;

  /** `tracer`: the inspector's (null when it is off: nothing is recorded or allocated). */
  constructor(plugins: Plugin[], private readonly sink: TcpSink, info: Partial<StreamInfo> = {}, readonly tracer: TcpTracer | null = null) {
    for (const plugin of plugins) plugin.prepareStream();
    this.filters = plugins.map((plugin) => new TcpFilter(plugin, this));
    this.initialized = plugins.map(() => false);
    this.clock = plugins[0]?.clock ?? wallClock;
    this.info = newStreamInfo(this.clock.nowNanos(), info);
    if (tracer !== null) tracer.attach(this);
  }

  /** The connection was accepted: onNewConnection on each filter, in order, until one stops. */
  open(): void {
    if (!this.initialized[0] && !this.closed) this.continueReading(0);
  }

  /** Bytes (and perhaps the FIN) from the client or the upstream. */
  receive(direction: Direction, data: Uint8Array, end: boolean): void {
    const flow = this.flows[direction];
    if (this.closed || flow.ended) return;
    flow.buffer.append(data);
    if (this.tracer !== null) this.tracer.data(direction, "in", data, end);
    this.info[direction === "downstream" ? "requestBodyBytes" : "responseBodyBytes"] += data.length;
    if (end) {
      flow.ended = true;
      if (direction === "downstream") this.lastEnd = "downstream";
    }
    if (direction === "downstream") this.continueReading(0);
    else this.write();
  }

  /** The client went away without a FIN, or reset: the connection is over (Remote). */
  downstreamReset(): void {
    this.end("downstream reset", PeerType.Remote);
  }

  /** The proxy closes the connection (a filter, a failure, the upstream gone): Local. */
  close(reason: string): void {
    this.end(reason, PeerType.Local);
  }

  /** A filter called continue_stream(Downstream): iteration goes on after it, if it is the one holding the data. */
  resume(filter: TcpFilter): void {
    const i = this.filters.indexOf(filter);
    if (this.closed || i < 0 || i !== this.stoppedAt) return;
    this.stoppedAt = -1;
    this.continueReading(i + 1);
  }

  /** The filter's VM failed in another callback: a connection held at it closes now, or goes on without it under fail_open. */
  vmFailed(filter: TcpFilter): void {
    const i = this.filters.indexOf(filter);
    if (this.closed || i < 0 || i !== this.stoppedAt || filter.failed) return;
    filter.failed = true;
    this.stoppedAt = -1;
    if (this.settle(filter, "fail")) this.continueReading(i + 1);
  }

  /** A read filter's callback returned: a stop holds the read buffer at filter i. */
  private step(i: number, verdict: "continue" | "stop" | "fail"): boolean {
    if (verdict === "stop") this.stoppedAt = i;
    return this.settle(this.filters[i], verdict);
  }

  private continueReading(from: number): void {
    const read = this.flows.downstream;
    for (let i = from; i < this.filters.length; i++) {
      const f = this.filters[i];
      if (!this.initialized[i]) {
        this.initialized[i] = true;
        if (!this.step(i, f.call("proxy_on_new_connection"))) return;
      }
      if (read.pending && f.created && !f.failed) {
        if (!this.step(i, f.call("proxy_on_downstream_data", read.buffer.length, read.ended ? 1 : 0))) return;
      }
    }
    if (!this.upstreamStarted) {
      this.upstreamStarted = true;
      this.sink.connectUpstream();
      if (this.closed) return;
    }
    if (!read.pending) return;
    const data = read.buffer.take();
    read.endPassed = read.ended;
    if (this.tracer !== null) this.tracer.data("downstream", "out", data, read.ended);
    this.sink.toUpstream(data, read.ended);
    this.closeIfBothEnded();
  }

  private write(): void {
    const write = this.flows.upstream;
    for (let i = this.filters.length - 1; i >= 0; i--) {
      const f = this.filters[i];
      if (!f.created || f.failed) continue;
      let verdict = f.call("proxy_on_upstream_data", write.buffer.length, write.ended ? 1 : 0);
      // Envoy tells of the upstream's end here: it does not watch the upstream connection itself.
      if (write.ended && verdict !== "fail" && f.call("proxy_on_upstream_connection_close", PeerType.Unknown) === "fail") verdict = "fail";
      if (!this.settle(f, verdict)) return;
    }
    if (!write.pending) return;
    const data = write.buffer.take();
    if (write.ended) {
      write.endPassed = true;
      this.lastEnd = "upstream";
    }
    if (this.tracer !== null) this.tracer.data("upstream", "out", data, write.ended);
    this.sink.toDownstream(data, write.ended);
    this.closeIfBothEnded();
  }

  /** With half-close, the connection is over once the FIN has gone through both ways. */
  private closeIfBothEnded(): void {
    const { downstream, upstream } = this.flows;
    if (!downstream.endPassed || !upstream.endPassed || this.closed) return;
    // The client's FIN read last: a remote close; ours written last: a local one (as Envoy reports it).
    this.end("both sides ended", this.lastEnd === "downstream" ? PeerType.Remote : PeerType.Local);
  }

  /** After a callback: what it deferred runs; whether iteration goes on. A trap closes the connection unless the plugin is fail-open. */
  private settle(f: TcpFilter, verdict: "continue" | "stop" | "fail"): boolean {
    if (verdict === "fail") {
      if (!f.plugin.failOpen) {
        this.close("wasm_fail_stream");
        return false;
      }
      f.plugin.log(LogLevel.Warn, `plugin failed; fail_open lets connection ${this.info.connectionId} pass without it`);
      return !this.closed;
    }
    f.plugin.runDeferred();
    return !this.closed && verdict === "continue";
  }

  private end(reason: string, peer: PeerType): void {
    if (this.closed) return;
    this.closed = reason;
    this.closedBy = peer;
    if (this.tracer !== null) this.tracer.closed(reason, peer);
    this.sink.close(reason);
    for (const f of this.filters) if (f.created && !f.failed) f.call("proxy_on_downstream_connection_close", peer);
    for (const f of this.filters) f.finish();
  }

  /** The host's own error while acting for this connection: it closes. */
  internalError(error: Error): void {
    this.close(`internal_error: ${error.message}`);
  }

  property(path: string[]): Uint8Array | undefined {
    return streamProperty(path, [], [], this.info, this.clock.nowNanos());
  }
}
