// Deadlines on calls into a module, and the one-line errors of a module whose start goes
// wrong. Durations are only checked against generous bounds: the point is that the call ends.
import { InstrumentError, instrumentFuel } from "../../host/vm/fuel.ts";
import { describe, expect, it } from "vitest";
import { Harness } from "../../host/testing/index.ts";
import { IMPORTS, watPairs } from "./hostile.ts";
import { wat } from "./wat.ts";

const forever = `(loop $l (br $l))`;

/** Loops forever in the callback named, when the word at 300 is set (request headers) or always (others). */
const looping = wat(`
  (data (i32.const 100) "x-a")
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (if (i32.load (i32.const 300)) (then ${forever}))
    (i32.const 0))
  (func (export "proxy_on_tick") (param i32) ${forever})`, { imports: IMPORTS });

describe("a deadline on every call into a module", () => {
  it("ends a callback that loops: that stream gets 503 and the reason names the callback and the deadline; the next stream runs on a fresh VM", async () => {
    const h = await Harness.load(looping, { deadlineMs: 200 });
    h.plugin.vm.setU32(300, 1);
    const s = h.http();
    const started = performance.now();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(s.localReply?.status).toBe(503);
    expect(s.failure?.reason).toMatch(/^proxy_on_request_headers ran past its deadline of 200 ms/);
    expect(h.logMessages("error").some((m) => m.startsWith("proxy_on_request_headers ran past its deadline of 200 ms"))).toBe(true);
    expect(h.logs.find((l) => l.level === "error")?.plugin).toBe("plugin");
    const next = h.http();
    next.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(next.failure).toBeNull();
    expect(next.request.headersSent).toBe(true);
  });

  it("is 1 s by default", async () => {
    const h = await Harness.load(looping);
    expect(h.plugin.deadlineMs).toBe(1000);
    h.plugin.vm.setU32(300, 1);
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(s.failure?.reason).toMatch(/^proxy_on_request_headers ran past its deadline of 1000 ms/);
  });

  it("ends work without any loop: exponential recursion, and a call tree of 2^40 calls with no recursion", async () => {
    const fib = wat(`
      (func $fib (param $n i32) (result i32)
        (if (result i32) (i32.lt_u (local.get $n) (i32.const 2)) (then (local.get $n))
          (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (drop (call $fib (i32.const 60))) (i32.const 0))`);
    // f0 calls f1 twice, f1 calls f2 twice, … f39 adds one: no loop, no cycle in the call graph.
    const chain = Array.from({ length: 40 }, (_, i) => i < 39
      ? `(func $f${i} (call $f${i + 1}) (call $f${i + 1}))`
      : `(func $f${i} (global.set $n (i32.add (global.get $n) (i32.const 1))))`).join("\n");
    const tree = wat(`(global $n (mut i32) (i32.const 0)) ${chain}
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (call $f0) (i32.const 0))`);
    for (const module of [fib, tree]) {
      const h = await Harness.load(module, { deadlineMs: 100 });
      const s = h.http();
      s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
      expect(s.failure?.reason).toMatch(/^proxy_on_request_headers ran past its deadline of 100 ms/);
    }
  });

  it("ends a tick that loops (the VM fails; nothing escapes)", async () => {
    const h = await Harness.load(looping, { deadlineMs: 100 });
    expect(() => h.tick()).not.toThrow();
    expect(h.plugin.failed).toBe(true);
    expect(h.logMessages("error")[0]).toMatch(/^proxy_on_tick ran past its deadline of 100 ms/);
  });

  it("ends an allocator that loops when the host calls it inside a callback, naming both", async () => {
    const imports = `(import "env" "proxy_get_header_map_value" (func $header (param i32 i32 i32 i32 i32) (result i32)))`;
    const h = await Harness.load(wat(`
      (memory (export "memory") 1)
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "malloc") (param i32) (result i32) ${forever} (i32.const 0))
      (data (i32.const 100) ":path")
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $header (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 16) (i32.const 20)))
        (i32.const 0))`, { bare: true, imports }), { deadlineMs: 100 });
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(s.localReply?.status).toBe(503);
    expect(s.failure?.reason).toMatch(/^proxy_on_request_headers \(in malloc\) ran past its deadline of 100 ms/);
  });

  it("deadlineMs 0 turns deadlines off (the module runs uninstrumented); a short deadline ends the same long loop", async () => {
    // About 200 million iterations: a fraction of a second, far past 1 ms.
    const long = wat(`
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (local $i i32)
        (local.set $i (i32.const 200000000))
        (loop $l (local.set $i (i32.sub (local.get $i) (i32.const 1))) (br_if $l (local.get $i)))
        (i32.const 0))`);
    const off = await Harness.load(long, { deadlineMs: 0 });
    expect(off.plugin.deadlineMs).toBe(0);
    expect(WebAssembly.Module.imports(off.plugin.vm.checked.module).some((i) => i.module === "proxy-wasm-as:guard")).toBe(false);
    const s = off.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(s.failure).toBeNull();
    const short = await Harness.load(long, { deadlineMs: 1 });
    const t = short.http();
    t.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(t.failure?.reason).toMatch(/ran past its deadline of 1 ms/);
  });

  it("keeps the module's own function names in trap stacks", async () => {
    const h = await Harness.load(wat(`(func $my_named_function unreachable)
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (call $my_named_function) (i32.const 0))`, { names: true }));
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(s.failure?.reason).toContain("my_named_function");
  });
});

