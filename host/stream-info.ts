// The Envoy attributes a filter reads about its stream (proxy_get_property), computed from
// the stream and its connection, encoded as Envoy encodes them: strings as UTF-8, integers
// as 8-byte little-endian, booleans as one byte, times and durations as 8-byte nanoseconds.
import type { HeaderList } from "./abi/types.ts";

export interface Endpoint {
  address: string;
  port: number;
}

/** What a stream knows beyond its headers: set by whoever drives it (the proxy, or the harness). */
export interface StreamInfo {
  connectionId: number;
  source: Endpoint;
  destination: Endpoint;
  mtls: boolean;
  protocol: string;
  /** When the request started, in ns since the epoch. */
  startNanos: bigint;
  requestBodyBytes: number;
  responseBodyBytes: number;
  routeName: string | null;
  clusterName: string | null;
  upstream: Endpoint | null;
  responseCodeDetails: string | null;
  /** Values filters stored with proxy_set_property during this stream (Envoy's filter state), by path; made on first use. */
  filterState: Map<string, Uint8Array> | null;
}

/** Where a connection's ends are when the driver does not say. */
export const LOOPBACK: Readonly<Endpoint> = { address: "127.0.0.1", port: 0 };

/** A stream's info: defaults (loopback, now) under what the driver knows. */
export function newStreamInfo(nowNanos: bigint, known: Partial<StreamInfo>): StreamInfo {
  return {
    connectionId: 0, source: { ...LOOPBACK }, destination: { ...LOOPBACK }, mtls: false,
    protocol: "", startNanos: nowNanos, requestBodyBytes: 0, responseBodyBytes: 0, routeName: null, clusterName: null,
    upstream: null, responseCodeDetails: null, filterState: null, ...known,
  };
}

const encoder = new TextEncoder();
const text = (value: string | undefined | null) => (value === undefined || value === null ? undefined : encoder.encode(value));
const int64 = (value: number | bigint) => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(value), true);
  return out;
};
const bool = (value: boolean) => new Uint8Array([value ? 1 : 0]);
const header = (list: HeaderList, name: string) => list.find(([n]) => n === name)?.[1];
const joined = (e: Endpoint) => (e.address.includes(":") ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`);
const headerBytes = (list: HeaderList) => list.reduce((n, [k, v]) => n + k.length + v.length, 0);

export function streamProperty(path: string[], request: HeaderList, response: HeaderList, info: StreamInfo, nowNanos: bigint): Uint8Array | undefined {
  const [area, field, name] = path;
  switch (area) {
    case "request":
      switch (field) {
        case "path": return text(header(request, ":path"));
        case "url_path": return text(header(request, ":path")?.split("?")[0]);
        case "host": return text(header(request, ":authority"));
        case "method": return text(header(request, ":method"));
        case "scheme": return text(header(request, ":scheme"));
        case "referer": return text(header(request, "referer"));
        case "useragent": return text(header(request, "user-agent"));
        case "id": return text(header(request, "x-request-id"));
        case "protocol": return text(info.protocol);
        case "time": return int64(info.startNanos);
        case "duration": return int64(nowNanos - info.startNanos);
        case "size": return int64(info.requestBodyBytes);
        case "total_size": return int64(info.requestBodyBytes + headerBytes(request));
        case "headers": return name === undefined ? undefined : text(header(request, name.toLowerCase()));
      }
      return undefined;
    case "response":
      switch (field) {
        case "code": {
          const status = header(response, ":status");
          return status === undefined ? undefined : int64(Number(status));
        }
        case "code_details": return text(info.responseCodeDetails);
        case "size": return int64(info.responseBodyBytes);
        case "total_size": return int64(info.responseBodyBytes + headerBytes(response));
        case "headers": return name === undefined ? undefined : text(header(response, name.toLowerCase()));
      }
      return undefined;
    case "source":
      return field === "address" ? text(joined(info.source)) : field === "port" ? int64(info.source.port) : undefined;
    case "destination":
      return field === "address" ? text(joined(info.destination)) : field === "port" ? int64(info.destination.port) : undefined;
    case "connection":
      return field === "id" ? int64(info.connectionId) : field === "mtls" ? bool(info.mtls) : undefined;
    case "upstream":
      if (!info.upstream) return undefined;
      return field === "address" ? text(joined(info.upstream)) : field === "port" ? int64(info.upstream.port) : undefined;
    case "route_name":
      return text(info.routeName);
    case "cluster_name":
      return text(info.clusterName);
  }
  return undefined;
}
