// The in-process harness: load a Proxy-Wasm module as a plugin and drive HTTP streams through
// it from a test, reading back what the filter did — the actions it returned, the headers,
// bodies and trailers after it, any local reply, and its logs. No sockets: the same stream
// state machine the proxy uses, with recording sinks.
import type { LocalReply } from "../abi/host.ts";
import { type HeaderList, type LogLevelName, PeerType } from "../abi/types.ts";
import { type HttpDirection, HttpStream, describeHold, type HttpStreamSink, type SideSink } from "../http/stream.ts";
import { TcpStream, type TcpSink } from "../tcp/stream.ts";
import { Plugin, type LogEntry, type PluginConfig, readModule } from "../plugin.ts";
import type { CalloutResult, CalloutSender, GrpcEvents, GrpcHandle, GrpcSender } from "../upstream/outbound.ts";
import type { GrpcRequest, HttpCallRequest } from "../abi/host.ts";
import { type Endpoint, LOOPBACK, type StreamInfo } from "../stream-info.ts";
import { type Clock, ManualClock, wallClock } from "../clock.ts";

export { HeadersAction, DataAction, TrailersAction, LogLevel } from "../abi/types.ts";
export type { HeaderList, LogLevelName } from "../abi/types.ts";
export type { LogEntry, PluginConfig } from "../plugin.ts";
export { ModuleError } from "../vm/vm.ts";
export { PluginStartError } from "../plugin.ts";
export type { MetricView } from "../state/metrics.ts";
export { SharedState } from "../state/shared.ts";
export { ManualClock } from "../clock.ts";
export type { Clock } from "../clock.ts";
import { SharedState } from "../state/shared.ts";
import type { MetricView } from "../state/metrics.ts";

export interface HarnessOptions extends Omit<PluginConfig, "logLevel" | "name" | "callouts" | "grpc" | "clock"> {
  /** The plugin's name (Envoy's `config.name`; the plugin_name property); default the root id, else "plugin". */
  pluginName?: string;
  /** The host's log level; default "trace", so a test sees every line. */
  logLevel?: LogLevelName;
  /** The cluster names callouts may use; default: any name (a test answers every callout itself). */
  clusters?: string[];
  /** What each stream's properties see of its connection (source, destination, connection id, …); h.http() and h.tcp() can override it per stream. */
  streamInfo?: Partial<StreamInfo>;
  /**
   * The plugin's time. "manual" (the default): a ManualClock starting at the wall clock's now,
   * that stands still until h.advance(ms), which runs the ticks falling due; harnesses given
   * the same `shared` share it (advancing one runs the ticks of all). "real": the wall clock,
   * ticks only when the test calls h.tick(). Or a ManualClock of the test's own, shared by
   * whichever harnesses it is given to.
   */
  clock?: "manual" | "real" | ManualClock;
  /**
   * Runs the plugin in the VM of another harness's plugin, as Envoy runs the filters of one
   * vm_id, VM configuration and code in one VM: the two share the module's globals and memory
   * (each has its own root context, configuration and logs), and a trap in either fails both.
   * The module, vmId and vmConfiguration must be the other's; shared data and the clock are
   * the other's unless given.
   */
  vmOf?: Harness;
}

/** What one stream's connection looks like, over the harness's streamInfo (an address alone keeps the port, and the reverse). */
export interface ConnectionOptions {
  /** The client: source.address, source.port. An IPv6 address is given bare ("::1"), and reads back as "[::1]:port". */
  source?: Partial<Endpoint>;
  /** Where the client connected: destination.address, destination.port. */
  destination?: Partial<Endpoint>;
  /** Whether the client presented a certificate the listener verified (connection.mtls). */
  mtls?: boolean;
  /** connection.id; default: a new id per stream. */
  connectionId?: number;
}

export type Headers = Record<string, string> | HeaderList;

/** What a send method answers: the action the filter returned, or why it was not called ("not called: …"). */
export type Sent = number | `not called: ${string}`;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const toList = (headers: Headers): HeaderList => (Array.isArray(headers) ? headers : Object.entries(headers));
const toBytes = (data: string | Uint8Array) => (typeof data === "string" ? encoder.encode(data) : data);

