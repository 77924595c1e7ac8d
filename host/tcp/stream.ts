// One TCP connection through a chain of wasm network filters, as Envoy runs them: data from
// the client (downstream) passes the filters in order on its way to the upstream, data from
// the upstream passes them in reverse; a filter that answers StopIteration keeps the data
// (more arrives behind it and it sees it all at its next callback) until it continues;
// closes are reported with the side that closed. No I/O: events in, bytes and closes out.
import { nowNanos } from "../abi/time.ts";
import { LogLevel } from "../abi/types.ts";
import { type StreamInfo, newStreamInfo, streamProperty } from "../stream-info.ts";
import type { Plugin } from "../plugin.ts";
import { type Direction, TcpFilter } from "./filter.ts";

export interface TcpSink {
  /** Bytes that passed every filter toward the upstream (end: the client half-closed). */
  toUpstream(data: Uint8Array, end: boolean): void;
  /** Bytes that passed every filter toward the client. */
  toDownstream(data: Uint8Array, end: boolean): void;
  /** The connection must close (a filter closed it, or a filter failed). */
  close(reason: string): void;
}

const PEER_LOCAL = 1, PEER_REMOTE = 2;
const EMPTY = new Uint8Array(0);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export class TcpStream {
  readonly filters: TcpFilter[];
  readonly info: StreamInfo;
  closed: string | null = null;
  private started = false;
  /** Filters that stopped, per direction (their index), and whether the end of stream is held with the data. */
  private readonly stoppedAt: Record<Direction, number> = { downstream: -1, upstream: -1 };
  private readonly heldEnd: Record<Direction, boolean> = { downstream: false, upstream: false };
  /** A filter that stopped in onNewConnection: the client's data waits for it, unseen, until it continues. */
  private heldAtConnect = -1;

  constructor(plugins: Plugin[], private readonly sink: TcpSink, info: Partial<StreamInfo> = {}) {
    for (const plugin of plugins) plugin.prepareStream();
    this.filters = plugins.map((plugin) => new TcpFilter(plugin, this));
    this.info = newStreamInfo(nowNanos(), info);
  }

  /** The filters a direction passes, in order. */
  private order(direction: Direction): TcpFilter[] {
    return direction === "downstream" ? this.filters : [...this.filters].reverse();
  }

  /** A new connection: onNewConnection on every filter (a stop there holds the client's data). */
  open(): void {
    if (this.started) return;
    this.started = true;
    for (const [i, f] of this.filters.entries()) {
      const verdict = f.call("proxy_on_new_connection");
      if (verdict === "stop") {
        this.heldAtConnect = i;
        this.settle(f, verdict);
        return;
      }
      if (!this.settle(f, verdict)) return;
    }
  }

  receive(direction: Direction, data: Uint8Array, end: boolean): void {
    if (this.closed) return;
    this.open();
    this.info[direction === "downstream" ? "requestBodyBytes" : "responseBodyBytes"] += data.length;
    this.run(direction, 0, data, end);
  }

  private run(direction: Direction, from: number, data: Uint8Array, end: boolean): void {
    const order = this.order(direction);
    const callback = direction === "downstream" ? "proxy_on_downstream_data" : "proxy_on_upstream_data";
    for (let i = from; i < order.length; i++) {
      const f = order[i];
      if (f.failed) continue;
      const buffer = f.data[direction];
      buffer.data = concat(buffer.data, data);
      if (direction === "downstream" && this.heldAtConnect === i) {
        this.heldEnd.downstream ||= end;
        return;
      }
      const verdict = f.call(callback, buffer.data.length, end ? 1 : 0);
      if (verdict === "stop") {
        this.stoppedAt[direction] = i;
        this.heldEnd[direction] = end;
        this.settle(f, verdict);
        return;
      }
      data = buffer.data;
      buffer.data = EMPTY;
      if (this.stoppedAt[direction] === i) this.stoppedAt[direction] = -1;
      if (!this.settle(f, verdict)) return;
    }
    if (direction === "downstream") this.sink.toUpstream(data, end);
    else this.sink.toDownstream(data, end);
  }

  /** A filter called continue_stream: what it held goes on. */
  resume(filter: TcpFilter, direction: Direction): void {
    const i = this.order(direction).indexOf(filter);
    if (i < 0 || this.closed) return;
    if (direction === "downstream" && this.heldAtConnect === i) {
      // Reading resumes: the filter now sees what arrived while it held the connection.
      this.heldAtConnect = -1;
      const data = filter.data.downstream.data, end = this.heldEnd.downstream;
      filter.data.downstream.data = EMPTY;
      this.heldEnd.downstream = false;
      if (data.length || end) this.run("downstream", i, data, end);
      return;
    }
    if (this.stoppedAt[direction] !== i) return;
    this.stoppedAt[direction] = -1;
    const data = filter.data[direction].data;
    filter.data[direction].data = EMPTY;
    const end = this.heldEnd[direction];
    this.heldEnd[direction] = false;
    if (data.length || end) this.run(direction, i + 1, data, end);
  }

  /** After a callback: deferred actions run; a failure closes the connection unless the plugin is fail-open. */
  private settle(f: TcpFilter, verdict: string): boolean {
    if (verdict === "fail") {
      if (f.plugin.failOpen) {
        f.plugin.log(LogLevel.Warn, `plugin failed; fail_open lets connection ${f.contextId} pass without it`);
        return !this.closed;
      }
      this.close("downstream", "wasm_fail_stream");
      return false;
    }
    f.plugin.runDeferred();
    return !this.closed;
  }

  /** Closes the connection (both sides): the filters hear of it, then the sink closes it. */
  close(by: Direction, reason: string): void {
    if (this.closed) return;
    this.closed = reason;
    this.sink.close(reason);
    this.closedBy(by, PEER_LOCAL);
  }

  /** The client or the upstream closed: the filters hear it (peer Remote), and the connection ends. */
  peerClosed(side: Direction): void {
    if (this.closed) return;
    this.closed = `${side} closed`;
    this.closedBy(side, PEER_REMOTE);
  }

  private closedBy(side: Direction, peer: number): void {
    const name = side === "downstream" ? "proxy_on_downstream_connection_close" : "proxy_on_upstream_connection_close";
    for (const f of this.filters) if (f.created && !f.failed) f.call(name, peer);
    for (const f of this.filters) f.finish();
  }

  property(path: string[]): Uint8Array | undefined {
    return streamProperty(path, [], [], this.info, nowNanos());
  }
}
