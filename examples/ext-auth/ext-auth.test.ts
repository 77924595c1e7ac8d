import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness, HeadersAction } from "../../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../../build/ext-auth.wasm");
const configuration = JSON.stringify({ cluster: "auth", path: "/check", timeout_ms: 250, forward: ["authorization"] });
const load = () => Harness.load(wasm, { rootId: "ext_auth", configuration, clusters: ["auth"] });

describe("ext-auth example", () => {
  it("holds the request while it asks the service, forwarding the headers it names", async () => {
    const h = await load();
    const s = h.http();
    expect(s.sendRequestHeaders({ ":method": "POST", ":path": "/orders", authorization: "Bearer letmein", cookie: "x" })).toBe(HeadersAction.StopIteration);
    s.sendRequestBody("{}", true);
    expect(s.request.headersSent).toBe(false);
    const [call] = h.httpCalls;
    expect(call.cluster).toBe("auth");
    expect(call.request.timeoutMs).toBe(250);
    expect([call.header(":method"), call.header(":path"), call.header(":authority")]).toEqual(["GET", "/check", "auth"]);
    expect([call.header("authorization"), call.header("x-original-method"), call.header("x-original-path")]).toEqual(["Bearer letmein", "POST", "/orders"]);
    expect(call.header("cookie")).toBeUndefined();
  });

  it("admits on 2xx, adding the headers the service names, and the request goes on with its body", async () => {
    const h = await load();
    const s = h.http();
    s.sendRequestHeaders({ ":method": "POST", ":path": "/orders", authorization: "Bearer letmein" });
    s.sendRequestBody("{}", true);
    h.httpCalls[0].respond(200, { "x-auth-add-x-user": "alice" });
    expect(s.request.headersSent).toBe(true);
    expect(s.request.header("x-user")).toBe("alice");
    expect(s.request.bodyText).toBe("{}");
    expect(s.localReply).toBeNull();
  });

  it("answers 403 with the service's body when it refuses", async () => {
    const h = await load();
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    h.httpCalls[0].respond(401, { "content-type": "application/json" }, '{"error":"missing token"}');
    expect(s.localReply).toMatchObject({ status: 403, bodyText: '{"error":"missing token"}', details: "wasm_ext_auth_denied" });
    expect(s.response.header("content-type")).toBe("application/json");
    expect(s.response.headersSent).toBe(true);
    expect(s.response.bodyText).toBe('{"error":"missing token"}');
    expect(s.request.headersSent).toBe(false);
  });

  it("answers 503 when the service cannot be reached", async () => {
    const h = await load();
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    h.httpCalls[0].fail("connection refused");
    expect(s.localReply).toMatchObject({ status: 503, details: "wasm_ext_auth_unavailable" });
    expect(s.response.headersSent).toBe(true);
    expect(h.logMessages("warn")).toContain("ext-auth: the authorization service did not answer");
  });

  it("answers 503 at once when the cluster does not exist", async () => {
    const h = await Harness.load(wasm, { rootId: "ext_auth", configuration: JSON.stringify({ cluster: "nowhere" }), clusters: ["auth"] });
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(h.httpCalls).toHaveLength(0);
    expect(s.localReply?.status).toBe(503);
    expect(h.logMessages("error").some((m) => m.includes('http call to cluster "nowhere" refused'))).toBe(true);
  });

  it("drops the answer to a stream that already ended", async () => {
    const h = await load();
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    s.complete();
    h.httpCalls[0].respond(200);
    expect(s.request.headersSent).toBe(false);
    const next = h.http();
    next.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(h.httpCalls).toHaveLength(2);
  });
});
