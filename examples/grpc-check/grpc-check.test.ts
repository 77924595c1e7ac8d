import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness, HeadersAction } from "../../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../../build/grpc-check.wasm");
const load = () => Harness.load(wasm, { rootId: "grpc_check", configuration: '{"cluster": "authz", "timeout_ms": 300}', clusters: ["authz"] });

/** CheckResponse { allowed = 1; reason = 2 } */
const answer = (allowed: boolean, reason = "") => new Uint8Array([0x08, allowed ? 1 : 0, 0x12, reason.length, ...Buffer.from(reason)]);

describe("grpc-check example", () => {
  it("sends the path and user to authz.Checker/Check as a protobuf message, holding the request", async () => {
    const h = await load();
    const s = h.http();
    expect(s.sendRequestHeaders({ ":method": "GET", ":path": "/orders", "x-user": "bob" }, true)).toBe(HeadersAction.StopIteration);
    const [call] = h.grpcCalls;
    expect([call.cluster, call.service, call.method, call.request.timeoutMs]).toEqual(["authz", "authz.Checker", "Check", 300]);
    expect(call.metadata("x-client")).toBe("proxy-wasm-as");
    expect([...call.sent[0]]).toEqual([0x0a, 7, ...Buffer.from("/orders"), 0x12, 3, ...Buffer.from("bob")]);
    expect(s.request.headersSent).toBe(false);
  });

  it("lets an allowed request go on", async () => {
    const h = await load();
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/orders", "x-user": "alice" }, true);
    h.grpcCalls[0].respond(answer(true));
    expect(s.request.headersSent).toBe(true);
    expect(s.localReply).toBeNull();
  });

  it("answers 403 with the service's reason", async () => {
    const h = await load();
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/admin" }, true);
    h.grpcCalls[0].respond(answer(false, "nope"));
    expect(s.localReply).toMatchObject({ status: 403, bodyText: "nope\n", details: "wasm_grpc_check_denied" });
  });

  it("answers 503 when the call fails, with the status in the log", async () => {
    const h = await load();
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    h.grpcCalls[0].finish(14, "connection refused");
    expect(s.localReply).toMatchObject({ status: 503, details: "wasm_grpc_check_unavailable" });
    expect(h.logMessages("warn")).toContain("grpc-check: Check ended with status 14 connection refused");
  });
});
