// Shared data: proxy_get_shared_data, proxy_set_shared_data (per vm_id, compare-and-swap).
import type { SharedState } from "../shared.ts";
import type { AbiHost, HostFunctions } from "./host.ts";
import { LogLevel, Status } from "./types.ts";

/** The largest value a module may store; larger ones are refused as Envoy refuses them. */
export const MAX_SHARED_VALUE_BYTES = 1 << 20;

export function sharedDataFunctions(host: AbiHost, shared: SharedState): HostFunctions {
  const { vm } = host;
  return {
    proxy_get_shared_data(keyPtr: number, keyLen: number, valuePtrPtr: number, valueLenPtr: number, casPtr: number): number {
      const key = vm.string(keyPtr, keyLen);
      if (key === null) return Status.InvalidMemoryAccess;
      const entry = shared.get(host.vmId, key);
      if (!entry) return Status.NotFound;
      if (!vm.setU32(casPtr, entry.cas)) return Status.InvalidMemoryAccess;
      return vm.giveOut(entry.value, valuePtrPtr, valueLenPtr) ? Status.Ok : Status.InvalidMemoryAccess;
    },
    proxy_set_shared_data(keyPtr: number, keyLen: number, valuePtr: number, valueLen: number, cas: number): number {
      const key = vm.string(keyPtr, keyLen);
      const value = vm.bytes(valuePtr, valueLen);
      if (key === null || value === null) return Status.InvalidMemoryAccess;
      if (value.length > MAX_SHARED_VALUE_BYTES) {
        host.log(LogLevel.Debug, `proxy_set_shared_data: ${value.length} bytes for "${key}" is more than ${MAX_SHARED_VALUE_BYTES}`);
        return Status.BadArgument;
      }
      return shared.set(host.vmId, key, value.slice(), cas >>> 0) === "ok" ? Status.Ok : Status.CasMismatch;
    },
  };
}