describe("a module whose start goes wrong fails to load with one line naming the module and the cause", () => {
  const load = (body: string, imports = "") => Harness.load(wat(body, { imports }), { deadlineMs: 200 });
  const oneLine = async (p: Promise<unknown>): Promise<string> => {
    const error = await p.then(() => null, (e: Error) => e);
    expect(error?.name).toBe("PluginStartError");
    expect(error!.message).not.toContain("\n");
    return error!.message;
  };

  it("an _initialize, onVmStart or onConfigure that loops: its deadline", async () => {
    expect(await oneLine(load(`(func (export "_initialize") ${forever})`)))
      .toBe("plugin plugin (inline module): _initialize ran past its deadline of 200 ms while starting");
    expect(await oneLine(load(`(func (export "proxy_on_vm_start") (param i32 i32) (result i32) ${forever} (i32.const 1))`)))
      .toBe("plugin plugin (inline module): proxy_on_vm_start ran past its deadline of 200 ms while starting");
    expect(await oneLine(load(`(func (export "proxy_on_configure") (param i32 i32) (result i32) ${forever} (i32.const 1))`)))
      .toBe("plugin plugin (inline module): proxy_on_configure ran past its deadline of 200 ms while starting");
  });

  it("a start section that loops, traps, or calls the host", async () => {
    expect(await oneLine(load(`(func $s ${forever}) (start $s)`)))
      .toBe("plugin plugin (inline module): the start section ran past its deadline of 200 ms while starting");
    expect(await oneLine(load(`(func $s unreachable) (start $s)`)))
      .toMatch(/^plugin plugin \(inline module\): the start section trapped: unreachable/);
    expect(await oneLine(load(`(func $s (drop (call $log (i32.const 2) (i32.const 0) (i32.const 1)))) (start $s)`, IMPORTS)))
      .toBe("plugin plugin (inline module): the start section called proxy_log: a start section may call no host function (Envoy cannot instantiate such a module) while starting");
  });

  it("an _initialize that calls a host function it may not call there; logging there is fine", async () => {
    expect(await oneLine(load(`(func (export "_initialize") (drop (call $tick_period (i32.const 10))))`, IMPORTS)))
      .toBe("plugin plugin (inline module): _initialize called proxy_set_tick_period_milliseconds, which hosts do not allow during start (only logging, clocks, random and WASI) while starting");
    const h = await load(`(data (i32.const 100) "hello") (func (export "_initialize") (drop (call $log (i32.const 2) (i32.const 100) (i32.const 5))))`, IMPORTS);
    expect(h.logMessages("info")).toEqual(["hello"]);
  });

  it("names the module's file", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const file = join(mkdtempSync(join(tmpdir(), "pwa-")), "spin.wasm");
    writeFileSync(file, wat(`(func (export "_initialize") ${forever})`));
    expect(await oneLine(Harness.load(file, { deadlineMs: 100, pluginName: "spin" })))
      .toBe(`plugin spin (${file}): _initialize ran past its deadline of 100 ms while starting`);
  });
});

