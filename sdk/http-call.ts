// HTTP callouts: a request to a cluster the host knows, answered later on the context that
// made it (HttpContext.httpCall / RootContext.httpCall, then onHttpCallResponse).
import { proxy_get_buffer_bytes, proxy_get_header_map_pairs, proxy_http_call } from "./abi/imports";
import { BufferType, HeaderMapType, Status } from "./abi/types";
import { OUT_LEN, OUT_PTR, clearOut, takeBytes, utf8 } from "./abi/memory";
import { Header, deserializePairs, lowerAscii, serializePairs } from "./headers";
import { log } from "./log";

const TOKEN_PTR: usize = memory.data(4, 4);

/** A callout's response, read in full when it arrives (the host keeps it only during the callback). */
export class HttpCallResponse {
  constructor(
    public readonly headers: Header[],
    public readonly body: ArrayBuffer,
    public readonly trailers: Header[],
  ) {}

  /** False when the callout failed (reset, timeout, connection refused): no headers came back. */
  get ok(): bool {
    return this.headers.length > 0;
  }

  /** The status code, 0 when the callout failed. */
  get status(): u32 {
    const status = this.header(":status");
    return status != null ? <u32>U32.parseInt(status) : 0;
  }

  header(name: string): string | null {
    const lower = lowerAscii(name);
    for (let i = 0; i < this.headers.length; i++) if (this.headers[i].name == lower) return this.headers[i].value;
    return null;
  }

  bodyText(): string {
    return String.UTF8.decode(this.body);
  }
}

function readPairs(mapType: HeaderMapType): Header[] {
  clearOut();
  if (proxy_get_header_map_pairs(mapType, OUT_PTR, OUT_LEN) != Status.Ok) return [];
  return deserializePairs(takeBytes());
}

/** Reads the response the host holds during proxy_on_http_call_response. */
export function readHttpCallResponse(headerCount: u32, bodySize: u32, trailerCount: u32): HttpCallResponse {
  const headers = headerCount > 0 ? readPairs(HeaderMapType.HttpCallResponseHeaders) : new Array<Header>();
  const trailers = trailerCount > 0 ? readPairs(HeaderMapType.HttpCallResponseTrailers) : new Array<Header>();
  let body = new ArrayBuffer(0);
  if (bodySize > 0) {
    clearOut();
    if (proxy_get_buffer_bytes(BufferType.HttpCallResponseBody, 0, bodySize, OUT_PTR, OUT_LEN) == Status.Ok) body = takeBytes();
  }
  return new HttpCallResponse(headers, body, trailers);
}

/**
 * Sends a callout: `headers` must hold `:method`, `:path` and `:authority`; the cluster must
 * be one the host knows. The token, or 0 when the host refused (logged with the reason).
 */
export function dispatchHttpCall(cluster: string, headers: Header[], body: ArrayBuffer | null, trailers: Header[], timeoutMs: u32): u32 {
  const name = utf8(cluster);
  const pairs = serializePairs(headers);
  const trailerPairs = serializePairs(trailers);
  const bodyPtr = body != null ? changetype<usize>(body) : 0;
  const bodyLen = body != null ? body.byteLength : 0;
  store<u32>(TOKEN_PTR, 0);
  const status = proxy_http_call(changetype<usize>(name), name.byteLength, changetype<usize>(pairs), pairs.byteLength,
    bodyPtr, bodyLen, changetype<usize>(trailerPairs), trailerPairs.byteLength, timeoutMs, TOKEN_PTR);
  if (status != Status.Ok) {
    log.error(`http call to cluster "${cluster}" refused (status ${status}): the cluster must exist and :method, :path, :authority be set`);
    return 0;
  }
  return load<u32>(TOKEN_PTR);
}
