// ManualClock: the time a harness test drives, and the timers on it.
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../host/clock.ts";

describe("ManualClock", () => {
  it("runs the timers that fall due in time order, the first set first at the same instant, each at its time", () => {
    const clock = new ManualClock(1_000n);
    const ran: string[] = [];
    const at = (name: string) => () => ran.push(`${name}@${clock.nowNanos() - 1_000n}`);
    clock.setTimer(2, at("b"));
    clock.setTimer(1, at("a"));
    clock.setTimer(2, at("c"));
    clock.setTimer(5, at("late"));
    clock.advance(3);
    expect(ran).toEqual(["a@1000000", "b@2000000", "c@2000000"]);
    expect(clock.nowNanos()).toBe(3_001_000n);
    expect(clock.monotonicNanos()).toBe(3_000_000n);
  });

  it("runs a timer set by another during the same advance when it falls due before the end", () => {
    const clock = new ManualClock(0n);
    const ran: bigint[] = [];
    const every10 = () => {
      ran.push(clock.nowNanos());
      clock.setTimer(10, every10);
    };
    clock.setTimer(10, every10);
    clock.advance(35);
    expect(ran).toEqual([10_000_000n, 20_000_000n, 30_000_000n]);
  });

  it("a cancelled timer does not run; a negative or non-finite advance is refused", () => {
    const clock = new ManualClock(0n);
    let runs = 0;
    clock.setTimer(1, () => runs++).cancel();
    clock.advance(10);
    expect(runs).toBe(0);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.advance(Number.NaN)).toThrow(RangeError);
    expect(clock.nowNanos()).toBe(10_000_000n);
  });
});