/** `over` on `base` field by field; an address may come bracketed ("[::1]"), the properties add the brackets. */
const endpoint = (base: Endpoint | undefined, over: Partial<Endpoint>): Endpoint => ({
  address: (over.address ?? base?.address ?? LOOPBACK.address).replace(/^\[(.*)\]$/, "$1"),
  port: over.port ?? base?.port ?? LOOPBACK.port,
});

// Harnesses given one SharedState stand for VMs of one proxy, and a proxy's VMs read one time:
// their default manual clock is one. (With a clock each, a VM loaded later would be ahead of
// the others, and one reading a time another stored would see time run backwards.)
const sharedClocks = new WeakMap<SharedState, ManualClock>();

/** The plugin's clock as the harness options choose it. */
function harnessClock(option: HarnessOptions["clock"], shared: SharedState | undefined): Clock {
  if (option === "real") return wallClock;
  if (option instanceof ManualClock) return option;
  if (option !== undefined && option !== "manual") throw new Error(`clock: expected "manual", "real" or a ManualClock, got ${String(option)}`);
  if (!shared) return new ManualClock();
  let clock = sharedClocks.get(shared);
  if (!clock) sharedClocks.set(shared, (clock = new ManualClock()));
  return clock;
}

/** An HTTP callout the filter made, waiting for the test to answer it. */
export class PendingHttpCall {
  answered = false;
  constructor(readonly request: HttpCallRequest, private readonly done: (result: CalloutResult) => void) {}

  get cluster(): string {
    return this.request.cluster;
  }
  header(name: string): string | undefined {
    return this.request.headers.find(([n]) => n === name.toLowerCase())?.[1];
  }
  get bodyText(): string {
    return decoder.decode(this.request.body);
  }

  /** Answers the callout: the filter's callback runs now, with this response. */
  respond(status: number, headers: Headers = {}, body: string | Uint8Array = "", trailers: Headers = {}): void {
    this.finish({ response: { headers: [[":status", String(status)], ...toList(headers)], body: toBytes(body), trailers: toList(trailers) } });
  }

  /** Fails the callout (reset, timeout): the callback runs with no response. */
  fail(reason = "reset"): void {
    this.finish({ failure: reason });
  }

  private finish(result: CalloutResult): void {
    if (this.answered) throw new Error(`callout to ${this.cluster} was already answered`);
    this.answered = true;
    this.done(result);
  }
}

/** Records callouts for the test to answer; `clusters` limits which names exist (default: any). */
class CalloutRecorder implements CalloutSender {
  readonly calls: PendingHttpCall[] = [];
  constructor(private readonly clusters: string[] | undefined) {}
  hasCluster(cluster: string): boolean {
    return this.clusters === undefined || this.clusters.includes(cluster);
  }
  send(request: HttpCallRequest, done: (result: CalloutResult) => void): void {
    this.calls.push(new PendingHttpCall(request, done));
  }
}

/**
 * A gRPC call or stream the filter opened: answer it as the service would. As in Envoy, a
 * unary call's filter hears only the outcome: respond() (a message, then OK) gives
 * onGrpcReceive alone; finish() with another status (or OK with no message: Internal) gives
 * onGrpcClose alone; its metadata is not delivered. A stream hears every event.
 */
export class PendingGrpcCall implements GrpcHandle {
  /** Messages the filter sent: the call's one, or what it sent on the stream. */
  readonly sent: Uint8Array[] = [];
  halfClosed = false;
  cancelled = false;
  closed = false;

  constructor(readonly request: GrpcRequest, private readonly events: GrpcEvents) {
    if (request.message) this.sent.push(request.message);
  }

  get cluster(): string {
    return this.request.cluster;
  }
  get service(): string {
    return this.request.service;
  }
  get method(): string {
    return this.request.method;
  }
  metadata(name: string): string | undefined {
    return this.request.metadata.find(([n]) => n === name.toLowerCase())?.[1];
  }

  // GrpcHandle: what the filter does to the call.
  send(message: Uint8Array, endStream: boolean): void {
    this.sent.push(message);
    if (endStream) this.halfClosed = true;
  }
  close(): void {
    this.halfClosed = true;
  }
  cancel(): void {
    this.cancelled = true;
  }

