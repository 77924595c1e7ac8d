// A TCP listener: each accepted connection runs through the listener's wasm network filters
// (host/tcp) and then, as Envoy's tcp_proxy does, to an endpoint of one cluster: bytes both
// ways, half-close, backpressure (reading pauses while the other side is slow, or while the
// filters hold more than the buffer limit), connect timeout, idle timeout, and stats under
// Envoy's names (tcp.<prefix>.*, listener.<address>_<port>.*, cluster.<name>.upstream_cx_*).
import { type NetConnectOpts, type Server, type Socket, connect, createServer } from "node:net";
import type { AddressInfo } from "node:net";
import type { Cluster } from "../upstream/cluster.ts";
import { IdTable } from "../id-table.ts";
import type { TcpListenerConfig } from "../config/model.ts";
import type { Direction } from "../tcp/filter.ts";
import { type TcpSink, TcpStream } from "../tcp/stream.ts";
import { connectionInfo } from "./connections.ts";
import { guarded } from "./guard.ts";
import type { FilterChain, Proxy } from "./proxy.ts";
import type { StatScope, StatValue } from "./stats.ts";

const EMPTY = new Uint8Array(0);
/** How long a closing connection may take to flush what was written to the client (Envoy's delayed_close_timeout). */
const DELAYED_CLOSE_MS = 1000;

export class TcpListener {
  private readonly server: Server;
  /** Open connections by id (an IdTable, not a Set: see host/id-table.ts on churn). */
  private readonly open = new IdTable<TcpConnection>();
  /** tcp.<stat_prefix>.…, listener.<address>_<port>.… (once bound), cluster.<name>.…. */
  readonly tcpStats: StatScope;
  listenerStats: StatScope | null = null;
  readonly clusterStats: StatScope;

  /** The listener's wasm filters as new connections take them (a reload replaces its array). */
  constructor(readonly proxy: Proxy, readonly config: TcpListenerConfig, readonly chain: FilterChain, readonly cluster: Cluster) {
    this.tcpStats = proxy.stats.scope(`tcp.${config.statPrefix}`);
    this.clusterStats = proxy.clusterStats.get(cluster.name)!;
    this.server = createServer({ allowHalfOpen: true, highWaterMark: config.bufferLimitBytes }, (socket) => {
      const connection = new TcpConnection(this, socket, () => this.open.delete(connection.id));
      this.open.set(connection.id, connection);
      connection.start();
    });
  }

  /** Binds the listener; its port. */
  async listen(): Promise<number> {
    const { address } = this.config;
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", (e) => reject(new Error(`listener ${this.config.name} cannot listen on ${address.address}:${address.port}: ${e.message}`)));
      this.server.listen(address.port, address.address, () => resolve());
    });
    const port = (this.server.address() as AddressInfo).port;
    this.listenerStats = this.proxy.stats.scope(`listener.${address.address}_${port}`);
    return port;
  }

  /** Stops accepting; open connections go on until they end, or until `graceMs`, then close. */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const grace = setTimeout(() => this.open.forEach((c) => c.shutdown()), graceMs);
    await closed;
    clearTimeout(grace);
  }
}

/** One client connection and, once the filters let it through, its upstream connection. */
class TcpConnection implements TcpSink {
  private readonly stream: TcpStream;
  private upstream: Socket | null = null;
  private upstreamConnected = false;
  /** What passed the filters toward the upstream before it connected. */
  private pending: { data: Uint8Array; end: boolean }[] = [];
  private pendingBytes = 0;
  /** Why each side's reading is paused: the other side's socket is full, or the filters hold too much. */
  private readonly pausedFor: Record<Direction, Set<"peer full" | "held">> = { downstream: new Set(), upstream: new Set() };
  private readonly startedAt = performance.now();
  private connectTimer: NodeJS.Timeout | undefined;
  private upstreamError: NodeJS.ErrnoException | null = null;
  private done = false;
  /** Bytes written to the client, after the filters (what arrived is in the stream's info). */
  private bytesSent = 0;

  constructor(private readonly listener: TcpListener, private readonly client: Socket, private readonly onDone: () => void) {
    const { inspector } = listener.proxy;
    this.stream = new TcpStream(listener.chain.plugins, this, { ...connectionInfo(client), clusterName: listener.config.cluster },
      inspector === null ? null : inspector.tcp(listener.config.name, listener.chain.plugins));
  }

