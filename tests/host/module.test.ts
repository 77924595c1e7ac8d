// Host functions as a real module meets them through a plugin: properties while choosing a
// root context, bad pointers, memory that grows under the host, start-phase configuration.
import { describe, expect, it } from "vitest";
import { Harness } from "../../host/testing/index.ts";
import { wat } from "./wat.ts";

const imports = `
  (import "env" "proxy_get_property" (func $prop (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $header (param i32 i32 i32 i32 i32) (result i32)))`;

/** Logs (info) the value of the property at 100 (length `len`) when the root context is created; its status goes to 200. */
const readsProperty = (path: string) => wat(`
  (data (i32.const 100) "${path.replaceAll("\0", "\\00")}")
  (func (export "proxy_on_context_create") (param $ctx i32) (param $parent i32)
    (if (i32.eqz (local.get $parent)) (then
      (i32.store (i32.const 200) (call $prop (i32.const 100) (i32.const ${path.length}) (i32.const 16) (i32.const 20)))
      (drop (call $log (i32.const 2) (i32.load (i32.const 16)) (i32.load (i32.const 20)))))))`, { imports });

describe("a module's view of the host", () => {
  it("reads plugin_root_id while its root context is created: the configured root_id, or \"\" when none", async () => {
    const h = await Harness.load(readsProperty("plugin_root_id"), { rootId: "my_root" });
    expect(h.plugin.vm.u32(200)).toBe(0);
    expect(h.logs[0]).toEqual(expect.objectContaining({ level: "info", message: "my_root", contextId: 1 }));
    const none = await Harness.load(readsProperty("plugin_root_id\0"));
    expect(none.plugin.vm.u32(200)).toBe(0);
    expect(none.logMessages("info")).toEqual([""]);
  });

  it("reads plugin_name and plugin_vm_id; an unknown property is NotFound", async () => {
    expect((await Harness.load(readsProperty("plugin_name"), { pluginName: "auth" })).logMessages("info")).toEqual(["auth"]);
    expect((await Harness.load(readsProperty("plugin_vm_id"), { vmId: "vm-7" })).logMessages("info")).toEqual(["vm-7"]);
    expect((await Harness.load(readsProperty("no_such_thing"))).plugin.vm.u32(200)).toBe(1);
  });

  it("gets InvalidMemoryAccess for a bad pointer, and the host and the plugin go on", async () => {
    const h = await Harness.load(wat(`
      (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
        (i32.store (i32.const 204) (call $log (i32.const 2) (i32.const -16) (i32.const 100)))
        (i32.store (i32.const 208) (call $prop (i32.const 100) (i32.const 0x7fffffff) (i32.const 16) (i32.const 20)))
        (i32.const 1))`, { imports }));
    expect([h.plugin.vm.u32(204), h.plugin.vm.u32(208)]).toEqual([6, 6]);
    expect(h.plugin.failed).toBe(false);
  });

  it("hands values over correctly when the allocator grows memory on every call", async () => {
    const h = await Harness.load(wat(`
      (memory (export "memory") 1)
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "malloc") (param i32) (result i32) (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)))
      (data (i32.const 100) ":path")
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $header (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 16) (i32.const 20)))
        (drop (call $log (i32.const 2) (i32.load (i32.const 16)) (i32.load (i32.const 20))))
        (drop (call $header (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 16) (i32.const 20)))
        (drop (call $log (i32.const 2) (i32.load (i32.const 16)) (i32.load (i32.const 20))))
        (i32.const 0))`, { imports, bare: true }));
    const s = h.http();
    s.sendRequestHeaders({ ":path": "/grown/ü" });
    expect(s.logs.map((l) => l.message)).toEqual(["/grown/ü", "/grown/ü"]);
  });

  it("runs an ABI 0.1.0 module: two-parameter headers callback, a missing header is Ok and empty, proxy_continue_request resumes", async () => {
    const legacyImports = `${imports} (import "env" "proxy_continue_request" (func $continue (result i32)))`;
    const h = await Harness.load(wat(`
      (data (i32.const 100) "x-missing")
      (func (export "proxy_on_request_headers") (param i32 i32) (result i32)
        (i32.store (i32.const 200) (call $header (i32.const 0) (i32.const 100) (i32.const 9) (i32.const 16) (i32.const 20)))
        (i32.const 1))
      (func (export "proxy_on_response_headers") (param i32 i32) (result i32)
        (drop (call $continue))
        (i32.const 0))`, { imports: legacyImports, abi: "0_1_0" }));
    const s = h.http();
    s.sendRequestHeaders({ ":path": "/" }, true);
    expect([h.plugin.vm.u32(200), h.plugin.vm.u32(20)]).toEqual([0, 0]);
    expect(s.request.headersSent).toBe(false);
    s.sendResponseHeaders({ ":status": "200" });
    expect(s.request.headersSent).toBe(true);
  });
});