  // What the service does: each runs the filter's callback now.
  sendInitialMetadata(metadata: Headers): void {
    this.events.initialMetadata(toList(metadata));
  }
  sendMessage(message: string | Uint8Array): void {
    this.events.message(toBytes(message));
  }
  sendTrailingMetadata(metadata: Headers): void {
    this.events.trailingMetadata(toList(metadata));
  }
  /** Ends the call with a gRPC status (0 OK) and message. */
  finish(status = 0, message = ""): void {
    if (this.closed) throw new Error(`gRPC call ${this.service}/${this.method} was already closed`);
    this.closed = true;
    this.events.close(status, message);
  }
  /** A unary answer: the message, then status OK. */
  respond(message: string | Uint8Array): void {
    this.sendMessage(message);
    this.finish(0);
  }
}

class GrpcRecorder implements GrpcSender {
  readonly calls: PendingGrpcCall[] = [];
  constructor(private readonly clusters: string[] | undefined) {}
  hasCluster(cluster: string): boolean {
    return this.clusters === undefined || this.clusters.includes(cluster);
  }
  open(request: GrpcRequest, events: GrpcEvents): GrpcHandle {
    const call = new PendingGrpcCall(request, events);
    this.calls.push(call);
    return call;
  }
}

export class Harness {
  private constructor(readonly plugin: Plugin, readonly logs: LogEntry[], private readonly recorder: CalloutRecorder,
    /** @internal */ readonly streamInfo: Partial<StreamInfo>, private readonly grpc: GrpcRecorder) {}

  /** The gRPC calls and streams the filter opened, in order. */
  get grpcCalls(): PendingGrpcCall[] {
    return this.grpc.calls;
  }

  /** The HTTP callouts the filter made, in order (answer them with respond() or fail()). */
  get httpCalls(): PendingHttpCall[] {
    return this.recorder.calls;
  }

  /**
   * Loads a module as a WasmService, as Envoy's bootstrap_extensions (envoy.bootstrap.wasm)
   * runs one: a root context with no streams, for background work (ticks, callouts, shared
   * data, queues). Share its state with the filters it serves as Envoy shares it, by vm_id:
   * load them with `shared: service.shared` (shared data and queues are scoped by vmId).
   * tick(), httpCalls, grpcCalls and logs work as for a filter; http() and tcp() refuse.
   */
  static async service(source: string | Uint8Array, options: HarnessOptions = {}): Promise<Harness> {
    const harness = await Harness.load(source, options);
    harness.isService = true;
    return harness;
  }

  /** Loaded by Harness.service: no streams. */
  private isService = false;

  /** The shared data and queues this plugin uses: hand it to another harness (`shared` option) to share them. */
  get shared(): SharedState {
    return this.plugin.shared;
  }

  /** Loads a module (a path or its bytes) and starts it; rejects with the cause when it can't. */
  static async load(source: string | Uint8Array, options: HarnessOptions = {}): Promise<Harness> {
    const logs: LogEntry[] = [];
    const recorder = new CalloutRecorder(options.clusters);
    const grpc = new GrpcRecorder(options.clusters);
    const { pluginName, clusters: _, streamInfo: __, clock, vmOf, ...config } = options;
    const code = await readModule(source);
    if (vmOf) {
      vmOf.refuseSharing(code, config);
      vmOf.plugin.prepareStream(); // a VM that failed is re-created first, so the plugin joins it rather than starting apart
    }
    const shared = options.shared ?? vmOf?.shared;
    const plugin = await Plugin.load(code, {
      ...config, modulePath: typeof source === "string" ? source : config.modulePath, name: pluginName, logLevel: options.logLevel ?? "trace",
      callouts: recorder, grpc, shared, clock: clock === undefined && vmOf ? vmOf.clock : harnessClock(clock, shared),
    }, (e) => logs.push(e), vmOf?.plugin.group ?? null);
    const harness = new Harness(plugin, logs, recorder, options.streamInfo ?? {}, grpc);
    harness.code = code;
    return harness;
  }

  /** The module's bytes (vmOf compares them). */
  private code: Uint8Array = new Uint8Array(0);

  /** Throws unless a plugin of `code` and `config` may run in this harness's VM (Envoy's vm key: vm_id, VM configuration, code). */
  private refuseSharing(code: Uint8Array, config: Omit<HarnessOptions, "vmOf">): void {
    const differs = (a: string | Uint8Array | undefined, b: Uint8Array) => !Buffer.from(typeof a === "string" ? a : a ?? []).equals(b);
    const why = differs(code, this.code) ? "its module is another"
      : (config.vmId ?? "") !== this.plugin.vmId ? `its vmId "${config.vmId ?? ""}" is not "${this.plugin.vmId}"`
      : differs(config.vmConfiguration, this.plugin.group.vmConfiguration) ? "its vmConfiguration is another"
      : null;
    if (why !== null) throw new Error(`vmOf: plugins share a VM only with the same module, vmId and vmConfiguration (as Envoy keys its VMs); ${why}`);
  }