  get id(): number {
    return this.stream.info.connectionId;
  }


  start(): void {
    const { client, stream } = this;
    const { tcpStats, listenerStats } = this.listener;
    tcpStats.counter("downstream_cx_total").add();
    listenerStats!.counter("downstream_cx_total").add();
    listenerStats!.gauge("downstream_cx_active").add(1);
    client.on("data", this.guard((chunk: Buffer) => {
      tcpStats.counter("downstream_cx_rx_bytes_total").add(chunk.length);
      stream.receive("downstream", chunk, false);
      this.watchHeld("downstream");
    }));
    client.on("end", this.guard(() => stream.receive("downstream", EMPTY, true)));
    client.on("drain", this.guard(() => this.resume("upstream", "peer full")));
    client.on("error", () => {}); // the close that follows says what matters
    client.on("close", this.guard(() => {
      stream.downstreamReset(); // nothing when the connection already ended otherwise
      this.finish();
    }));
    const idle = this.listener.config.idleTimeoutMs;
    if (idle > 0) {
      client.setTimeout(idle, this.guard(() => {
        tcpStats.counter("idle_timeout").add();
        stream.close("idle timeout");
      }));
    }
    this.guard(() => stream.open())();
  }

  /** An event handler whose errors (the host's own) close this connection only, logged. */
  private guard<A extends unknown[]>(handler: (...args: A) => void): (...args: A) => void {
    return guarded(handler, (e) => {
      this.listener.proxy.logger.log("error", "tcp", `connection ${this.stream.info.connectionId}: internal error: ${e.stack ?? e.message}`);
      try {
        this.stream.close("internal error");
      } catch {
        this.client.destroy();
        this.upstream?.destroy();
      } finally {
        if (this.client.destroyed) this.finish();
      }
    });
  }

  // TcpSink

  connectUpstream(): void {
    const { cluster } = this.listener;
    const ready = cluster.needsResolving ? cluster.resolve() : Promise.resolve();
    ready.then(this.guard(() => this.dial(cluster)), this.guard((e: Error) => this.stream.close(`upstream name resolution failed: ${e.message}`)));
  }

  toUpstream(data: Uint8Array, end: boolean): void {
    this.resume("downstream", "held");
    if (!this.upstreamConnected) {
      this.pending.push({ data, end });
      this.pendingBytes += data.length;
      if (this.pendingBytes >= this.listener.config.bufferLimitBytes) this.pause("downstream", "peer full");
      return;
    }
    this.send(this.upstream!, "downstream", data, end);
  }

  toDownstream(data: Uint8Array, end: boolean): void {
    this.resume("upstream", "held");
    this.send(this.client, "upstream", data, end);
  }

  close(reason: string): void {
    clearTimeout(this.connectTimer);
    this.upstream?.destroy();
    this.pending = [];
    const { client } = this;
    // Envoy's FlushWrite: what was written to the client goes out, then the connection closes.
    if (client.destroyed || client.writableFinished) client.destroy();
    else {
      client.end(() => client.destroy());
      setTimeout(() => client.destroy(), DELAYED_CLOSE_MS).unref();
    }
    this.log(reason);
  }

  /** The proxy is stopping and the grace period is over. */
  shutdown(): void {
    this.stream.close("proxy shutting down");
  }

