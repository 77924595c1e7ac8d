import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { request as send } from "undici";
import { Harness, HeadersAction } from "../../host/testing/index.ts";
import { startEchoUpstream } from "../../host/testing/echo-upstream.ts";
import { exampleConfig, startProxy } from "../../tests/integration/proxy-fixture.ts";

const wasm = join(import.meta.dirname, "../../build/cors.wasm");
const settings = {
  allow_origins: ["https://example.com", "https://*.example.com", "http://localhost:*"],
  allow_methods: ["GET", "POST", "PUT"],
  allow_headers: ["content-type", "authorization"],
  expose_headers: ["x-request-id", "x-trace"],
  allow_credentials: true,
  max_age: 600,
};
const load = (configuration: object = settings) => Harness.load(wasm, { rootId: "cors", configuration: JSON.stringify(configuration) });

function preflight(h: Harness, origin: string, method: string, headers?: string) {
  const s = h.http();
  const request: Record<string, string> = { ":method": "OPTIONS", ":path": "/api", ":authority": "api.example.com", origin, "access-control-request-method": method };
  if (headers !== undefined) request["access-control-request-headers"] = headers;
  const action = s.sendRequestHeaders(request, true);
  return { s, action, header: (name: string) => s.response.header(name) };
}

function actual(h: Harness, origin?: string, responseHeaders: Record<string, string> = {}) {
  const s = h.http();
  const request: Record<string, string> = { ":method": "GET", ":path": "/api", ":authority": "api.example.com" };
  if (origin !== undefined) request.origin = origin;
  const action = s.sendRequestHeaders(request, true);
  s.sendResponseHeaders({ ":status": "200", ...responseHeaders }, true);
  return { s, action, header: (name: string) => s.response.header(name) };
}

const accessControl = (s: { response: { headers: [string, string][] } }) => s.response.headers.filter(([n]) => n.startsWith("access-control-"));

