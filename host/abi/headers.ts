// Header maps: proxy_{get,add,replace,remove}_header_map_value, proxy_{get,set}_header_map_pairs,
// proxy_get_header_map_size. Names are matched lowercase; get answers the first value.
import type { AbiHost, HostFunctions } from "./host.ts";
import { deserializePairs, serializePairs } from "./pairs.ts";
import { type HeaderList, Status } from "./types.ts";

export function headerMapFunctions(host: AbiHost): HostFunctions {
  const { vm } = host;
  const map = (mapType: number): HeaderList | null => host.current?.headerMap(mapType) ?? null;

  return {
    proxy_get_header_map_value(mapType: number, keyPtr: number, keyLen: number, valuePtrPtr: number, valueLenPtr: number): number {
      const key = vm.string(keyPtr, keyLen);
      if (key === null) return Status.InvalidMemoryAccess;
      const headers = map(mapType);
      if (headers === null) return Status.BadArgument;
      const name = key.toLowerCase();
      const entry = headers.find(([n]) => n === name);
      if (!entry) return Status.NotFound;
      return vm.giveOut(vm.encode(entry[1]), valuePtrPtr, valueLenPtr) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_add_header_map_value(mapType: number, keyPtr: number, keyLen: number, valuePtr: number, valueLen: number): number {
      const key = vm.string(keyPtr, keyLen), value = vm.string(valuePtr, valueLen);
      if (key === null || value === null) return Status.InvalidMemoryAccess;
      const headers = map(mapType);
      if (headers === null) return Status.BadArgument;
      headers.push([key.toLowerCase(), value]);
      return Status.Ok;
    },

    proxy_replace_header_map_value(mapType: number, keyPtr: number, keyLen: number, valuePtr: number, valueLen: number): number {
      const key = vm.string(keyPtr, keyLen), value = vm.string(valuePtr, valueLen);
      if (key === null || value === null) return Status.InvalidMemoryAccess;
      const headers = map(mapType);
      if (headers === null) return Status.BadArgument;
      const name = key.toLowerCase();
      const first = headers.findIndex(([n]) => n === name);
      if (first < 0) {
        headers.push([name, value]);
        return Status.Ok;
      }
      headers[first] = [name, value];
      for (let i = headers.length - 1; i > first; i--) if (headers[i][0] === name) headers.splice(i, 1);
      return Status.Ok;
    },

    proxy_remove_header_map_value(mapType: number, keyPtr: number, keyLen: number): number {
      const key = vm.string(keyPtr, keyLen);
      if (key === null) return Status.InvalidMemoryAccess;
      const headers = map(mapType);
      if (headers === null) return Status.BadArgument;
      const name = key.toLowerCase();
      for (let i = headers.length - 1; i >= 0; i--) if (headers[i][0] === name) headers.splice(i, 1);
      return Status.Ok;
    },

    proxy_get_header_map_pairs(mapType: number, ptrPtr: number, lenPtr: number): number {
      const headers = map(mapType);
      if (headers === null) return Status.BadArgument;
      return vm.giveOut(serializePairs(headers), ptrPtr, lenPtr) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_set_header_map_pairs(mapType: number, ptr: number, len: number): number {
      const bytes = vm.bytes(ptr, len);
      if (bytes === null) return Status.InvalidMemoryAccess;
      const pairs = deserializePairs(bytes);
      if (pairs === null) return Status.BadArgument;
      if (!host.current || !host.current.replaceHeaderMap(mapType, pairs.map(([n, v]) => [n.toLowerCase(), v]))) return Status.BadArgument;
      return Status.Ok;
    },

    proxy_get_header_map_size(mapType: number, sizePtr: number): number {
      const headers = map(mapType);
      if (headers === null) return Status.BadArgument;
      return vm.setU32(sizePtr, headers.length) ? Status.Ok : Status.InvalidMemoryAccess;
    },
  };
}
