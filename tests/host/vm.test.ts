// Loading modules: what the host accepts, and the clear error for what it refuses.
import { describe, expect, it } from "vitest";
import { Harness, ModuleError } from "../../host/testing/index.ts";
import { wat } from "./wat.ts";

const callbacks = `
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))`;

describe("loading a module", () => {
  it.each(["0_2_1", "0_2_0", "0_1_0"])("accepts ABI %s", async (abi) => {
    const h = await Harness.load(wat(callbacks, { abi }));
    expect(h.plugin.abiVersion).toBe(abi.replaceAll("_", "."));
  });

  it("refuses a module announcing no ABI version, saying so", async () => {
    const bytes = wat(`(memory (export "memory") 1) (func (export "malloc") (param i32) (result i32) (i32.const 8))`, { bare: true });
    await expect(Harness.load(bytes)).rejects.toThrow(/missing Proxy-Wasm ABI version/);
  });

  it("refuses an unknown ABI version by name", async () => {
    const bytes = wat(`(memory (export "memory") 1) (func (export "malloc") (param i32) (result i32) (i32.const 8))
      (func (export "proxy_abi_version_0_3_0"))`, { bare: true });
    await expect(Harness.load(bytes)).rejects.toThrow(/proxy_abi_version_0_3_0/);
  });

  it("refuses imports a real host lacks, naming each", async () => {
    const imports = `(import "env" "abort" (func (param i32 i32 i32 i32)))
      (import "env" "proxy_log" (func (param i32 i32 i32) (result i32)))
      (import "env" "proxy_made_up" (func))`;
    const load = Harness.load(wat(callbacks, { imports }));
    await expect(load).rejects.toThrow(ModuleError);
    await expect(load).rejects.toThrow(/env\.abort, env\.proxy_made_up/);
  });

  it("refuses an ABI 0.2.0 module importing proxy_get_log_level, which 0.2.0 hosts lack", async () => {
    const imports = `(import "env" "proxy_get_log_level" (func (param i32) (result i32)))`;
    await expect(Harness.load(wat(callbacks, { imports, abi: "0_2_0" }))).rejects.toThrow(/env\.proxy_get_log_level/);
  });

  it("accepts WASI imports hosts supply", async () => {
    const imports = `(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))`;
    await expect(Harness.load(wat(callbacks, { imports }))).resolves.toBeInstanceOf(Harness);
  });

  it("refuses a module with no memory or no allocator, naming the export", async () => {
    await expect(Harness.load(wat(`(func (export "proxy_abi_version_0_2_1")) (func (export "malloc") (param i32) (result i32) (i32.const 8))`, { bare: true })))
      .rejects.toThrow(/missing export: memory/);
    await expect(Harness.load(wat(`(memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1"))`, { bare: true })))
      .rejects.toThrow(/missing export: malloc or proxy_on_memory_allocate/);
  });

  it("accepts proxy_on_memory_allocate in place of malloc", async () => {
    const bytes = wat(`(memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 1024))`, { bare: true });
    await expect(Harness.load(bytes)).resolves.toBeInstanceOf(Harness);
  });

  it("refuses a callback of the wrong shape, naming it", async () => {
    await expect(Harness.load(wat(`(func (export "proxy_on_request_headers") (param i32 i32) (result i32) (i32.const 0))`)))
      .rejects.toThrow("export proxy_on_request_headers has type (i32, i32) -> i32; ABI 0.2.1 calls it as (i32, i32, i32) -> i32");
  });

  it("refuses bytes that are not WebAssembly", async () => {
    await expect(Harness.load(new Uint8Array([1, 2, 3]))).rejects.toThrow(/not a valid WebAssembly module/);
  });

  it("names the file it cannot read", async () => {
    await expect(Harness.load("build/no-such-module.wasm")).rejects.toThrow(/cannot read module build\/no-such-module.wasm/);
  });

  it("runs _initialize before anything else, and _start when there is no _initialize", async () => {
    const counter = `(global $ran (mut i32) (i32.const 0))
      (func (export "proxy_on_context_create") (param i32 i32))
      (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (global.get $ran))`;
    await expect(Harness.load(wat(`${counter} (func (export "_initialize") (global.set $ran (i32.const 1)))`))).resolves.toBeInstanceOf(Harness);
    await expect(Harness.load(wat(`${counter} (func (export "_start") (global.set $ran (i32.const 1)))`))).resolves.toBeInstanceOf(Harness);
    await expect(Harness.load(wat(counter))).rejects.toThrow(/proxy_on_vm_start returned false/);
  });

  it("reports a trap during start as a start failure naming the export", async () => {
    await expect(Harness.load(wat(`(func (export "_initialize") unreachable)`))).rejects.toThrow(/_initialize trapped: unreachable/);
  });

  it("refuses a callback returning nothing where the host reads an action, and accepts 0.1.0's two-parameter headers callback", async () => {
    await expect(Harness.load(wat(`(func (export "proxy_on_response_body") (param i32 i32 i32))`)))
      .rejects.toThrow("export proxy_on_response_body has type (i32, i32, i32) -> nothing; ABI 0.2.1 calls it as (i32, i32, i32) -> i32");
    const headers01 = `(func (export "proxy_on_request_headers") (param i32 i32) (result i32) (i32.const 0))`;
    await expect(Harness.load(wat(headers01, { abi: "0_1_0" }))).resolves.toBeInstanceOf(Harness);
  });

  it("refuses an import whose type differs from the host function's (it would not link in Envoy), naming it", async () => {
    const imports = `(import "env" "proxy_grpc_send" (func (param i32 i32 i32)  (result i32)))`;
    await expect(Harness.load(wat("", { imports })))
      .rejects.toThrow("import env.proxy_grpc_send has type (i32, i32, i32) -> i32; hosts provide it as (i32, i32, i32, i32) -> i32");
  });

  it("takes WASI proc_exit(0) from _start as a normal end, and proc_exit(1) as a failure", async () => {
    const imports = `(import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))`;
    const exiting = (code: number) => wat(`(func (export "_start") (call $exit (i32.const ${code})))`, { imports });
    await expect(Harness.load(exiting(0))).resolves.toBeInstanceOf(Harness);
    await expect(Harness.load(exiting(1))).rejects.toThrow(/_start trapped: the module called proc_exit\(1\)/);
  });
});
