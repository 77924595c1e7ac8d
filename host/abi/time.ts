// proxy_get_current_time_nanoseconds: wall-clock time, as Envoy's time source gives it (the
// plugin's clock: the wall clock in a proxy, perhaps a test's manual clock in the harness).
import type { AbiHost, HostFunctions } from "./host.ts";
import { Status } from "./types.ts";

export function timeFunctions(host: AbiHost): HostFunctions {
  return {
    proxy_get_current_time_nanoseconds(timePtr: number): number {
      return host.vm.setU64(timePtr, host.clock.nowNanos()) ? Status.Ok : Status.InvalidMemoryAccess;
    },
  };
}
