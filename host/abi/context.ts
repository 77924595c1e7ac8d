// proxy_set_effective_context, proxy_done.
import type { AbiHost, HostFunctions } from "./host.ts";
import { Status } from "./types.ts";

export function contextFunctions(host: AbiHost): HostFunctions {
  return {
    proxy_set_effective_context(contextId: number): number {
      return host.setEffectiveContext(contextId >>> 0) ? Status.Ok : Status.BadArgument;
    },
    proxy_done(): number {
      return Status.Ok; // shutdown completes without waiting on the module
    },
  };
}