  /** Opens a new TCP connection through the plugin (onNewConnection runs at connect() or the first data). */
  tcp(connection: ConnectionOptions = {}): TestTcpStream {
    this.refuseStreams();
    return new TestTcpStream(this, this.connection(connection));
  }

  private refuseStreams(): void {
    if (this.isService) throw new Error("a WasmService (Harness.service) has no streams: load the filter with Harness.load and shared: service.shared");
  }

  /** Opens a new HTTP stream through the plugin, on a connection of its own. */
  http(connection: ConnectionOptions = {}): TestHttpStream {
    this.refuseStreams();
    return new TestHttpStream(this, this.connection(connection));
  }

  /** A new stream's connection: a new id, the harness's streamInfo, then what this stream says. */
  private connection(options: ConnectionOptions): Partial<StreamInfo> {
    const info: Partial<StreamInfo> = { connectionId: ++streamCount, ...this.streamInfo };
    if (options.connectionId !== undefined) info.connectionId = options.connectionId;
    if (options.mtls !== undefined) info.mtls = options.mtls;
    if (options.source) info.source = endpoint(info.source, options.source);
    if (options.destination) info.destination = endpoint(info.destination, options.destination);
    return info;
  }

  /** The module's linear memory, in bytes. It only grows: a filter that leaks shows it growing over many streams. */
  get memorySize(): number {
    return this.plugin.vm.memoryBytes.byteLength;
  }

  /** The time the plugin sees (h.clock.nowNanos()). */
  get clock(): Clock {
    return this.plugin.clock;
  }

  /**
   * Moves the plugin's clock forward by `ms` (the manual clock, the default): onTick runs each
   * time its period falls due on the way, in order, with the clock at that instant; afterwards
   * time.nowNanos(), request.time and request.duration read the new time.
   */
  advance(ms: number): void {
    const clock = this.plugin.clock;
    if (!(clock instanceof ManualClock)) throw new Error(`advance() needs the manual clock; this harness runs on the wall clock (clock: "real")`);
    clock.advance(ms);
  }

  /** The messages logged (at `level`, or at any level). */
  logMessages(level?: LogLevelName): string[] {
    return this.logs.filter((l) => level === undefined || l.level === level).map((l) => l.message);
  }

  /** A metric the filter defined, by its name: a counter's or gauge's value, or a histogram's summary. */
  metric(name: string): MetricView | undefined {
    return this.plugin.metrics.view(name);
  }

  /** Runs the root context's onTick now, without moving the clock (advance() runs the ticks that fall due). */
  tick(): void {
    this.plugin.tick();
  }

  /** The tick period the filter asked for, in ms (0: none). */
  get tickPeriodMs(): number {
    return this.plugin.tickPeriodMs;
  }

  /** The names of every metric the filter defined. */
  get metricNames(): string[] {
    return this.plugin.metrics.names();
  }
}

/** Records what goes out of one side of the stream into its ObservedMessage (a class: no closures per stream). */
class RecordingSink implements SideSink {
  constructor(private readonly message: ObservedMessage) {}
  headers(_headers: HeaderList, endOfStream: boolean): void {
    this.message.headersSent = true;
    this.message.ended ||= endOfStream;
  }
  data(data: Uint8Array, endOfStream: boolean): void {
    this.message.record(data.slice(), endOfStream);
  }
  trailers(): void {
    this.message.ended = true;
  }
}

/** One side of a stream as the harness observed it. */
export class ObservedMessage {
  /** @internal */
  readonly sink: SideSink = new RecordingSink(this);
  private chunks: Uint8Array[] = [];
  private bodyCache: Uint8Array | null = null;
  /** The end of stream has gone out. */
  ended = false;
  /** Headers have gone out (upstream for the request, to the client for the response). */
  headersSent = false;
  /** @internal the stream whose `side` this shows */
  stream: HttpStream | null = null;

  constructor(private readonly side: "request" | "response") {}

  private get direction(): HttpDirection | undefined {
    return this.stream?.[this.side];
  }

