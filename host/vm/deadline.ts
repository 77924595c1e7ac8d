// Deadlines on calls into a module. At load, the host instruments its own in-memory copy of
// the module (the .wasm the author deploys is never changed) with a fuel counter that loop
// heads and the entries of functions that call other functions decrement; when it runs out,
// the code calls one host import, which compares the clock with the deadline of the call
// under way and throws past it (the throw unwinds the wasm as a trap), else refills the
// counter. The clock is first read at a call's first check, not at its start (a read per call
// cost more than a short callback), so a module that loops, recurses or spins ends within its
// deadline plus two refills' worth of work. host/vm/fuel.ts rewrites the bytes; docs/isolation.md has the choice,
// the alternatives and the measured cost.
import { GUARD_CHECK, GUARD_MODULE, type OffsetMap, instrumentFuel } from "./fuel.ts";

export { GUARD_MODULE, GUARD_CHECK };
/** Ticks (function entries and loop iterations) between two looks at the clock. */
export const TICKS_PER_CHECK = 10_000;
/** The default deadline of one call into a module, in ms (wall clock). */
export const DEFAULT_DEADLINE_MS = 1_000;

/** A call into the module ran past its deadline. */
export class DeadlineExceeded extends Error {
  override name = "DeadlineExceeded";
  constructor(readonly deadlineMs: number) {
    super(`ran past its deadline of ${deadlineMs} ms`);
  }
}

/** The module with fuel checks, and the map from its frames back to `bytes`; throws InstrumentError. */
export function instrumentForDeadlines(bytes: Uint8Array): { bytes: Uint8Array; offsets: OffsetMap } {
  return instrumentFuel(bytes, TICKS_PER_CHECK);
}
