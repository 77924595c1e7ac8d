// The root context's timer: onTick every period.
import { proxy_set_tick_period_milliseconds } from "./abi/imports";

/** Calls the root context's onTick every `ms` milliseconds from now on; 0 stops it. */
export function setTickPeriod(ms: u32): void {
  proxy_set_tick_period_milliseconds(ms);
}
