// One plugin's context within one TCP connection (Envoy's network filter): what the host
// functions act on while its callback runs, and the calls into the plugin.
import type { LocalReply } from "../abi/host.ts";
import type { ByteBuffer } from "../byte-buffer.ts";
import { BufferType, Status, StreamType, type HeaderList } from "../abi/types.ts";
import type { Plugin } from "../plugin.ts";
import { StreamFilter } from "../stream-filter.ts";
import type { TcpStream } from "./stream.ts";

export type Direction = "downstream" | "upstream";

export class TcpFilter extends StreamFilter {
  constructor(plugin: Plugin, readonly stream: TcpStream) {
    super(plugin);
  }

  /** Calls a callback: "continue", "stop", or "fail" when the module trapped. */
  call(name: string, a = 0, b = 0): "continue" | "stop" | "fail" {
    const result = this.callPlugin(name, a, b);
    return result === "fail" ? "fail" : !result ? "continue" : "stop";
  }

  // StreamContext

  headerMap(): HeaderList | null {
    return null; // a TCP connection has no header maps
  }
  replaceHeaderMap(): boolean {
    return false;
  }
  buffer(bufferType: number): ByteBuffer | null {
    // The connection's own buffers, shared by its filters (as Envoy's read and write buffers are).
    if (bufferType === BufferType.NetworkDownstreamData) return this.stream.flows.downstream.buffer;
    if (bufferType === BufferType.NetworkUpstreamData) return this.stream.flows.upstream.buffer;
    return null;
  }
  continueStream(streamType: number): number {
    // Envoy resumes reading; upstream bytes have no continue there (they move with the next ones).
    if (streamType === StreamType.Upstream) return Status.Unimplemented;
    if (streamType !== StreamType.Downstream) return Status.BadArgument;
    this.plugin.defer(() => this.stream.resume(this), this.stream);
    return Status.Ok;
  }
  closeStream(streamType: number): number {
    // Either way it is the client's connection that closes (the upstream follows), after what was written to it.
    if (streamType !== StreamType.Downstream && streamType !== StreamType.Upstream) return Status.BadArgument;
    const detail = streamType === StreamType.Downstream ? "wasm_downstream_close" : "wasm_upstream_close";
    this.plugin.defer(() => this.stream.close(detail), this.stream);
    return Status.Ok;
  }
  sendLocalReply(_reply: LocalReply): number {
    return Status.BadArgument; // not an HTTP stream
  }
  property(path: string[]): Uint8Array | undefined {
    return this.stream.property(path);
  }
  vmFailed(): void {
    this.stream.vmFailed(this);
  }

  protected get streamInfo() {
    return this.stream.info;
  }
}
