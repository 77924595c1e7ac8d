// Header maps: proxy_{get,add,replace,remove}_header_map_value, proxy_{get,set}_header_map_pairs,
// proxy_get_header_map_size, with Envoy's semantics (source/extensions/common/wasm/context.cc
// and HeaderMapImpl): names are lowercased; get answers the first value (NotFound when absent,
// but Ok with "" for ABI 0.1.0 modules); replace is setCopy (remove every value, then add);
// remove removes every value; set_pairs replaces the whole map; size is the map's byte size
// (names plus values); pseudo-headers (":…") stay ahead of the others, as Envoy keeps them.
import type { AbiHost, HostFunctions } from "./host.ts";
import { deserializePairs, invalidHeader, invalidPairs, writePairs, pairsSize } from "./pairs.ts";
import { type HeaderList, HeaderMapType, LogLevel, Status } from "./types.ts";

/** Maps only a callout or gRPC callback fills (4–7): read-only, and empty outside those callbacks. */
const isCalloutMap = (mapType: number) => mapType >= HeaderMapType.GrpcReceiveInitialMetadata && mapType <= HeaderMapType.HttpCallResponseTrailers;

/** Adds a pair where Envoy's header map puts it: a pseudo-header after the other pseudo-headers, any other at the end. */
export function addHeader(headers: HeaderList, name: string, value: string): void {
  if (name.charCodeAt(0) === 58 /* ":" */) {
    let i = 0;
    while (i < headers.length && headers[i][0].charCodeAt(0) === 58) i++;
    if (i < headers.length) {
      headers.splice(i, 0, [name, value]);
      return;
    }
  }
  headers.push([name, value]);
}

function firstIndex(headers: HeaderList, name: string): number {
  for (let i = 0; i < headers.length; i++) if (headers[i][0] === name) return i;
  return -1;
}

export function removeHeader(headers: HeaderList, name: string): void {
  let to = firstIndex(headers, name);
  if (to < 0) return; // none: the list is not touched
  for (let from = to + 1; from < headers.length; from++) if (headers[from][0] !== name) headers[to++] = headers[from];
  headers.length = to;
}

function firstValue(headers: HeaderList, name: string): string | undefined {
  const at = firstIndex(headers, name);
  return at < 0 ? undefined : headers[at][1];
}