describe("cors example", () => {
  it("answers an allowed preflight itself: 204 with the Access-Control-* headers and Vary", async () => {
    const h = await load();
    const { s, action, header } = preflight(h, "https://app.example.com", "PUT", "Content-Type, Authorization");
    expect(action).toBe(HeadersAction.StopIteration);
    expect(s.localReply).toMatchObject({ status: 204, bodyText: "", details: "wasm_cors_preflight" });
    expect(s.request.headersSent).toBe(false); // the upstream never sees a preflight
    expect(header("access-control-allow-origin")).toBe("https://app.example.com");
    expect(header("access-control-allow-methods")).toBe("GET, POST, PUT");
    expect(header("access-control-allow-headers")).toBe("content-type, authorization");
    expect(header("access-control-allow-credentials")).toBe("true");
    expect(header("access-control-max-age")).toBe("600");
    expect(header("vary")).toBe("Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
  });

  it("matches wildcard origins on one or more characters, never across / or :, and without case", async () => {
    const h = await load();
    const allowed = ["https://example.com", "https://a.example.com", "https://a.b.example.com", "HTTPS://App.Example.COM", "http://localhost:3000"];
    for (const origin of allowed) expect(preflight(h, origin, "GET").s.localReply?.status, origin).toBe(204);
    const refused = ["https://.example.com", "http://a.example.com", "https://evil.com", "https://a.example.com.evil.com", "https://evilexample.com",
      "https://a.example.com:8443", "https://evil.com/.example.com", "http://localhost", "http://localhost:", "http://localhost:1/x", "null"];
    for (const origin of refused) {
      const { s } = preflight(h, origin, "GET");
      expect(s.localReply?.status, origin).toBe(403);
      expect(accessControl(s), origin).toEqual([]);
    }
  });

  it("refuses a preflight for a method or a header not allowed, saying which, with no Access-Control-* headers", async () => {
    const h = await load();
    const method = preflight(h, "https://example.com", "DELETE");
    expect(method.s.localReply).toMatchObject({ status: 403, bodyText: "CORS preflight refused: method DELETE is not allowed\n" });
    expect(accessControl(method.s)).toEqual([]);
    const header = preflight(h, "https://example.com", "POST", "content-type, x-secret");
    expect(header.s.localReply).toMatchObject({ status: 403, bodyText: "CORS preflight refused: header x-secret is not allowed\n" });
    expect(preflight(h, "https://evil.com", "GET").s.localReply?.bodyText).toBe("CORS preflight refused: origin https://evil.com is not allowed\n");
  });

  it("adds the allow headers to an allowed origin's actual response, and Vary: Origin to every response", async () => {
    const h = await load();
    const allowed = actual(h, "https://example.com", { vary: "Accept-Encoding" });
    expect(allowed.action).toBe(HeadersAction.Continue);
    expect(allowed.s.request.headersSent).toBe(true);
    expect(allowed.header("access-control-allow-origin")).toBe("https://example.com");
    expect(allowed.header("access-control-allow-credentials")).toBe("true");
    expect(allowed.header("access-control-expose-headers")).toBe("x-request-id, x-trace");
    expect(allowed.header("vary")).toBe("Accept-Encoding, Origin");
    const refused = actual(h, "https://evil.com");
    expect(refused.s.request.headersSent).toBe(true); // the browser, not the proxy, withholds the answer
    expect(accessControl(refused.s)).toEqual([]);
    expect(refused.header("vary")).toBe("Origin");
    const sameOrigin = actual(h);
    expect(accessControl(sameOrigin.s)).toEqual([]);
    expect(sameOrigin.header("vary")).toBe("Origin");
    expect(actual(h, "https://example.com", { vary: "origin" }).header("vary")).toBe("origin");
    expect(actual(h, "https://example.com", { vary: "*" }).header("vary")).toBe("*");
  });

  it("passes an OPTIONS request that is not a preflight to the upstream", async () => {
    const h = await load();
    const s = h.http();
    s.sendRequestHeaders({ ":method": "OPTIONS", ":path": "/api", origin: "https://example.com" }, true);
    expect(s.localReply).toBeNull();
    expect(s.request.headersSent).toBe(true);
  });

  it('answers "*" for any origin without credentials, the origin itself with them, and echoes requested headers for "*"', async () => {
    const open = await load({ allow_origins: ["*"], allow_headers: ["*"] });
    const p = preflight(open, "https://anyone.test", "GET", "X-One, X-Two");
    expect(p.header("access-control-allow-origin")).toBe("*");
    expect(p.header("access-control-allow-headers")).toBe("X-One, X-Two");
    expect(p.header("access-control-allow-methods")).toBe("GET, HEAD, POST"); // the default
    expect(p.header("access-control-allow-credentials")).toBeUndefined();
    expect(p.header("access-control-max-age")).toBeUndefined();
    expect(actual(open, "https://anyone.test").header("access-control-allow-origin")).toBe("*");
    const withCredentials = await load({ allow_origins: ["*"], allow_credentials: true });
    expect(actual(withCredentials, "https://anyone.test").header("access-control-allow-origin")).toBe("https://anyone.test");
  });

  it("refuses to start without origins, with two wildcards in one, or with a field of the wrong type or name", async () => {
    await expect(load({ allow_origins: [] })).rejects.toThrow(/allow_origins is empty/);
    await expect(load({ allow_origins: ["https://*.*.example.com"] })).rejects.toThrow(/has more than one "\*"/);
    await expect(load({ allow_origins: ["*"], max_age: -1 })).rejects.toThrow(/\$\.max_age: expected an integer from 0 to 4294967295, found -1/);
    await expect(load({ allow_origins: ["*"], allow_credentials: "yes" })).rejects.toThrow(/\$\.allow_credentials: expected true or false, found "yes"/);
    await expect(load({ allow_origins: "*" })).rejects.toThrow(/\$\.allow_origins: expected an array, found "\*"/);
    await expect(load({ allow_origin: ["*"] })).rejects.toThrow(/\$\.allow_origin: unknown field/);
  });
});

describe("cors example through the proxy", () => {
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  beforeAll(async () => (upstream = await startEchoUpstream()));
  afterAll(async () => upstream.close());

  it("answers a preflight without the upstream, and decorates the actual response", async () => {
    const p = await startProxy(exampleConfig("cors", upstream.port));
    try {
      const pre = await send(`${p.url}/api`, { method: "OPTIONS", headers: { origin: "https://app.example.com", "access-control-request-method": "POST" } });
      expect(pre.statusCode).toBe(204);
      expect(pre.headers["access-control-allow-origin"]).toBe("https://app.example.com");
      expect(pre.headers["access-control-max-age"]).toBe("600");
      await pre.body.text();
      const res = await send(`${p.url}/api`, { headers: { origin: "https://app.example.com" } });
      expect(res.statusCode).toBe(200);
      expect(res.headers["access-control-allow-origin"]).toBe("https://app.example.com");
      expect(res.headers.vary).toBe("Origin");
      expect(JSON.parse(await res.body.text()).path).toBe("/api"); // the upstream answered it
    } finally {
      await p.proxy.stop(1000);
    }
  });
});
