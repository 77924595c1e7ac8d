// proxy_set_tick_period_milliseconds: the root context's onTick every period (0 stops it).
import type { AbiHost, HostFunctions } from "./host.ts";
import { Status } from "./types.ts";

export function timerFunctions(host: AbiHost): HostFunctions {
  return {
    proxy_set_tick_period_milliseconds(periodMs: number): number {
      host.setTickPeriod(periodMs >>> 0);
      return Status.Ok;
    },
  };
}
