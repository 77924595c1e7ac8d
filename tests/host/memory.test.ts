// Memory bounds: a VM's linear memory is capped (memory.grow answers -1 past it), and what
// modules keep in the host (shared data, queues, a stdout line waiting for its newline) is
// bounded, refused past the bound with the ABI's status, logged once.
import { describe, expect, it } from "vitest";
import { Harness, SharedState } from "../../host/testing/index.ts";
import { wat } from "./wat.ts";

const OK = 0, BAD_ARGUMENT = 2, INTERNAL_FAILURE = 10;

/** Request headers: memory.grow by the word at 300 (result at 200); with the word at 304 set, grows a page at a time until refused, then traps (an allocator's out-of-memory path). */
const growing = wat(`
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (i32.store (i32.const 200) (memory.grow (i32.load (i32.const 300))))
    (if (i32.load (i32.const 304)) (then
      (loop $more (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
      unreachable))
    (i32.const 0))`);

describe("a VM's linear memory", () => {
  it("memory.grow answers -1 past the cap (1 GiB by default) and grows below it", async () => {
    const h = await Harness.load(growing);
    h.plugin.vm.setU32(300, 16384); // 1 page + 1 GiB
    h.http().sendRequestHeaders({ ":path": "/" }, true);
    expect(h.plugin.vm.u32(200)).toBe(0xffffffff);
    const small = await Harness.load(growing, { memoryLimitBytes: 1 << 20 });
    small.plugin.vm.setU32(300, 16); // 17 pages > 16
    small.http().sendRequestHeaders({ ":path": "/" }, true);
    expect(small.plugin.vm.u32(200)).toBe(0xffffffff);
    small.plugin.vm.setU32(300, 15); // exactly 16 pages
    small.http().sendRequestHeaders({ ":path": "/" }, true);
    expect(small.plugin.vm.u32(200)).toBe(1);
  });

  it("a module that allocates without bound fails only its stream; the next request is served", async () => {
    const h = await Harness.load(growing, { memoryLimitBytes: 4 << 20 });
    h.plugin.vm.setU32(304, 1);
    const s = h.http();
    s.sendRequestHeaders({ ":path": "/" }, true);
    expect(s.localReply?.status).toBe(503);
    expect(s.failure?.reason).toMatch(/proxy_on_request_headers trapped: unreachable/);
    const next = h.http();
    next.sendRequestHeaders({ ":path": "/" }, true);
    expect(next.failure).toBeNull();
    expect(next.request.headersSent).toBe(true);
  });

  it("refuses a module whose memory starts past the cap, saying so", async () => {
    await expect(Harness.load(wat(`(memory (export "memory") 32) (func (export "proxy_abi_version_0_2_1"))
      (func (export "malloc") (param i32) (result i32) (i32.const 8))`, { bare: true }), { memoryLimitBytes: 1 << 20 }))
      .rejects.toThrow("its memory starts at 32 pages (2097152 bytes), over the cap of 16 pages (1048576 bytes)");
  });
});

const FLOOD_IMPORTS = `
  (import "env" "proxy_set_shared_data" (func $set (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_register_shared_queue" (func $register (param i32 i32 i32) (result i32)))
  (import "env" "proxy_enqueue_shared_queue" (func $enqueue (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))`;

/**
 * Each request is one flood of each kind, with keys never used before: up to 100 shared-data
 * values of 256 KiB (the first refusal's status at 200, successes at 212), 2,000 queue items
 * of 64 KiB (first refusal at 204), and 4 MiB to stdout without a newline. With the word at
 * 308 set, one set with a key of 5,000 bytes (status at 216).
 */
const flooding = wat(`
  (memory (export "memory") 8)
  (func (export "proxy_abi_version_0_2_1"))
  (global $heap (mut i32) (i32.const 400000))
  (func (export "malloc") (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (if (i32.gt_u (global.get $heap) (i32.const 500000)) (then (global.set $heap (i32.const 400000))))
    (local.get $ptr))
  (data (i32.const 100) "q")
  (global $flood (mut i32) (i32.const 0))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $register (i32.const 100) (i32.const 1) (i32.const 96)))
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (local $i i32) (local $status i32)
    (global.set $flood (i32.add (global.get $flood) (i32.const 1)))
    (i32.store (i32.const 200) (i32.const 0))
    (i32.store (i32.const 204) (i32.const 0))
    (i32.store (i32.const 212) (i32.const 0))
    ;; key "k" + flood + i at 120 (9 bytes); values from 65536
    (i32.store8 (i32.const 120) (i32.const 107))
    (i32.store (i32.const 121) (global.get $flood))
    (local.set $i (i32.const 0))
    (block $done (loop $next
      (i32.store (i32.const 125) (local.get $i))
      (local.set $status (call $set (i32.const 120) (i32.const 9) (i32.const 65536) (i32.const 262144) (i32.const 0)))
      (if (local.get $status) (then (i32.store (i32.const 200) (local.get $status)) (br $done)))
      (i32.store (i32.const 212) (i32.add (i32.load (i32.const 212)) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 100)))))
    (local.set $i (i32.const 0))
    (block $qdone (loop $qnext
      (local.set $status (call $enqueue (i32.load (i32.const 96)) (i32.const 65536) (i32.const 65536)))
      (if (local.get $status) (then (i32.store (i32.const 204) (local.get $status)) (br $qdone)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $qnext (i32.lt_u (local.get $i) (i32.const 2000)))))
    ;; stdout: 16 writes of 256 KiB of 'a' (from 65536, filled below), no newline
    (memory.fill (i32.const 65536) (i32.const 97) (i32.const 262144))
    (i32.store (i32.const 32) (i32.const 65536))
    (i32.store (i32.const 36) (i32.const 262144))
    (local.set $i (i32.const 0))
    (loop $wnext
      (drop (call $write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 40)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $wnext (i32.lt_u (local.get $i) (i32.const 16))))
    (if (i32.load (i32.const 308)) (then
      (i32.store (i32.const 216) (call $set (i32.const 65536) (i32.const 5000) (i32.const 65536) (i32.const 1) (i32.const 0)))))
    (i32.const 0))`, { bare: true, imports: FLOOD_IMPORTS });

