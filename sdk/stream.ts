// The HTTP stream the current callback belongs to: its request and response (headers,
// body, trailers), resuming a paused direction, and answering locally.
import { proxy_close_stream, proxy_continue_stream, proxy_send_local_response } from "./abi/imports";
import { BufferType, HeaderMapType, StreamType } from "./abi/types";
import { utf8 } from "./abi/memory";
import { Header, HeaderMap, serializePairs } from "./headers";
import { Body } from "./buffers";

export class HttpMessage {
  constructor(
    public readonly headers: HeaderMap,
    public readonly body: Body,
    public readonly trailers: HeaderMap,
  ) {}
}

/** The request side, with shortcuts for its pseudo-headers. */
export class HttpRequest extends HttpMessage {
  /** `:path` (with the query), as the upstream will receive it; "" when not readable now. */
  get path(): string { return this.pseudo(":path"); }
  /** `:method`: "GET", "OPTIONS", …; "" when not readable now. */
  get method(): string { return this.pseudo(":method"); }
  /** `:authority` (the Host): "example.com:8080"; "" when not readable now. */
  get authority(): string { return this.pseudo(":authority"); }

  private pseudo(name: string): string {
    const value = this.headers.get(name);
    return value != null ? value : "";
  }
}

/** The request of the current stream, as the upstream will receive it. */
export const request = new HttpRequest(
  new HeaderMap(HeaderMapType.RequestHeaders), new Body(BufferType.HttpRequestBody), new HeaderMap(HeaderMapType.RequestTrailers));

/** The response of the current stream, as the client will receive it. */
export const response = new HttpMessage(
  new HeaderMap(HeaderMapType.ResponseHeaders), new Body(BufferType.HttpResponseBody), new HeaderMap(HeaderMapType.ResponseTrailers));

/** Resumes a request paused by a Stop* action returned earlier. */
export function continueRequest(): void {
  proxy_continue_stream(StreamType.Request);
}

/** Resumes a response paused by a Stop* action returned earlier. */
export function continueResponse(): void {
  proxy_continue_stream(StreamType.Response);
}

/** Resets the stream in that direction (the client or upstream sees the stream end abruptly). */
export function closeStream(stream: StreamType): void {
  proxy_close_stream(stream);
}

/**
 * Answers the client now, instead of the upstream: `status`, `body`, extra `headers`, and
 * `details` (Envoy's response code details: one token, no spaces). `grpcStatus` -1 means
 * none. The callback that calls this should return a Stop action; the host stops anyway.
 */
export function sendLocalReply(status: u32, body: string = "", headers: Header[] = [], details: string = "", grpcStatus: i32 = -1): void {
  sendLocalReplyBytes(status, utf8(body), headers, details, grpcStatus);
}

export function sendLocalReplyBytes(status: u32, body: ArrayBuffer, headers: Header[] = [], details: string = "", grpcStatus: i32 = -1): void {
  const detailBytes = utf8(details);
  const pairs = serializePairs(headers);
  proxy_send_local_response(status, changetype<usize>(detailBytes), detailBytes.byteLength,
    changetype<usize>(body), body.byteLength, changetype<usize>(pairs), pairs.byteLength, grpcStatus);
}

/** The data of the current TCP connection's callback: what the client sent, what the upstream sent. */
// @ts-ignore: decorator
@lazy export const downstreamData = new Body(BufferType.NetworkDownstreamData);
// @ts-ignore: decorator
@lazy export const upstreamData = new Body(BufferType.NetworkUpstreamData);

/**
 * Resumes the client's data held by this filter's StopIteration (in onNewConnection or
 * onDownstreamData): the filters after it see it. Upstream data has no such call in Envoy:
 * bytes held there move on when a later onUpstreamData continues.
 */
export function continueDownstream(): void {
  proxy_continue_stream(StreamType.Downstream);
}

/** Closes the client's connection (after what was already written to it); the upstream one follows. */
export function closeConnection(): void {
  proxy_close_stream(StreamType.Downstream);
}
