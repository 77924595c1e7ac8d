// What Envoy's HTTP/1 codec and connection manager do to a request before any filter sees
// it: the requests they refuse (too many headers, a transfer coding other than chunked,
// HTTP/1.0 unless accepted), the headers they drop (hop-by-hop ones, those named in
// Connection, Expect: 100-continue once answered), the absolute-form URI taken apart, and
// the headers they add (x-request-id, x-forwarded-for, x-forwarded-proto).
import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import type { HeaderList } from "../abi/types.ts";
import type { HttpOptions } from "../config/model.ts";

/** Headers that describe one connection, not the message: never forwarded. */
export const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host", "http2-settings"]);

/** A request refused before the filters, with Envoy's status, body and response code details. */
export interface Rejection {
  status: number;
  details: string;
}

/** The parts of a request the checks need (node:http's IncomingMessage has them). */
export interface RawRequest {
  method: string;
  url: string;
  httpVersion: string;
  rawHeaders: string[];
  remoteAddress: string;
  tls: boolean;
}

export interface PreparedRequest {
  /** The request's headers as the filters get them: pseudo headers first. */
  headers: HeaderList;
  authority: string;
  path: string;
  /** Whether a body follows (Content-Length other than 0, or chunked). */
  hasBody: boolean;
  /**
   * The client's address Envoy trusts when it is not the connection's: the one taken from
   * x-forwarded-for per use_remote_address and xff_num_trusted_hops (source.address reads it,
   * port 0), else null.
   */
  clientAddress: string | null;
}

/**
 * Envoy's checks and header changes, in its order: HTTP version, header count, transfer
 * coding, then the connection manager's mutations. A Rejection is answered without filters.
 */
export function prepareRequest(req: RawRequest, options: HttpOptions): PreparedRequest | Rejection {
  if (req.httpVersion !== "1.1" && !options.acceptHttp10) return { status: 426, details: "low_version" };
  if (req.rawHeaders.length / 2 > options.maxHeadersCount) return { status: 431, details: "http1.too_many_headers" };
  let host: string | undefined;
  let transferEncoding: string | undefined;
  let contentLength: string | undefined;
  let connection = "";
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    if (name === "host") host ??= req.rawHeaders[i + 1];
    else if (name === "transfer-encoding") transferEncoding = transferEncoding === undefined ? req.rawHeaders[i + 1] : `${transferEncoding}, ${req.rawHeaders[i + 1]}`;
    else if (name === "content-length") contentLength ??= req.rawHeaders[i + 1];
    else if (name === "connection") connection += `,${req.rawHeaders[i + 1]}`;
  }
  // Envoy's codec implements no transfer coding but chunked: anything else is 501.
  if (transferEncoding !== undefined && transferEncoding.trim().toLowerCase() !== "chunked") return { status: 501, details: "http1.invalid_transfer_encoding" };

  // The request target: origin-form, or absolute-form (its authority replaces Host, as Envoy's codec does).
  let path = req.url;
  let authority = host;
  const absolute = /^https?:\/\/([^/?#]*)([^#]*)/i.exec(path);
  if (absolute) {
    authority = absolute[1];
    path = absolute[2] || "/";
    if (!path.startsWith("/")) path = `/${path}`;
  }
  if (authority === undefined || authority === "") {
    if (req.httpVersion !== "1.1" && options.defaultHostForHttp10) authority = options.defaultHostForHttp10;
    else if (req.httpVersion === "1.1" || authority === undefined) return { status: 400, details: "missing_host_header" };
  }

  // Headers named in Connection are about this connection only: dropped, as the hop-by-hop ones.
  const nominated = connection ? new Set(connection.split(",").map((t) => t.trim().toLowerCase()).filter((t) => t && !t.startsWith(":"))) : null;
  const headers: HeaderList = [[":method", req.method], [":path", path], [":authority", authority], [":scheme", req.tls ? "https" : "http"]];
  let xff: string | undefined;
  let xffAt = -1;
  let requestId: string | undefined;
  let requestIdAt = -1;
  let forwardedProto: string | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    const value = req.rawHeaders[i + 1];
    if (HOP_BY_HOP.has(name) || nominated?.has(name)) continue;
    // Expect: 100-continue was answered here (Envoy's default, proxy_100_continue false): not forwarded.
    if (name === "expect" && value.trim().toLowerCase() === "100-continue") continue;
    if (name === "x-forwarded-for") {
      if (xffAt >= 0) {
        xff = `${xff},${value}`;
        headers[xffAt][1] = xff;
        continue;
      }
      xff = value;
      xffAt = headers.length;
    } else if (name === "x-request-id" && requestIdAt < 0) {
      requestId = value;
      requestIdAt = headers.length;
    } else if (name === "x-forwarded-proto" && forwardedProto === undefined) {
      forwardedProto = value;
    }
    headers.push([name, value]);
  }
  const hasBody = transferEncoding !== undefined || (contentLength !== undefined && contentLength !== "0");
  const clientAddress = mutateRequestHeaders(headers, options, req, { xff, xffAt, requestId, requestIdAt, forwardedProto });
  return { headers, authority: authority!, path, hasBody, clientAddress };
}