export function headerMapFunctions(host: AbiHost): HostFunctions {
  const { vm } = host;
  const map = (mapType: number): HeaderList | null => {
    if (!isCalloutMap(mapType)) return host.current?.headerMap(mapType) ?? null;
    if (mapType === HeaderMapType.GrpcReceiveInitialMetadata) return host.outbound.grpcReceived?.initialMetadata ?? null;
    if (mapType === HeaderMapType.GrpcReceiveTrailingMetadata) return host.outbound.grpcReceived?.trailingMetadata ?? null;
    const response = host.outbound.calloutResponse;
    if (!response) return null;
    if (mapType === HeaderMapType.HttpCallResponseHeaders) return response.headers;
    if (mapType === HeaderMapType.HttpCallResponseTrailers) return response.trailers;
    return null;
  };
  /** A map the module may change, or null (BadArgument). */
  const mutable = (mapType: number): HeaderList | null => (isCalloutMap(mapType) ? null : map(mapType));
  const legacy = () => vm.abiVersion === "0.1.0";
  /** BadArgument for a header that could not go on the wire (it would split or end the message). */
  const refuse = (fn: string, reason: string): number => {
    host.log(LogLevel.Debug, `${fn}: ${reason}; answering BadArgument`);
    return Status.BadArgument;
  };

  return {
    proxy_get_header_map_value(mapType: number, keyPtr: number, keyLen: number, valuePtrPtr: number, valueLenPtr: number): number {
      const key = vm.string(keyPtr, keyLen);
      if (key === null) return Status.InvalidMemoryAccess;
      const headers = map(mapType);
      if (headers === null && !isCalloutMap(mapType)) return Status.BadArgument;
      const value = headers === null ? undefined : firstValue(headers, key.toLowerCase());
      if (value === undefined && !legacy()) return Status.NotFound;
      return vm.giveStringOut(value ?? "", valuePtrPtr, valueLenPtr) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_add_header_map_value(mapType: number, keyPtr: number, keyLen: number, valuePtr: number, valueLen: number): number {
      const key = vm.string(keyPtr, keyLen), value = vm.string(valuePtr, valueLen);
      if (key === null || value === null) return Status.InvalidMemoryAccess;
      const headers = mutable(mapType);
      if (headers === null) return Status.BadArgument;
      const invalid = invalidHeader(key, value);
      if (invalid !== null) return refuse("proxy_add_header_map_value", invalid);
      addHeader(headers, key.toLowerCase(), value);
      return Status.Ok;
    },

    proxy_replace_header_map_value(mapType: number, keyPtr: number, keyLen: number, valuePtr: number, valueLen: number): number {
      const key = vm.string(keyPtr, keyLen), value = vm.string(valuePtr, valueLen);
      if (key === null || value === null) return Status.InvalidMemoryAccess;
      const headers = mutable(mapType);
      if (headers === null) return Status.BadArgument;
      const invalid = invalidHeader(key, value);
      if (invalid !== null) return refuse("proxy_replace_header_map_value", invalid);
      const name = key.toLowerCase();
      // The one value, last in the map (such as a filter earlier in the chain set it): removing
      // and adding again would put it back where it is.
      const last = headers.length - 1;
      if (last >= 0 && headers[last][0] === name && name.charCodeAt(0) !== 58 /* ":" */ && firstIndex(headers, name) === last) {
        headers[last] = [name, value];
        return Status.Ok;
      }
      removeHeader(headers, name);
      addHeader(headers, name, value);
      return Status.Ok;
    },

    proxy_remove_header_map_value(mapType: number, keyPtr: number, keyLen: number): number {
      const key = vm.string(keyPtr, keyLen);
      if (key === null) return Status.InvalidMemoryAccess;
      const headers = mutable(mapType);
      if (headers === null) return Status.BadArgument;
      removeHeader(headers, key.toLowerCase());
      return Status.Ok;
    },

    proxy_get_header_map_pairs(mapType: number, ptrPtr: number, lenPtr: number): number {
      // Envoy answers an absent map with no pairs.
      const headers = map(mapType) ?? [];
      const size = pairsSize(headers);
      const ptr = vm.reserveOut(size, ptrPtr, lenPtr);
      if (ptr < 0) return Status.InvalidMemoryAccess;
      if (size) writePairs(headers, vm.memoryBytes, ptr);
      return Status.Ok;
    },

    proxy_set_header_map_pairs(mapType: number, ptr: number, len: number): number {
      const bytes = vm.bytes(ptr, len);
      if (bytes === null) return Status.InvalidMemoryAccess;
      const pairs = deserializePairs(bytes);
      if (pairs === null) return Status.BadArgument;
      if (mutable(mapType) === null) return Status.BadArgument;
      const invalid = invalidPairs(pairs);
      if (invalid !== null) return refuse("proxy_set_header_map_pairs", invalid);
      const lowered: HeaderList = [];
      for (const [n, v] of pairs) addHeader(lowered, n.toLowerCase(), v);
      return host.current!.replaceHeaderMap(mapType, lowered) ? Status.Ok : Status.BadArgument;
    },

    proxy_get_header_map_size(mapType: number, sizePtr: number): number {
      const headers = mutable(mapType);
      if (headers === null) return Status.BadArgument;
      let bytes = 0;
      for (let i = 0; i < headers.length; i++) bytes += Buffer.byteLength(headers[i][0]) + Buffer.byteLength(headers[i][1]);
      return vm.setU32(sizePtr, bytes) ? Status.Ok : Status.InvalidMemoryAccess;
    },
  };
}
