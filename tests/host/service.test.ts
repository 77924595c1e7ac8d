// WasmServices in the harness (Harness.service): a root context with no streams whose shared
// data the filters of the same vm_id read, as Envoy's bootstrap_extensions runs one.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Harness } from "../../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../../build/test-tick-counter.wasm");

describe("a WasmService in the harness", () => {
  it("counts its ticks into shared data that an HTTP filter of the same vm_id reads", async () => {
    const service = await Harness.service(wasm, { rootId: "tick_counter", vmId: "ticks", configuration: "50" });
    expect(service.tickPeriodMs).toBe(50);
    const filter = await Harness.load(wasm, { rootId: "tick_reader", vmId: "ticks", shared: service.shared });
    const read = () => {
      const s = filter.http();
      s.sendRequestHeaders({ ":method": "GET", ":path": "/", ":authority": "x" }, true);
      s.sendResponseHeaders({ ":status": "200" }, true);
      return s.response.header("x-ticks");
    };
    expect(read()).toBe("none");
    service.tick();
    service.tick();
    service.tick();
    expect(read()).toBe("3");
  });

  it("shares nothing with a filter of another vm_id", async () => {
    const service = await Harness.service(wasm, { rootId: "tick_counter", vmId: "ticks" });
    const other = await Harness.load(wasm, { rootId: "tick_reader", vmId: "elsewhere", shared: service.shared });
    service.tick();
    const s = other.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/", ":authority": "x" }, true);
    s.sendResponseHeaders({ ":status": "200" }, true);
    expect(s.response.header("x-ticks")).toBe("none");
  });

  it("has no streams", async () => {
    const service = await Harness.service(wasm, { rootId: "tick_counter" });
    expect(() => service.http()).toThrow(/a WasmService \(Harness.service\) has no streams/);
    expect(() => service.tcp()).toThrow(/has no streams/);
  });
});