  /** The header map as it stands after the filter. */
  get headers(): HeaderList {
    return this.direction?.headers ?? [];
  }
  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    for (const [n, v] of this.headers) if (n === lower) return v;
    return undefined;
  }
  /** The body bytes that have passed the filter so far. */
  get body(): Uint8Array {
    if (this.bodyCache === null) {
      const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of this.chunks) {
        out.set(c, at);
        at += c.length;
      }
      this.bodyCache = out;
    }
    return this.bodyCache;
  }
  get bodyText(): string {
    return decoder.decode(this.body);
  }
  get trailers(): HeaderList {
    return this.direction?.trailers ?? [];
  }

  /** @internal a body chunk went out */
  record(chunk: Uint8Array, endOfStream: boolean): void {
    this.chunks.push(chunk);
    this.bodyCache = null;
    this.ended ||= endOfStream;
  }

  /** @internal a local reply replaces any response under way */
  clear(): void {
    this.chunks = [];
    this.bodyCache = null;
    this.ended = false;
    this.headersSent = false;
  }
}

export interface ObservedLocalReply extends LocalReply {
  bodyText: string;
}

/** The stream's sink: both sides' recorders, local replies and resets (a class: no closures per stream). */
class StreamRecorder implements HttpStreamSink {
  readonly request: SideSink;
  readonly response: SideSink;
  constructor(private readonly test: TestHttpStream) {
    this.request = test.request.sink;
    this.response = test.response.sink;
  }
  localReply(reply: LocalReply): void {
    this.test.response.clear();
    this.test.localReply = { ...reply, bodyText: decoder.decode(reply.body) };
  }
  reset(reason: string): void {
    this.test.resetReason = reason;
  }
}

let streamCount = 0;

export class TestHttpStream {
  readonly request: ObservedMessage;
  readonly response: ObservedMessage;
  localReply: ObservedLocalReply | null = null;
  resetReason: string | null = null;
  private readonly stream: HttpStream;

  constructor(private readonly harness: Harness, connection: Partial<StreamInfo>) {
    this.request = new ObservedMessage("request");
    this.response = new ObservedMessage("response");
    this.stream = new HttpStream([harness.plugin], new StreamRecorder(this), Infinity, connection);
    this.request.stream = this.response.stream = this.stream;
  }

  get contextId(): number {
    return this.stream.filters[0].contextId;
  }

  /** Set when the filter failed during this stream (a trap), with the reason. */
  get failure(): { reason: string } | null {
    const filter = this.stream.filters[0];
    const trap = filter.trap;
    if (trap) return { reason: trap.wasmStack ? `${trap.message}\n${trap.wasmStack}` : trap.message };
    if (filter.failedElsewhere) return { reason: `the plugin's VM failed in another callback while this stream waited on it: ${filter.failedElsewhere}` };
    if (filter.failed) {
      return { reason: filter.plugin.failed ? "the plugin's VM had failed and could not be re-created" : "the plugin's VM failed during this stream (in another callback) and was re-created; the stream stays with the VM it began in" };
    }
    return null;
  }

  /** The logs of this stream's context. */
  get logs(): LogEntry[] {
    return this.harness.logs.filter((l) => l.contextId === this.contextId);
  }

  sendRequestHeaders(headers: Headers, endOfStream = false): Sent {
    return this.drive("request", () => this.stream.request.receiveHeaders(toList(headers), endOfStream));
  }
  sendRequestBody(data: string | Uint8Array, endOfStream = false): Sent {
    return this.drive("request", () => this.stream.request.receiveData(toBytes(data), endOfStream));
  }
  sendRequestTrailers(trailers: Headers): Sent {
    return this.drive("request", () => this.stream.request.receiveTrailers(toList(trailers)));
  }
  sendResponseHeaders(headers: Headers, endOfStream = false): Sent {
    return this.drive("response", () => this.stream.response.receiveHeaders(toList(headers), endOfStream));
  }
  sendResponseBody(data: string | Uint8Array, endOfStream = false): Sent {
    return this.drive("response", () => this.stream.response.receiveData(toBytes(data), endOfStream));
  }
  sendResponseTrailers(trailers: Headers): Sent {
    return this.drive("response", () => this.stream.response.receiveTrailers(toList(trailers)));
  }

  /** Ends the stream: on_done, on_log, on_delete. */
  complete(): void {
    this.stream.finish();
  }

