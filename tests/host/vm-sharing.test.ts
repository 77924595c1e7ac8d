// Plugins that share a VM, as Envoy runs the filters of one vm_id, VM configuration and code:
// one set of module globals, a root context each, and one fate when the module traps.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Harness } from "../../host/testing/index.ts";

const vmShare = join(import.meta.dirname, "../../build/test-vm-share.wasm");
const addHeader = join(import.meta.dirname, "../../build/add-header.wasm");
const GET = (path: string) => ({ ":method": "GET", ":path": path, ":authority": "shop.example" });

/** One exchange through `h`: the response headers the filter added (x-<tag> and x-<tag>-roots). */
function exchange(h: Harness, tag: string) {
  const s = h.http();
  s.sendRequestHeaders(GET("/"), true);
  s.sendResponseHeaders({ ":status": "200" }, true);
  return { count: s.response.header(`x-${tag}`), roots: s.response.header(`x-${tag}-roots`) };
}

describe("plugins in one VM", () => {
  it("share the module's globals, each with its own root context and configuration", async () => {
    const a = await Harness.load(vmShare, { configuration: "a", pluginName: "a" });
    const b = await Harness.load(vmShare, { configuration: "b", pluginName: "b", vmOf: a });
    const apart = await Harness.load(vmShare, { configuration: "c", pluginName: "c" });
    expect(exchange(a, "a")).toMatchObject({ count: "1", roots: "2" });
    expect(exchange(b, "b")).toMatchObject({ count: "2", roots: "2" });
    expect(exchange(a, "a")).toMatchObject({ count: "3", roots: "2" });
    expect(exchange(apart, "c")).toMatchObject({ count: "1", roots: "1" });
    // Context ids are the VM's: no stream of one plugin takes an id the other's has.
    const ids = [a.http().contextId, b.http().contextId, a.http().contextId];
    expect(new Set(ids).size).toBe(3);
    expect(b.memorySize).toBe(a.memorySize);
  });

  it("a configuration the joining plugin refuses fails its load and leaves the VM as it was", async () => {
    const a = await Harness.load(vmShare, { configuration: "a" });
    await expect(Harness.load(vmShare, { configuration: "refuse", vmOf: a })).rejects.toThrow(/proxy_on_configure returned false/);
    // Refused in a copy of its own: the shared VM never saw it (one root context configured, globals untouched).
    expect(exchange(a, "a")).toMatchObject({ count: "1", roots: "1" });
  });

  it("a trap in one plugin fails the VM of both: the other's stream under way fails, and the next streams get a fresh VM with both started again", async () => {
    const a = await Harness.load(vmShare, { configuration: "a", pluginName: "a" });
    const b = await Harness.load(vmShare, { configuration: "b", pluginName: "b", vmOf: a });
    expect(exchange(a, "a").count).toBe("1");
    const underWay = a.http();
    underWay.sendRequestHeaders(GET("/"), true);
    const trapping = b.http();
    trapping.sendRequestHeaders(GET("/trap/b"), true);
    expect(trapping.localReply).toMatchObject({ status: 503, details: "wasm_fail_stream" });
    expect(b.logMessages("error").join("\n")).toMatch(/unreachable/);
    underWay.sendResponseHeaders({ ":status": "200" }, true);
    expect(underWay.localReply).toMatchObject({ status: 503 });
    expect(underWay.failure?.reason).toMatch(/re-created/);
    // Fresh globals, both root contexts made again (by whichever plugin's stream comes first).
    expect(exchange(a, "a")).toMatchObject({ count: "1", roots: "2" });
    expect(exchange(b, "b")).toMatchObject({ count: "2", roots: "2" });
    for (const h of [a, b]) {
      expect(h.plugin.restarts).toBe(1);
      expect(h.logMessages("warn").join("\n")).toMatch(/re-creating the VM after: .*unreachable/);
    }
  });

  it("a plugin given the VM of a plugin whose VM failed joins it once it is re-created", async () => {
    const a = await Harness.load(vmShare, { configuration: "a" });
    const trapping = a.http();
    trapping.sendRequestHeaders(GET("/trap/a"), true);
    expect(trapping.localReply).toMatchObject({ status: 503 });
    const b = await Harness.load(vmShare, { configuration: "b", vmOf: a });
    expect(b.plugin.group).toBe(a.plugin.group);
    expect(exchange(b, "b")).toMatchObject({ count: "1", roots: "2" });
  });

  it("a released plugin leaves the VM to the others; the VM goes with the last", async () => {
    const a = await Harness.load(vmShare, { configuration: "a" });
    const b = await Harness.load(vmShare, { configuration: "b", vmOf: a });
    const vm = a.plugin.group;
    b.plugin.release();
    expect(vm.plugins).toEqual([a.plugin]);
    expect(exchange(a, "a")).toMatchObject({ count: "1", roots: "2" });
    a.plugin.release();
    expect(vm.plugins).toEqual([]);
  });

  it("vmOf refuses a plugin of other code, another vmId or another VM configuration, naming why", async () => {
    const a = await Harness.load(vmShare, { configuration: "a", vmId: "one" });
    await expect(Harness.load(addHeader, { vmOf: a, vmId: "one" })).rejects.toThrow(/^vmOf: .*; its module is another$/);
    await expect(Harness.load(vmShare, { vmOf: a, vmId: "two" })).rejects.toThrow(/its vmId "two" is not "one"/);
    await expect(Harness.load(vmShare, { vmOf: a, vmId: "one", vmConfiguration: "x" })).rejects.toThrow(/its vmConfiguration is another/);
  });
});