  private dial(cluster: Cluster): void {
    if (this.stream.closed) return;
    const endpoint = cluster.nextEndpoint();
    const stats = this.listener.clusterStats;
    this.stream.info.upstream = endpoint;
    stats.counter("upstream_cx_total").add();
    // highWaterMark is passed on to the socket's streams (the types do not list it).
    const options = { host: endpoint.address, port: endpoint.port, allowHalfOpen: true, highWaterMark: this.listener.config.bufferLimitBytes };
    const socket = connect(options as NetConnectOpts);
    this.upstream = socket;
    this.connectTimer = setTimeout(this.guard(() => {
      stats.counter("upstream_cx_connect_timeout").add();
      socket.destroy();
      this.stream.close("upstream connect timeout");
    }), cluster.config.connectTimeoutMs);
    socket.once("connect", this.guard(() => {
      clearTimeout(this.connectTimer);
      this.upstreamConnected = true;
      stats.gauge("upstream_cx_active").add(1);
      for (const { data, end } of this.pending.splice(0)) this.send(socket, "downstream", data, end);
      if (!socket.writableNeedDrain) this.resume("downstream", "peer full");
    }));
    socket.on("data", this.guard((chunk: Buffer) => {
      stats.counter("upstream_cx_rx_bytes_total").add(chunk.length);
      this.stream.receive("upstream", chunk, false);
      this.watchHeld("upstream");
    }));
    socket.on("end", this.guard(() => this.stream.receive("upstream", EMPTY, true)));
    socket.on("drain", this.guard(() => this.resume("downstream", "peer full")));
    socket.on("error", (e) => (this.upstreamError = e));
    socket.on("close", this.guard(() => {
      clearTimeout(this.connectTimer);
      if (this.upstreamConnected) stats.gauge("upstream_cx_active").add(-1);
      if (this.stream.closed) return;
      if (!this.upstreamConnected) {
        stats.counter("upstream_cx_connect_fail").add();
        this.stream.close(`upstream connect failure: ${this.upstreamError?.code ?? this.upstreamError?.message ?? "closed"}`);
      } else {
        // tcp_proxy closes the client's connection when the upstream one goes (after flushing).
        this.stream.close(this.upstreamError ? `upstream reset: ${this.upstreamError.code ?? this.upstreamError.message}` : "upstream connection closed");
      }
    }));
  }

  /** Writes bytes that came from `from` to the other side's socket; a full socket pauses reading from `from`. */
  private send(socket: Socket, from: Direction, data: Uint8Array, end: boolean): void {
    if (socket.destroyed) return;
    if (data.length) {
      if (from === "downstream") this.listener.clusterStats.counter("upstream_cx_tx_bytes_total").add(data.length);
      else {
        this.bytesSent += data.length;
        this.listener.tcpStats.counter("downstream_cx_tx_bytes_total").add(data.length);
      }
      if (!socket.write(data)) this.pause(from, "peer full");
    }
    if (end) socket.end();
  }

  /** The filters hold at least the buffer limit of `side`'s bytes: stop reading it until they let go (Envoy's read-disable). */
  private watchHeld(side: Direction): void {
    if (this.stream.flows[side].buffer.length >= this.listener.config.bufferLimitBytes) this.pause(side, "held");
  }

  private socketOf(side: Direction): Socket | null {
    return side === "downstream" ? this.client : this.upstream;
  }

  /** The flow-control counter for reading `side`: tcp.<prefix>.downstream_… or cluster.<name>.upstream_…. */
  private flowStat(side: Direction, what: "paused" | "resumed"): StatValue {
    const owner = side === "downstream" ? this.listener.tcpStats : this.listener.clusterStats;
    return owner.counter(`${side}_flow_control_${what}_reading_total`);
  }

  private pause(side: Direction, why: "peer full" | "held"): void {
    const reasons = this.pausedFor[side];
    if (reasons.size === 0) {
      this.socketOf(side)?.pause();
      this.flowStat(side, "paused").add();
    }
    reasons.add(why);
  }

  private resume(side: Direction, why: "peer full" | "held"): void {
    const reasons = this.pausedFor[side];
    if (!reasons.delete(why) || reasons.size > 0) return;
    this.socketOf(side)?.resume();
    this.flowStat(side, "resumed").add();
  }

  private log(reason: string): void {
    const logger = this.listener.proxy.logger;
    if (!logger.enabled("info")) return;
    const { source, upstream, requestBodyBytes } = this.stream.info;
    const ms = Math.round(performance.now() - this.startedAt);
    const upstreamHost = upstream ? `${upstream.address}:${upstream.port}` : "-";
    logger.log("info", "access", `TCP ${source.address}:${source.port} ${reason.replace(/ /g, "_")} ${requestBodyBytes} ${this.bytesSent} ${ms} "${this.listener.cluster.name}" "${upstreamHost}"`);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.listener.listenerStats!.gauge("downstream_cx_active").add(-1);
    this.onDone();
  }
}
