// One plugin's context within one TCP connection (Envoy's network filter): what the host
// functions act on while its callback runs, and the calls into the plugin.
import type { ByteBuffer, LocalReply } from "../abi/host.ts";
import { BufferType, Status, StreamType, type HeaderList } from "../abi/types.ts";
import type { Plugin } from "../plugin.ts";
import { StreamFilter } from "../stream-filter.ts";
import type { TcpStream } from "./stream.ts";

export type Direction = "downstream" | "upstream";
const NO_BYTES = new Uint8Array(0);

export class TcpFilter extends StreamFilter {
  /** Data this filter holds (StopIteration), per direction; shown whole at its next callback. */
  readonly data: Record<Direction, ByteBuffer> = { downstream: { data: NO_BYTES }, upstream: { data: NO_BYTES } };

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
    if (bufferType === BufferType.NetworkDownstreamData) return this.data.downstream;
    if (bufferType === BufferType.NetworkUpstreamData) return this.data.upstream;
    return null;
  }
  continueStream(streamType: number): number {
    const direction = streamType === StreamType.Downstream ? "downstream" : streamType === StreamType.Upstream ? "upstream" : null;
    if (!direction) return Status.BadArgument;
    this.plugin.defer(() => this.stream.resume(this, direction));
    return Status.Ok;
  }
  closeStream(streamType: number): number {
    if (streamType !== StreamType.Downstream && streamType !== StreamType.Upstream) return Status.BadArgument;
    this.plugin.defer(() => this.stream.close(streamType === StreamType.Downstream ? "downstream" : "upstream", `closed by ${this.plugin.name}`));
    return Status.Ok;
  }
  sendLocalReply(_reply: LocalReply): number {
    return Status.BadArgument; // not an HTTP stream
  }
  property(path: string[]): Uint8Array | undefined {
    return this.stream.property(path);
  }
}
