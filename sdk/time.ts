// The host's clock (wall time, as Envoy's time source gives it).
import { proxy_get_current_time_nanoseconds } from "./abi/imports";

const TIME_PTR: usize = memory.data(8, 8);

export namespace time {
  /** Nanoseconds since the Unix epoch. */
  export function nowNanos(): u64 {
    store<u64>(TIME_PTR, 0);
    proxy_get_current_time_nanoseconds(TIME_PTR);
    return load<u64>(TIME_PTR);
  }

  /** Milliseconds since the Unix epoch. */
  export function nowMillis(): u64 {
    return nowNanos() / 1_000_000;
  }
}
