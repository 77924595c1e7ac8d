// One plugin's context within one HTTP stream: what the host functions act on while that
// plugin's callback runs, and the calls into the plugin with its answers normalized the way
// proxy-wasm-cpp-host normalizes them for Envoy.
import type { LocalReply } from "../abi/host.ts";
import { ByteBuffer } from "../byte-buffer.ts";
import { BufferType, HeaderMapType, Status, StreamType, type HeaderList } from "../abi/types.ts";
import type { Plugin } from "../plugin.ts";
import { StreamFilter } from "../stream-filter.ts";
import type { HttpStream } from "./stream.ts";

export type Verdict = "continue" | "stop" | "buffer" | "drop";
export type Side = "request" | "response";

// proxy-wasm-cpp-host's normalization: StopIteration from headers and any unknown value stop
// everything (StopAllIterationAndWatermark); ContinueAndEndStream continues.
const headersVerdict = (r: number): Verdict => (r === 0 || r === 2 ? "continue" : "stop");
// StopIterationAndBuffer/Watermark buffer; NoBuffer and unknown values stop without buffering.
const dataVerdict = (r: number): Verdict => (r === 0 ? "continue" : r === 1 || r === 2 ? "buffer" : "drop");
const trailersVerdict = (r: number): Verdict => (r === 0 ? "continue" : "stop");
const BODY_CALLBACK: Record<Side, string> = { request: "proxy_on_request_body", response: "proxy_on_response_body" };

export class HttpFilter extends StreamFilter {
  /** The raw action the module last returned on each side (for tests and logs). */
  readonly lastAction: Record<Side, number | undefined> = { request: undefined, response: undefined };
  /** A local reply from this filter is being sent: the next action is forced to stop. */
  private stopNext = false;
  private inCallback = false;
  /** The VM failed in another callback while this stream was held here: why. */
  failedElsewhere: string | null = null;
  private bodies: Record<Side, ByteBuffer> | null = null;

  /** The body buffer of each side while a body callback runs or data is buffered here (made when first wanted: most streams have no body). */
  get body(): Record<Side, ByteBuffer> {
    return (this.bodies ??= { request: new ByteBuffer(), response: new ByteBuffer() });
  }

  constructor(plugin: Plugin, readonly stream: HttpStream, readonly index: number) {
    super(plugin);
  }

  /** Whether this filter takes part in the stream now (bypassed after a fail-open failure). */
  get active(): boolean {
    return !this.failed;
  }

  // Calls into the module. Each returns a verdict, or "fail" when the module trapped.

  headers(side: Side, count: number, endOfStream: boolean): Verdict | "fail" {
    const name = side === "request" ? "proxy_on_request_headers" : "proxy_on_response_headers";
    // ABI 0.1.0 modules take no end_of_stream; the extra argument is ignored by them.
    return this.invoke(side, name, count, endOfStream ? 1 : 0, headersVerdict);
  }

  data(side: Side, size: number, endOfStream: boolean): Verdict | "fail" {
    return this.invoke(side, BODY_CALLBACK[side], size, endOfStream ? 1 : 0, dataVerdict);
  }

  /** Whether `side`'s body passes this filter untouched, with no call (see passes): most filters handle headers only. */
  passesData(side: Side): boolean {
    return this.passes(BODY_CALLBACK[side]);
  }

  trailers(side: Side, count: number): Verdict | "fail" {
    const name = side === "request" ? "proxy_on_request_trailers" : "proxy_on_response_trailers";
    return this.invoke(side, name, count, 0, trailersVerdict);
  }

  private invoke(side: Side, name: string, a: number, b: number, verdict: (result: number) => Verdict): Verdict | "fail" {
    this.inCallback = true;
    let result: number | undefined | "fail";
    try {
      result = this.callPlugin(name, a, b);
    } finally {
      this.inCallback = false;
    }
    if (result === "fail") return "fail";
    this.lastAction[side] = result ?? 0;
    if (this.stopNext) {
      this.stopNext = false;
      return "stop";
    }
    return result === undefined ? "continue" : verdict(result);
  }

  // StreamContext: what the host functions act on.

  headerMap(mapType: number): HeaderList | null {
    switch (mapType) {
      case HeaderMapType.RequestHeaders: return this.stream.request.headers;
      case HeaderMapType.RequestTrailers: return this.stream.request.trailersFor(this);
      case HeaderMapType.ResponseHeaders: return this.stream.response.headers;
      case HeaderMapType.ResponseTrailers: return this.stream.response.trailersFor(this);
      default: return null;
    }
  }

  replaceHeaderMap(mapType: number, pairs: HeaderList): boolean {
    const map = this.headerMap(mapType);
    if (map === null) return false;
    map.splice(0, map.length, ...pairs);
    return true;
  }

  buffer(bufferType: number): ByteBuffer | null {
    if (bufferType === BufferType.HttpRequestBody) return this.body.request;
    if (bufferType === BufferType.HttpResponseBody) return this.body.response;
    return null;
  }

  continueStream(streamType: number): number {
    if (streamType !== StreamType.Request && streamType !== StreamType.Response) return Status.BadArgument;
    const side: Side = streamType === StreamType.Request ? "request" : "response";
    this.plugin.defer(() => this.stream.resume(this, side), this.stream);
    return Status.Ok;
  }

  closeStream(streamType: number): number {
    if (streamType !== StreamType.Request && streamType !== StreamType.Response) return Status.BadArgument;
    this.plugin.defer(() => this.stream.reset(`closed by ${this.plugin.name}`), this.stream);
    return Status.Ok;
  }

  sendLocalReply(reply: LocalReply): number {
    // Forced stop applies to this filter's own callback under way, not to one that follows
    // a reply sent from elsewhere (a callout's callback on the root context).
    if (this.inCallback) this.stopNext = true;
    this.plugin.defer(() => this.stream.sendLocalReply(this, reply), this.stream);
    return Status.Ok;
  }

  property(path: string[]): Uint8Array | null | undefined {
    return this.stream.property(path);
  }

  /** The VM failed elsewhere: a stream held here fails now (503, or resumes without this filter under fail_open); others fail at their next callback. */
  vmFailed(): void {
    if (this.failed || !this.stream.heldAt(this)) return;
    this.failed = true;
    this.failedElsewhere = this.plugin.vm.failure?.message ?? "the VM failed";
    if (this.stream.filterFailed(this)) {
      this.stream.resume(this, "request");
      this.stream.resume(this, "response");
    }
  }

  protected get streamInfo() {
    return this.stream.info;
  }
}
