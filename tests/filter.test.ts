// Tests of your filter (assembly/index.ts, built to build/filter.wasm by npm test).
// Start here when you change it: each test drives one request through the filter in the
// in-process harness and checks what a client or upstream would see.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness, HeadersAction } from "proxy-wasm-as/testing";

const wasm = join(import.meta.dirname, "../build/filter.wasm");

describe("the template filter", () => {
  it("logs each request's method and path", async () => {
    const h = await Harness.load(wasm, { rootId: "anything" });
    const s = h.http();
    expect(s.sendRequestHeaders({ ":method": "GET", ":path": "/hello?x=1" }, true)).toBe(HeadersAction.Continue);
    expect(s.logs.map((l) => `${l.level} ${l.message}`)).toContain("info GET /hello?x=1");
  });

  it("stamps responses with the configured value, or a default", async () => {
    for (const [configuration, expected] of [[undefined, "proxy-wasm-as"], ["edge-7", "edge-7"]]) {
      const h = await Harness.load(wasm, { configuration });
      const s = h.http();
      s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
      s.sendResponseHeaders({ ":status": "200", "x-proxy-wasm-as": "from-upstream" }, true);
      expect(s.response.headers.filter(([n]) => n === "x-proxy-wasm-as")).toEqual([["x-proxy-wasm-as", expected]]);
      s.complete();
    }
  });

  it("does not log below the host's log level", async () => {
    const h = await Harness.load(wasm, { logLevel: "warn" });
    h.http().sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(h.logs).toEqual([]);
  });
});
