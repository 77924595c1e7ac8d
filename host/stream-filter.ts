// What every plugin context inside a stream (an HTTP exchange or a TCP connection) shares:
// its id, its context created on the first callback (as Envoy creates it), a trap failing
// it, and its end. HttpFilter and TcpFilter add what their kind of stream needs.
import type { LocalReply, StreamContext } from "./abi/host.ts";
import type { ByteBuffer } from "./byte-buffer.ts";
import type { HeaderList } from "./abi/types.ts";
import type { StreamTracer } from "./inspect/trace.ts";
import type { Plugin } from "./plugin.ts";
import type { StreamInfo } from "./stream-info.ts";
import { WasmTrap } from "./vm/vm.ts";

export abstract class StreamFilter implements StreamContext {
  readonly contextId: number;
  /** proxy_on_context_create has been called. */
  created = false;
  /** The plugin failed during this stream (a trap, or a VM that could not start); under fail-open the filter is bypassed. */
  failed = false;
  /** The trap that failed this filter, if one did. */
  trap: WasmTrap | null = null;
  /** The VM its context lives in (the plugin's restarts count then): a re-created VM does not know it. */
  private vmGeneration = -1;

  /** finish() has run (the plugin counts this stream until then). */
  private ended = false;
  /** The inspector's tracer of this stream, or null (the inspector is off: nothing is recorded or allocated). */
  tracer: StreamTracer | null = null;

  constructor(readonly plugin: Plugin) {
    this.contextId = plugin.allocateContextId();
    plugin.streamStarted();
  }

  /** Calls a stream callback: the module's raw answer (undefined: no such export), or "fail" when it trapped. */
  protected callPlugin(name: string, a: number, b: number): number | undefined | "fail" {
    const tracer = this.tracer;
    if (tracer === null) return this.callModule(name, a, b);
    const mark = tracer.before(this, name, a, b);
    const result = this.callModule(name, a, b);
    tracer.after(mark, result);
    return result;
  }

  /**
   * The VM is dead, or was re-created since the context was made there: the stream fails, as
   * in Envoy, where a stream stays with the VM it began in (fail-open lets it pass).
   */
  private get vmLost(): boolean {
    return this.plugin.failed || (this.created && this.vmGeneration !== this.plugin.restarts);
  }

  private callModule(name: string, a: number, b: number): number | undefined | "fail" {
    if (this.vmLost) {
      this.failed = true;
      return "fail";
    }
    try {
      if (!this.created) {
        this.created = true;
        this.vmGeneration = this.plugin.restarts;
        this.plugin.openContext(this);
      }
      const result = this.plugin.callStream(this, name, this.contextId, a, b);
      return result === undefined ? undefined : result >>> 0;
    } catch (e) {
      if (!(e instanceof WasmTrap)) throw e;
      this.failed = true;
      this.trap = e;
      return "fail";
    }
  }

  /**
   * Whether calling `name` would be a plain Continue, so the host may skip the call and what
   * goes with it: the module does not export it, and its VM is alive and the one the context
   * was made in (proxy-wasm-cpp-host fails a stream on a dead VM before it looks for the
   * export). With the inspector on, the call is made anyway so that the trace shows it.
   */
  passes(name: string): boolean {
    return this.tracer === null && !this.vmLost && !this.plugin.vm.has(name);
  }

  /** The stream is over: on_done, on_log, on_delete (when the context was ever created). */
  finish(): void {
    if (this.ended) return;
    this.ended = true;
    const mark = this.tracer !== null && this.created ? this.tracer.before(this, "proxy_on_done", 0, 0) : null;
    try {
      if (this.created && this.vmGeneration === this.plugin.restarts) this.plugin.endContext(this);
      if (mark !== null) this.tracer!.after(mark, 0);
    } finally {
      this.plugin.streamEnded(); // a plugin replaced by a reload goes with its last stream
    }
  }

  /** The stream's info (its filter state holds what proxy_set_property stored). */
  protected abstract get streamInfo(): StreamInfo;

  storedProperty(key: string): Uint8Array | undefined {
    return this.streamInfo.filterState?.get(key);
  }

  storeProperty(key: string, value: Uint8Array): void {
    (this.streamInfo.filterState ??= new Map()).set(key, value);
  }

  // StreamContext: what the host functions act on, per kind of stream.
  abstract headerMap(mapType: number): HeaderList | null;
  abstract replaceHeaderMap(mapType: number, pairs: HeaderList): boolean;
  abstract buffer(bufferType: number): ByteBuffer | null;
  abstract continueStream(streamType: number): number;
  abstract closeStream(streamType: number): number;
  abstract sendLocalReply(reply: LocalReply): number;
  abstract property(path: string[]): Uint8Array | null | undefined;
  abstract vmFailed(): void;
}