describe("what modules keep in the host is bounded", () => {
  it("shared data, queue depth and a stdout line hold their bounds, each refusal logged once", async () => {
    const shared = new SharedState({ maxBytesPerVmId: 4 << 20, maxQueueDepth: 500 });
    const h = await Harness.load(flooding, { shared, vmId: "flood", logLevel: "info" });
    const vm = h.plugin.vm;
    for (let i = 0; i < 3; i++) h.http().sendRequestHeaders({ ":path": "/" }, true);
    expect(vm.u32(200)).toBe(INTERNAL_FAILURE);
    expect(vm.u32(212)).toBe(0); // the store was already full: this flood added nothing
    expect(shared.bytes("flood")).toBeLessThanOrEqual(4 << 20);
    expect(shared.bytes("flood")).toBeGreaterThan((4 << 20) - (256 << 10) - 64);
    expect(vm.u32(204)).toBe(INTERNAL_FAILURE);
    const warnings = h.logMessages("warn");
    expect(warnings.filter((m) => m.startsWith('proxy_set_shared_data: vm_id "flood" would hold more than 4194304 bytes'))).toHaveLength(1);
    expect(warnings.filter((m) => m.startsWith("proxy_enqueue_shared_queue: queue 1 is full; answering InternalFailure"))).toHaveLength(1);
    expect(warnings.filter((m) => m.startsWith("fd_write: a line longer than 65536 characters"))).toHaveLength(1);
    // 3 floods of 4 MiB without a newline: logged in 64 KiB pieces, never held whole.
    const pieces = h.logMessages("info");
    expect(pieces.length).toBeGreaterThanOrEqual(190);
    expect(pieces.every((m) => m.length === 65536)).toBe(true);
    vm.setU32(308, 1);
    h.http().sendRequestHeaders({ ":path": "/" }, true);
    expect(vm.u32(216)).toBe(BAD_ARGUMENT);
    expect(h.logMessages("warn")).toContain("proxy_set_shared_data: a key of 5000 bytes is longer than 4096; answering BadArgument (logged once)");
  });

  it("over 100 floods the process's memory stays within 64 MiB of where it was after the first", async () => {
    const shared = new SharedState({ maxBytesPerVmId: 16 << 20, maxQueueDepth: 200 });
    const h = await Harness.load(flooding, { shared, vmId: "flood", logLevel: "warn" });
    const flood = () => h.http().sendRequestHeaders({ ":path": "/" }, true);
    for (let i = 0; i < 5; i++) flood();
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 100; i++) flood();
    (globalThis as { gc?: () => void }).gc?.();
    const grown = process.memoryUsage().rss - before;
    // Unbounded, each flood would keep 25 MiB of shared data and 125 MiB of queue items.
    expect(grown).toBeLessThan(64 << 20);
    expect(shared.bytes("flood")).toBeLessThanOrEqual(16 << 20);
    expect(h.plugin.vm.u32(200)).toBe(INTERNAL_FAILURE);
  });
});

describe("the default bounds", () => {
  it("take 25 MiB of shared data for a vm_id; a queue stops at 64 MiB waiting", async () => {
    const h = await Harness.load(flooding, { vmId: "calm", logLevel: "warn" });
    h.http().sendRequestHeaders({ ":path": "/" }, true);
    expect(h.plugin.vm.u32(212)).toBe(100); // 100 × 256 KiB = 25 MiB, under the default 64 MiB
    expect(h.plugin.vm.u32(200)).toBe(OK);
    expect(h.plugin.vm.u32(204)).toBe(INTERNAL_FAILURE); // 2,000 × 64 KiB = 125 MiB: past the 64 MiB a queue may hold
  });
});
