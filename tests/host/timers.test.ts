// Timers: the tick period a module sets drives onTick: in the harness by hand (tick()) or as
// the test advances the clock, and on a real timer in a plugin the proxy runs.
import { describe, expect, it, vi } from "vitest";
import { Harness } from "../../host/testing/index.ts";
import { Plugin } from "../../host/plugin.ts";
import { wat } from "./wat.ts";

// Sets a 20 ms tick at vm start; counts ticks in the word at 256.
const ticking = wat(`
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $tick_period (i32.const 20))) (i32.const 1))
  (func (export "proxy_on_tick") (param i32)
    (i32.store (i32.const 256) (i32.add (i32.load (i32.const 256)) (i32.const 1))))`,
{ imports: `(import "env" "proxy_set_tick_period_milliseconds" (func $tick_period (param i32) (result i32)))` });

// Ticks every 20 ms, and sets 50 ms in its first onTick.
const slowing = wat(`
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $tick_period (i32.const 20))) (i32.const 1))
  (func (export "proxy_on_tick") (param i32)
    (i32.store (i32.const 256) (i32.add (i32.load (i32.const 256)) (i32.const 1)))
    (if (i32.eq (i32.load (i32.const 256)) (i32.const 1)) (then (drop (call $tick_period (i32.const 50))))))`,
{ imports: `(import "env" "proxy_set_tick_period_milliseconds" (func $tick_period (param i32) (result i32)))` });

describe("timers", () => {
  it("in the harness, ticks run when the test says so", async () => {
    const h = await Harness.load(ticking);
    expect(h.tickPeriodMs).toBe(20);
    h.tick();
    h.tick();
    expect(h.plugin.vm.u32(256)).toBe(2);
  });

  it("in the harness, advancing the clock runs the ticks that fall due", async () => {
    const h = await Harness.load(ticking);
    h.advance(19);
    expect(h.plugin.vm.u32(256)).toBe(0);
    h.advance(1);
    expect(h.plugin.vm.u32(256)).toBe(1);
    h.advance(100);
    expect(h.plugin.vm.u32(256)).toBe(6);
  });

  it("as in Envoy, a new period takes effect after the tick already scheduled; 0 stops the ticks", async () => {
    const h = await Harness.load(ticking); // ticks due at 20, 40, …
    h.advance(10);
    h.plugin.setTickPeriod(5);
    h.advance(9);
    expect(h.plugin.vm.u32(256)).toBe(0);
    h.advance(1); // 20: the tick scheduled before; then every 5
    expect(h.plugin.vm.u32(256)).toBe(1);
    h.advance(10);
    expect(h.plugin.vm.u32(256)).toBe(3);
    h.plugin.setTickPeriod(0);
    h.advance(100);
    expect(h.plugin.vm.u32(256)).toBe(3);
  });

  it("on the wall clock (clock: \"real\"), ticks run only when the test says so", async () => {
    const h = await Harness.load(ticking, { clock: "real" });
    await new Promise((r) => setTimeout(r, 70)); // three periods: no timer may fire them
    expect(h.plugin.vm.u32(256)).toBe(0);
    h.tick();
    expect(h.plugin.vm.u32(256)).toBe(1);
  });

  it("a period set in onTick times the next tick", async () => {
    const h = await Harness.load(slowing); // 20, then 50 from the first tick on
    h.advance(20);
    expect(h.plugin.vm.u32(256)).toBe(1);
    h.advance(49);
    expect(h.plugin.vm.u32(256)).toBe(1);
    h.advance(1);
    expect(h.plugin.vm.u32(256)).toBe(2);
  });

  it("with real timers, onTick runs every period until the plugin closes", async () => {
    const plugin = await Plugin.load(ticking, { live: true }, () => {});
    await vi.waitFor(() => expect(plugin.vm.u32(256)).toBeGreaterThanOrEqual(3), { timeout: 5000, interval: 20 });
    const ticks = plugin.vm.u32(256)!;
    plugin.close();
    await new Promise((r) => setTimeout(r, 80));
    expect(plugin.vm.u32(256)).toBe(ticks);
  });
});
