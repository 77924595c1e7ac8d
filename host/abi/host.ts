// What the host functions act on. The VM provides it (host/vm-group.ts), answering for the
// plugin whose context is current; during a stream callback `current` is that stream's
// context, so every area file stays free of plugin and stream logic.
import type { WasmVm } from "../vm/vm.ts";
import type { Clock } from "../clock.ts";
import type { HeaderList, LogLevel } from "./types.ts";
import type { ByteBuffer } from "../byte-buffer.ts";
import type { QueueOwner } from "../state/shared.ts";

export interface LocalReply {
  status: number;
  body: Uint8Array;
  headers: HeaderList;
  details: string;
  grpcStatus: number;
}

/** The stream-side object host functions act on during a stream callback. */
export interface StreamContext {
  readonly contextId: number;
  headerMap(mapType: number): HeaderList | null;
  replaceHeaderMap(mapType: number, pairs: HeaderList): boolean;
  buffer(bufferType: number): ByteBuffer | null;
  continueStream(streamType: number): number;
  closeStream(streamType: number): number;
  sendLocalReply(reply: LocalReply): number;
  property(path: string[]): Uint8Array | null | undefined;
  /**
   * The VM failed in a callback of another context (a root callback such as a callout's answer
   * or a tick, or another stream's): a stream held at this context fails now, as Envoy fails
   * the streams of a failed VM (503, or goes on without the filter under fail_open).
   */
  vmFailed?(): void;
  /** What proxy_set_property stored for this stream (its filter state), by the path's key. */
  storedProperty(key: string): Uint8Array | undefined;
  storeProperty(key: string, value: Uint8Array): void;
}

/** What a deferred action belongs to: an error while it runs fails that stream only. */
export interface DeferOwner {
  internalError(error: Error): void;
}

/** An HTTP callout a module asked for (proxy_http_call). */
export interface HttpCallRequest {
  cluster: string;
  headers: HeaderList;
  body: Uint8Array;
  trailers: HeaderList;
  timeoutMs: number;
}

/** A callout's response while its callback runs: header maps 6/7 and buffer 4. */
export interface CalloutResponse {
  headers: HeaderList;
  trailers: HeaderList;
  body: Uint8Array;
}

/** A gRPC call (message set) or stream (message null) a module opened. */
export interface GrpcRequest {
  cluster: string;
  service: string;
  method: string;
  metadata: HeaderList;
  message: Uint8Array | null;
  timeoutMs: number;
}

/** What a gRPC callback is handling: metadata (maps 4/5) or a message (buffer 5). */
export interface GrpcReceived {
  initialMetadata?: HeaderList;
  trailingMetadata?: HeaderList;
  message?: Uint8Array;
}

/** The module's calls out of the proxy (host/upstream/outbound.ts). */
export interface Outbound {
  /** Sends an HTTP callout: its token, or the status that refuses it. */
  httpCall(request: HttpCallRequest): { token: number } | { status: number };
  /** Opens a gRPC call or stream: its token, or the status that refuses it. */
  grpcOpen(request: GrpcRequest): { token: number } | { status: number };
  grpcSend(token: number, message: Uint8Array, endStream: boolean): number;
  grpcClose(token: number): number;
  grpcCancel(token: number): number;
  /** The callout response whose callback is running, else null. */
  readonly calloutResponse: CalloutResponse | null;
  /** What the gRPC callback under way may read, else null. */
  readonly grpcReceived: GrpcReceived | null;
  /** What proxy_get_status answers: the status of the last answer delivered. */
  readonly callStatus: { code: number; message: string };
}

export interface AbiHost {
  readonly vm: WasmVm;
  /** The name of the plugin whose context is current (several plugins may share one VM). */
  readonly name: string;
  readonly rootContextId: number;
  /** The stream context of the callback under way, or null (root callbacks, start). */
  current: StreamContext | null;
  /** Which configuration is readable now. */
  phase: "start" | "vm_start" | "configure" | "running";
  readonly vmConfiguration: Uint8Array;
  readonly configuration: Uint8Array;
  readonly environment: Record<string, string>;
  readonly logLevel: LogLevel;
  /** Records a log line of the module, tagged with the context it came from. */
  log(level: LogLevel, message: string): void;
  /** A plugin-level property (plugin_name, plugin_root_id, …), or undefined when unknown. */
  pluginProperty(path: string[]): Uint8Array | undefined;
  /** Runs `action` when the current call into the module has returned (Envoy's after-VM-call actions). */
  defer(action: () => void, owner?: DeferOwner): void;
  /** Makes `contextId` the current context; false when it is not a live context. */
  setEffectiveContext(contextId: number): boolean;
  /** The plugin's vm_id: shared data and queues are per vm_id. */
  readonly vmId: string;
  /** What the module reads the time from. */
  readonly clock: Clock;
  /** Calls the root context's onTick every `ms` milliseconds (0 stops). */
  setTickPeriod(ms: number): void;
  /** HTTP callouts and gRPC calls out of the module, and what their answers let it read. */
  readonly outbound: Outbound;
  /** The plugin a queue registered now belongs to: its root context's onQueueReady hears of each item. */
  readonly queueOwner: QueueOwner;
}

export type HostFunctions = Record<string, (...args: never[]) => number>;
