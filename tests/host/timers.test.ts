// Timers: the tick period a module sets drives onTick, by hand in the harness and on a real
// timer in a plugin the proxy runs.
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

describe("timers", () => {
  it("in the harness, ticks run when the test says so", async () => {
    const h = await Harness.load(ticking);
    expect(h.tickPeriodMs).toBe(20);
    h.tick();
    h.tick();
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
