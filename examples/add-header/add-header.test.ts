import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness, HeadersAction } from "../../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../../build/add-header.wasm");
const configuration = JSON.stringify({
  request: { "x-added-by": "proxy-wasm-as", "x-env": "test" },
  response: { "x-frame-options": "DENY" },
});

describe("add-header example", () => {
  it("adds the configured request headers before the request goes upstream", async () => {
    const h = await Harness.load(wasm, { rootId: "add_header", configuration });
    const s = h.http();
    expect(s.sendRequestHeaders({ ":method": "GET", ":path": "/", ":authority": "example.com" }, true))
      .toBe(HeadersAction.Continue);
    expect(s.request.header("x-added-by")).toBe("proxy-wasm-as");
    expect(s.request.header("x-env")).toBe("test");
    expect(s.request.header(":path")).toBe("/");
    expect(s.request.header("x-frame-options")).toBeUndefined();
  });

  it("adds the configured response headers and replaces a value already there", async () => {
    const h = await Harness.load(wasm, { rootId: "add_header", configuration });
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(s.sendResponseHeaders([[":status", "200"], ["x-frame-options", "SAMEORIGIN"]], false))
      .toBe(HeadersAction.Continue);
    expect(s.response.headers.filter(([name]) => name === "x-frame-options")).toEqual([["x-frame-options", "DENY"]]);
    s.sendResponseBody("hello", true);
    expect(s.response.bodyText).toBe("hello");
    s.complete();
  });

  it("serves many streams from one plugin", async () => {
    const h = await Harness.load(wasm, { rootId: "add_header", configuration });
    for (let i = 0; i < 50; i++) {
      const s = h.http();
      s.sendRequestHeaders({ ":method": "GET", ":path": `/${i}` }, true);
      expect(s.request.header("x-added-by")).toBe("proxy-wasm-as");
      s.complete();
    }
  });

  it("with no configuration passes everything unchanged", async () => {
    const h = await Harness.load(wasm, { rootId: "add_header" });
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(s.request.headers).toEqual([[":method", "GET"], [":path", "/"]]);
  });

  it("refuses malformed configuration with a clear error", async () => {
    await expect(Harness.load(wasm, { rootId: "add_header", configuration: '{"request": {"x-a": 1' }))
      .rejects.toThrow(/configur/i);
  });
});
