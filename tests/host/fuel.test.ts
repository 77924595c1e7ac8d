// The fuel instrumentation behind deadlines (host/vm/fuel.ts): the copy runs the same code with a
// check at every function entry and loop head, and each frame of the copy maps back exactly to
// the original's (so a trap still names the author's line).
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { GUARD_CHECK, GUARD_MODULE, instrumentFuel } from "../../host/vm/fuel.ts";
import { assemble } from "./wat.ts";

const build = join(import.meta.dirname, "../../build");

/** A module with an import, a table, a loop, recursion and a trap three calls deep. */
const sample = assemble(`(module
  (import "env" "log" (func $log (param i32)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $leaf $middle)
  (global $n (mut i32) (i32.const 0))
  (global $leafRef funcref (ref.func $leaf))
  (func $leaf (param $x i32) (result i32)
    (if (i32.eq (local.get $x) (i32.const 7)) (then unreachable))
    (local.get $x))
  (func $middle (param $x i32) (result i32)
    (local $i i32)
    (loop $again
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 5))))
    (call $log (local.get $i))
    (call_indirect (param i32) (result i32) (local.get $x) (i32.const 0)))
  (func (export "run") (param $x i32) (result i32)
    (call $middle (local.get $x)))
  (func (export "spin") (loop $forever (br $forever)))
  (func (export "viaGlobal") (param $x i32) (result i32)
    (table.set (i32.const 1) (global.get $leafRef))
    (call_indirect (param i32) (result i32) (local.get $x) (i32.const 1)))
  (func $deep (export "deep") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 0)) (else (call $deep (i32.sub (local.get $n) (i32.const 1)))))))`);

const FRAME = /wasm-function\[(\d+)\]:0x([0-9a-f]+)/g;
const frames = (e: unknown) => [...String((e as Error).stack).matchAll(FRAME)].map((m) => ({ functionIndex: Number(m[1]), offset: parseInt(m[2], 16) }));

function instantiate(bytes: Uint8Array, check: () => number) {
  const logged: number[] = [];
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), {
    env: { log: (x: number) => logged.push(x) },
    [GUARD_MODULE]: { [GUARD_CHECK]: check },
  });
  return { exports: instance.exports as Record<string, (...a: number[]) => number>, logged };
}

describe("fuel instrumentation", () => {
  it("runs the same code: results, host calls and indirect calls as the original", () => {
    const { bytes } = instrumentFuel(sample, 1000);
    const copy = instantiate(bytes, () => 1000), original = instantiate(sample, () => 0);
    expect(copy.exports.run(3)).toBe(original.exports.run(3));
    expect(copy.logged).toEqual(original.logged);
    expect(copy.exports.deep(500)).toBe(0);
    // A funcref global's ref.func names the same function after the renumbering.
    expect(copy.exports.viaGlobal(5)).toBe(original.exports.viaGlobal(5));
  });

  it("calls the check when the fuel runs out, in a loop and in a recursion, and a throw there ends the call", () => {
    const { bytes } = instrumentFuel(sample, 100);
    let checks = 0;
    const m = instantiate(bytes, () => {
      if (++checks === 3) throw new Error("deadline");
      return 100;
    });
    expect(() => m.exports.spin()).toThrow("deadline");
    expect(checks).toBe(3);
    let refills = 0;
    const fresh = instantiate(bytes, () => (refills++, 100));
    expect(fresh.exports.deep(150)).toBe(0); // 151 entries on 100 fuel: one refill
    expect(refills).toBe(1);
  });

  it("maps every frame of a trap in the copy to the original's function and byte", () => {
    const { bytes, offsets } = instrumentFuel(sample, 1_000_000);
    const inOriginal = (() => {
      try {
        instantiate(sample, () => 0).exports.run(7);
      } catch (e) {
        return frames(e);
      }
    })();
    const inCopy = (() => {
      try {
        instantiate(bytes, () => 1_000_000).exports.run(7);
      } catch (e) {
        return frames(e);
      }
    })();
    expect(inOriginal!.length).toBeGreaterThanOrEqual(3);
    expect(inCopy!.map((f) => offsets.original(f.functionIndex, f.offset))).toEqual(inOriginal);
  });

  it("instruments every module the build makes, and each still compiles", () => {
    const modules = readdirSync(build).filter((f) => f.endsWith(".wasm") && !f.endsWith(".debug.wasm"));
    expect(modules.length).toBeGreaterThan(10);
    for (const file of modules) {
      const { bytes } = instrumentFuel(readFileSync(join(build, file)), 10_000);
      const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>));
      expect(imports.at(-1), file).toEqual({ module: GUARD_MODULE, name: GUARD_CHECK, kind: "function" });
    }
  });
});
