// A stream a filter stopped and never continued: the harness's send methods say the filter was
// not called and who holds the stream (not a 0 that reads as Continue), and the proxy logs the
// held stream once, naming the plugin, the side and the callback.
import { describe, expect, it } from "vitest";
import { request } from "undici";
import { Harness, HeadersAction } from "proxy-wasm-as/testing";
import { shorthandConfig } from "../../host/config/index.ts";
import { startEchoUpstream } from "../../host/testing/echo-upstream.ts";
import { startProxy } from "../integration/proxy-fixture.ts";
import { wat } from "./wat.ts";

/** Continues requests; stops every response at its headers (StopIteration) and never continues it. */
const holdsResponses = wat(`
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) (i32.const 0))`);

describe("a stream held by a filter, in the harness", () => {
  it("answers a send the filter never saw with who holds the stream, not with Continue", async () => {
    const h = await Harness.load(holdsResponses, { pluginName: "stall" });
    const s = h.http();
    expect(s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true)).toBe(HeadersAction.Continue);
    expect(s.sendResponseHeaders({ ":status": "200" })).toBe(HeadersAction.StopIteration);
    h.advance(1500);
    const sent = s.sendResponseBody("hello", true);
    expect(sent).not.toBe(0);
    expect(sent).toBe('not called: plugin "stall" holds the response: its onResponseHeaders returned StopIteration 1.5 s ago and it has not continued');
    expect(s.response.bodyText).toBe("");
  });
});

describe("a stream held by a filter, in the proxy", () => {
  it("is logged once, with the plugin, the side and the callback, while the client waits", async () => {
    const upstream = await startEchoUpstream(0);
    const config = shorthandConfig({ wasm: ["stall.wasm"], rootId: [], config: [], failOpen: false, upstream: `http://127.0.0.1:${upstream.port}`, listen: 0, admin: null });
    config.listeners[0].wasmFilters[0].code = { bytes: holdsResponses, description: "inline" };
    config.heldStreamMs = 150;
    const { proxy, lines, url } = await startProxy(config);
    const controller = new AbortController();
    try {
      const pending = request(`${url}/slow`, { signal: controller.signal }).catch(() => null);
      const held = () => lines.filter((l) => l.includes("held by a filter"));
      const deadline = Date.now() + 10_000;
      while (!held().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(held()).toHaveLength(1);
      expect(held()[0]).toMatch(/\[warn\]\[http\] GET \/slow: held by a filter: plugin "stall" holds the response: its onResponseHeaders returned StopIteration \d+\.\d s ago and it has not continued/);
      await new Promise((r) => setTimeout(r, 500)); // several sweeps later: still one line
      expect(held()).toHaveLength(1);
      controller.abort();
      await pending;
    } finally {
      await proxy.stop(100);
      await upstream.close();
    }
  });
});