describe("deadlines on calls the host makes outside a stream callback", () => {
  const [pairs, pairsLen] = watPairs([[":method", "GET"], [":path", "/"], [":authority", "auth"]]);
  /** Request headers enqueue on its own queue, make a callout and a gRPC call; the callbacks loop when the word at 310 / 314 / 318 is set. */
  const answering = wat(`
    (data (i32.const 100) "q")
    (data (i32.const 110) "auth")
    (data (i32.const 120) "svc")
    (data (i32.const 130) "Method")
    (data (i32.const 1000) "${pairs}")
    (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
      (drop (call $register (i32.const 100) (i32.const 1) (i32.const 96)))
      (i32.const 1))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $enqueue (i32.load (i32.const 96)) (i32.const 100) (i32.const 1)))
      (drop (call $http_call (i32.const 110) (i32.const 4) (i32.const 1000) (i32.const ${pairsLen})
        (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 24)))
      (drop (call $grpc (i32.const 110) (i32.const 4) (i32.const 120) (i32.const 3) (i32.const 130) (i32.const 6)
        (i32.const 0) (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 1000) (i32.const 28)))
      (i32.const 0))
    (func (export "proxy_on_queue_ready") (param i32 i32) (if (i32.load (i32.const 310)) (then ${forever})))
    (func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32) (if (i32.load (i32.const 314)) (then ${forever})))
    (func (export "proxy_on_grpc_receive") (param i32 i32 i32) (if (i32.load (i32.const 318)) (then ${forever})))`,
  { imports: `${IMPORTS}
    (import "env" "proxy_register_shared_queue" (func $register (param i32 i32 i32) (result i32)))
    (import "env" "proxy_enqueue_shared_queue" (func $enqueue (param i32 i32 i32) (result i32)))
    (import "env" "proxy_grpc_call" (func $grpc (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))` });

  it.each([
    ["proxy_on_queue_ready", 310, (_h: Harness) => {}],
    ["proxy_on_http_call_response", 314, (h: Harness) => h.httpCalls[0].respond(200)],
    ["proxy_on_grpc_receive", 318, (h: Harness) => h.grpcCalls[0].respond("ok")],
  ] as const)("%s that loops ends at the deadline; nothing escapes; the next stream runs on a fresh VM", async (callback, word, answer) => {
    const h = await Harness.load(answering, { deadlineMs: 100 });
    h.plugin.vm.setU32(word, 1);
    const s = h.http();
    expect(() => s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true)).not.toThrow();
    expect(() => answer(h)).not.toThrow();
    expect(h.logMessages("error").some((m) => m.startsWith(`${callback} ran past its deadline of 100 ms`))).toBe(true);
    const next = h.http();
    next.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(next.failure).toBeNull();
    expect(next.request.headersSent).toBe(true);
  });

  it("a TCP callback that loops closes its connection (fail-closed); the next connection is served", async () => {
    const h = await Harness.load(wat(`
      (func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32)
        (if (i32.load (i32.const 300)) (then ${forever}))
        (i32.const 0))`), { deadlineMs: 100 });
    h.plugin.vm.setU32(300, 1);
    const c = h.tcp();
    c.sendDownstream("hello");
    expect(c.closedReason).toBe("wasm_fail_stream");
    expect(c.failure?.reason).toMatch(/^proxy_on_downstream_data ran past its deadline of 100 ms/);
    const next = h.tcp();
    next.sendDownstream("again");
    expect(next.upstreamText).toBe("again");
  });
});

describe("a module the host cannot instrument", () => {
  it("is refused by the instrumenter with the instruction it does not know (the host then loads it without deadlines, with a warning)", () => {
    // Every instruction Node's engine runs by default is known; an opcode from a later proposal
    // (here 0xd5, br_on_non_null) stands for one that is not. The engine itself would refuse
    // this module before the host instruments it, so the fallback cannot be driven end to end.
    const body = [0x00, 0xd5, 0x00, 0x0b];
    const module = new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type () -> ()
      0x03, 0x02, 0x01, 0x00, // one function of type 0
      0x0a, body.length + 2, 0x01, body.length, ...body,
    ]);
    expect(() => instrumentFuel(module, 100)).toThrow(InstrumentError);
    expect(() => instrumentFuel(module, 100)).toThrow(/opcode 0xd5, which this host cannot instrument/);
  });
});
