// Shared data: proxy_get_shared_data, proxy_set_shared_data (per vm_id, compare-and-swap).
// Bounded (SharedLimits): a key or value too large answers BadArgument; a vm_id whose data
// would pass its bound answers InternalFailure. Each refusal kind is logged once per VM.
import type { SharedState } from "../state/shared.ts";
import type { AbiHost, HostFunctions } from "./host.ts";
import { LogLevel, Status } from "./types.ts";

/** The largest value a module may store by default (SharedLimits.maxValueBytes). */
export const MAX_SHARED_VALUE_BYTES = 1 << 20;

export function sharedDataFunctions(host: AbiHost, shared: SharedState): HostFunctions {
  const { vm } = host;
  const reported = new Set<string>();
  const refuse = (kind: string, status: Status, message: string): number => {
    if (!reported.has(kind)) {
      reported.add(kind);
      host.log(LogLevel.Warn, `proxy_set_shared_data: ${message}; answering ${status === Status.BadArgument ? "BadArgument" : "InternalFailure"} (logged once)`);
    }
    return status;
  };
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
      const { limits } = shared;
      if (keyLen >>> 0 > limits.maxKeyBytes) return refuse("key", Status.BadArgument, `a key of ${keyLen >>> 0} bytes is longer than ${limits.maxKeyBytes}`);
      const key = vm.string(keyPtr, keyLen);
      const value = vm.bytes(valuePtr, valueLen);
      if (key === null || value === null) return Status.InvalidMemoryAccess;
      if (value.length > limits.maxValueBytes) {
        return refuse("value", Status.BadArgument, `${value.length} bytes for "${key}" is more than ${limits.maxValueBytes}`);
      }
      const result = shared.set(host.vmId, key, value.slice(), cas >>> 0);
      if (result === "full") {
        return refuse("full", Status.InternalFailure, `vm_id "${host.vmId}" would hold more than ${limits.maxBytesPerVmId} bytes of shared data`);
      }
      return result === "ok" ? Status.Ok : Status.CasMismatch;
    },
  };
}