/** Loopback and RFC 1918 addresses: internal to the mesh, as Envoy's classic default internal_address_config has them. */
export function isInternalAddress(address: string): boolean {
  const a = address.startsWith("::ffff:") ? address.slice(7) : address;
  if (isIP(a) === 4) {
    const [x, y] = a.split(".").map(Number);
    return x === 127 || x === 10 || (x === 172 && y >= 16 && y <= 31) || (x === 192 && y === 168);
  }
  return a === "::1" || /^f[cd]/i.test(a);
}

/**
 * Envoy's ConnectionManagerUtility::mutateRequestHeaders, the parts this host has:
 * x-forwarded-for gets the client's address when use_remote_address is set; the request is
 * an edge request when that address is external; x-forwarded-proto is set unless a trusted
 * hop set it; x-request-id is generated when absent, and replaced on an edge request unless
 * preserve_external_request_id. x-envoy-internal says whether an edge client was internal.
 * The client's trusted address, when x-forwarded-for gives it, is returned: without
 * use_remote_address, the entry xff_num_trusted_hops from the end; with it and trusted hops,
 * the entry xff_num_trusted_hops - 1 from the end of the header as the client sent it.
 */
function mutateRequestHeaders(headers: HeaderList, options: HttpOptions, req: RawRequest,
  seen: { xff?: string; xffAt: number; requestId?: string; requestIdAt: number; forwardedProto?: string }): string | null {
  let edge = false;
  const remote = req.remoteAddress.startsWith("::ffff:") ? req.remoteAddress.slice(7) : req.remoteAddress;
  let client: string | null = null;
  if (options.useRemoteAddress) {
    if (options.xffNumTrustedHops > 0) client = fromXff(seen.xff, options.xffNumTrustedHops - 1);
    if (seen.xffAt >= 0) headers[seen.xffAt][1] = `${seen.xff},${remote}`;
    else headers.push(["x-forwarded-for", remote]);
    const internal = isInternalAddress(client ?? remote);
    edge = !internal;
    if (internal) headers.push(["x-envoy-internal", "true"]);
    else headers.push(["x-envoy-external-address", client ?? remote]);
  }
  if (options.xffNumTrustedHops === 0 || seen.forwardedProto === undefined) {
    const scheme = req.tls ? "https" : "http";
    const at = headers.findIndex(([n]) => n === "x-forwarded-proto");
    if (at >= 0) headers[at][1] = scheme;
    else headers.push(["x-forwarded-proto", scheme]);
  }
  if (options.generateRequestId) {
    if (seen.requestIdAt < 0) headers.push(["x-request-id", randomUUID()]);
    else if (edge && !options.preserveExternalRequestId) headers[seen.requestIdAt][1] = randomUUID();
  }
  if (!options.useRemoteAddress) client = fromXff(seen.xff, options.xffNumTrustedHops);
  return client;
}

/** The x-forwarded-for entry `skip` entries from its end, when it is an IP address. (Not a closure: made per request, it would cost a name.) */
function fromXff(xff: string | undefined, skip: number): string | null {
  if (xff === undefined) return null;
  const hops = xff.split(",");
  const at = hops.length - 1 - skip;
  const address = at >= 0 ? hops[at].trim() : "";
  return isIP(address) ? address : null;
}

/** The body of a local reply Envoy sends for a request refused before the filters: the status's text. */
export const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request", 408: "Request Timeout", 426: "Upgrade Required", 431: "Request Header Fields Too Large", 501: "Not Implemented",
};
