// The time a plugin sees — proxy_get_current_time_nanoseconds, WASI's clocks, the stream
// properties that depend on time (request.time, request.duration) — and the timer behind its
// onTick. A proxy runs on the wall clock; a test can run a plugin on a ManualClock, which moves
// only when the test advances it and runs the timers that fall due on the way.

/** Wall-clock nanoseconds since the epoch, at sub-millisecond resolution. */
export function nowNanos(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Wall-clock time, in ns since the epoch. */
  nowNanos(): bigint;
  /** Monotonic time in ns, from an arbitrary origin (WASI's monotonic clocks). */
  monotonicNanos(): bigint;
  /** Calls `action` once, `ms` from now on this clock. */
  setTimer(ms: number, action: () => void): Timer;
}

/** Real time; its timers do not keep the process alive. */
export const wallClock: Clock = {
  nowNanos,
  monotonicNanos: () => process.hrtime.bigint(),
  setTimer(ms, action) {
    const timeout = setTimeout(action, ms);
    timeout.unref();
    return { cancel: () => clearTimeout(timeout) };
  },
};

interface PendingTimer extends Timer {
  due: bigint;
  action: () => void;
}

const NANOS_PER_MS = 1_000_000;

/** A clock a test drives: time stands still until advance(). */
export class ManualClock implements Clock {
  private now: bigint;
  private readonly origin: bigint;
  /** In the order they were set: among timers due at the same instant, the first set runs first. */
  private timers: PendingTimer[] = [];

  /** Starts at `startNanos` (default: the wall clock's now, so absolute times look real). */
  constructor(startNanos: bigint = nowNanos()) {
    this.now = this.origin = startNanos;
  }

  nowNanos(): bigint {
    return this.now;
  }

  monotonicNanos(): bigint {
    return this.now - this.origin;
  }

  setTimer(ms: number, action: () => void): Timer {
    const timer: PendingTimer = {
      due: this.now + toNanos(ms),
      action,
      cancel: () => {
        this.timers = this.timers.filter((t) => t !== timer);
      },
    };
    this.timers.push(timer);
    return timer;
  }

  /**
   * Moves time forward by `ms`, running every timer that falls due on the way in time order,
   * each with the clock at its due time (so a timer a callback sets again from there runs
   * again if it too falls due before the end).
   */
  advance(ms: number): void {
    const end = this.now + toNanos(ms);
    for (let next = this.firstDue(end); next !== null; next = this.firstDue(end)) {
      this.timers = this.timers.filter((t) => t !== next);
      this.now = next.due;
      next.action();
    }
    this.now = end;
  }

  private firstDue(end: bigint): PendingTimer | null {
    let first: PendingTimer | null = null;
    for (const timer of this.timers) if (timer.due <= end && (first === null || timer.due < first.due)) first = timer;
    return first;
  }
}

function toNanos(ms: number): bigint {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`expected a duration in ms of 0 or more, got ${ms}`);
  return BigInt(Math.round(ms * NANOS_PER_MS));
}