  /**
   * Feeds one event and answers the action the filter returned for it, or, when the filter was
   * not called, a sentence saying why (the side is held by a filter that stopped it, or the
   * stream is closed): never a value that reads as Continue.
   */
  private drive(side: "request" | "response", feed: () => void): Sent {
    if (this.stream.answeredLocally && side === "response") {
      throw new Error("this stream was answered by a local reply: there is no upstream response to send");
    }
    const filter = this.stream.filters[0];
    filter.lastAction[side] = undefined;
    feed();
    const action = filter.lastAction[side];
    if (action !== undefined) return action;
    const hold = this.stream[side].hold();
    if (hold) return `not called: ${describeHold(hold, this.stream.nowNanos())}`;
    return `not called: the ${side} is ${this.stream[side].closed ? "closed" : this.stream[side].ended ? "already ended" : "not flowing"}${this.failure ? ` (the filter failed: ${this.failure.reason.split("\n")[0]})` : ""}`;
  }
}

/** One TCP connection through the plugin, as the harness observes it. */
export class TestTcpStream implements TcpSink {
  private toUpstreamChunks: Uint8Array[] = [];
  private toDownstreamChunks: Uint8Array[] = [];
  /** The chain let the connection through to the point where the proxy would connect upstream. */
  upstreamConnected = false;
  /** The client's FIN reached the upstream / the upstream's FIN reached the client. */
  upstreamEnded = false;
  downstreamEnded = false;
  /** Why the connection closed (Envoy's detail, e.g. wasm_downstream_close), or null while it is open. */
  closedReason: string | null = null;
  /** Who closed it, as the filters were told (onDownstreamClose's peer type), or null while it is open. */
  get closedBy(): "local" | "remote" | null {
    const peer = this.stream.closedBy;
    return peer === null ? null : peer === PeerType.Local ? "local" : "remote";
  }
  private readonly stream: TcpStream;

  constructor(private readonly harness: Harness, connection: Partial<StreamInfo>) {
    this.stream = new TcpStream([harness.plugin], this, connection);
  }

  get contextId(): number {
    return this.stream.filters[0].contextId;
  }
  get logs(): LogEntry[] {
    return this.harness.logs.filter((l) => l.contextId === this.contextId);
  }
  get failure(): { reason: string } | null {
    const trap = this.stream.filters[0].trap;
    return trap ? { reason: trap.message } : null;
  }

  /** What reached the upstream / the client so far. */
  get upstreamBytes(): Uint8Array {
    return Buffer.concat(this.toUpstreamChunks);
  }
  get upstreamText(): string {
    return decoder.decode(this.upstreamBytes);
  }
  get downstreamBytes(): Uint8Array {
    return Buffer.concat(this.toDownstreamChunks);
  }
  get downstreamText(): string {
    return decoder.decode(this.downstreamBytes);
  }

  /** The connection is accepted (onNewConnection); sending data does it first when not done yet. */
  connect(): void {
    this.stream.open();
  }
  /** Bytes from the client (end: it half-closed, its FIN). */
  sendDownstream(data: string | Uint8Array, end = false): void {
    this.stream.open();
    this.stream.receive("downstream", toBytes(data), end);
  }
  /** Bytes from the upstream (end: its FIN). */
  sendUpstream(data: string | Uint8Array, end = false): void {
    if (!this.upstreamConnected) throw new Error("the upstream is not connected: the filter chain has not let the connection through yet");
    this.stream.receive("upstream", toBytes(data), end);
  }
  /** The client went away (a reset, not a FIN): filters hear a Remote close. */
  closeDownstream(): void {
    this.stream.downstreamReset();
  }
  /** The upstream connection failed or was reset: the proxy closes the client's connection (filters hear Local). */
  closeUpstream(): void {
    this.stream.close("upstream connection closed");
  }

  // TcpSink
  connectUpstream(): void {
    this.upstreamConnected = true;
  }
  toUpstream(data: Uint8Array, end: boolean): void {
    if (data.length) this.toUpstreamChunks.push(data.slice());
    this.upstreamEnded ||= end;
  }
  toDownstream(data: Uint8Array, end: boolean): void {
    if (data.length) this.toDownstreamChunks.push(data.slice());
    this.downstreamEnded ||= end;
  }
  close(reason: string): void {
    this.closedReason = reason;
  }
}
