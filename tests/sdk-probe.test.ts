// SDK helpers driven through the real host: the sdk-probe filter (tests/filters/sdk-probe)
// runs the helper a request names and reports what it gave back in the x-result header.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness } from "../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../build/test-sdk-probe.wasm");

async function probe(h: Harness, name: string, arg: string, headers: Record<string, string> = {}): Promise<string | undefined> {
  const s = h.http();
  s.sendRequestHeaders({ ":method": "GET", ":path": "/probe?x=1", ":authority": "shop.example", "x-probe": name, "x-arg": arg, ...headers }, true);
  return s.request.header("x-result");
}

describe("SDK helpers against the host", () => {
  it("foreign functions: the host's compress and uncompress round-trip; a registered one is called; an unknown one is null", async () => {
    const h = await Harness.load(wasm, { foreignFunctions: { shout: (args) => new TextEncoder().encode(new TextDecoder().decode(args).toUpperCase()) } });
    expect(await probe(h, "round-trip-compress", "hello hello hello")).toBe("hello hello hello");
    expect(await probe(h, "foreign", "shout")).toBe("PROBE");
    expect(await probe(h, "foreign", "nope")).toBe("null");
  });

  it("header names and values of any length pass the host intact, one call after another (the SDK reuses its encoding blocks)", async () => {
    const h = await Harness.load(wasm);
    const long = "v".repeat(300);
    expect(await probe(h, "echo", "short")).toBe("short");
    expect(await probe(h, "echo", long)).toBe(long);
    expect(await probe(h, "echo", "ok")).toBe("ok");
    expect(await probe(h, "echo", "h\u00e9llo \u2713")).toBe("h\u00e9llo \u2713");
    expect(await probe(h, "echo", "")).toBe("");
  });

  it("a header's value as bytes (UTF-8, not decoded) and whether it is there", async () => {
    const h = await Harness.load(wasm);
    expect(await probe(h, "header-bytes", "x-token", { "x-token": "h\u00e9" })).toBe("true 68c3a9");
    expect(await probe(h, "header-bytes", "x-empty", { "x-empty": "" })).toBe("true ");
    expect(await probe(h, "header-bytes", "x-absent")).toBe("false null");
  });

  it("properties: request attributes, the connection, and the plugin", async () => {
    const h = await Harness.load(wasm, {
      rootId: "sdk_probe", pluginName: "probe", vmId: "vm7",
      node: { id: "node-1", cluster: "edge", metadata: { region: "eu" } },
      streamInfo: { source: { address: "10.1.2.3", port: 40000 }, destination: { address: "10.0.0.1", port: 8443 }, connectionId: 77, mtls: true },
    });
    expect(await probe(h, "property", "request.path")).toBe("/probe?x=1");
    expect(await probe(h, "property", "request.url_path")).toBe("/probe");
    expect(await probe(h, "property", "request.host")).toBe("shop.example");
    expect(await probe(h, "property", "request.method")).toBe("GET");
    expect(await probe(h, "property", "request.protocol")).toBe("HTTP/1.1");
    expect(await probe(h, "property", "source.address")).toBe("10.1.2.3:40000");
    expect(await probe(h, "property-bytes", "source.port")).toBe("409c000000000000"); // 40000, 8-byte little-endian
    expect(await probe(h, "property", "destination.address")).toBe("10.0.0.1:8443");
    expect(await probe(h, "property-bytes", "connection.id")).toBe("4d00000000000000");
    expect(await probe(h, "property-bytes", "connection.mtls")).toBe("01");
    expect(await probe(h, "property", "plugin_name")).toBe("probe");
    expect(await probe(h, "property", "plugin_root_id")).toBe("sdk_probe");
    expect(await probe(h, "property", "plugin_vm_id")).toBe("vm7");
    expect(await probe(h, "property", "node.id")).toBe("node-1");
    expect(await probe(h, "property", "node.cluster")).toBe("edge");
    expect(await probe(h, "property", "node.metadata.region")).toBe("eu");
    expect(await probe(h, "property", "no.such.thing")).toBe("null");
    expect(await probe(h, "property-int", "source.port")).toBe("40000");
    expect(await probe(h, "property-int", "connection.id")).toBe("77");
    expect(await probe(h, "property-int", "no.such")).toBe("-1");
    expect(await probe(h, "property-bool", "connection.mtls")).toBe("true");
    expect(await probe(h, "set-property", "kept")).toBe("kept");
  });

  it("gRPC streams: messages out, half-close, then metadata, messages and the close back to the stream's context", async () => {
    const h = await Harness.load(wasm);
    const token = await probe(h, "grpc-stream", "one,two");
    const [call] = h.grpcCalls;
    expect([call.cluster, call.service, call.method, call.metadata("x-probe-meta")]).toEqual(["c", "probe.Service", "Chat", "1"]);
    expect(call.sent.map((m) => Buffer.from(m).toString())).toEqual(["one", "two"]);
    expect(call.halfClosed).toBe(true);
    call.sendInitialMetadata({ "x-server": "a" });
    call.sendMessage("hello");
    call.sendMessage("again");
    call.sendTrailingMetadata({ "x-done": "yes" });
    call.finish(5, "not found");
    expect(h.logMessages("info")).toEqual([
      `grpc ${token} initial metadata x-server=a`, `grpc ${token} message hello`, `grpc ${token} message again`,
      `grpc ${token} trailing metadata x-done=yes`, `grpc ${token} closed 5 not found`,
    ]);
  });

  it("gRPC: after cancel, send and close answer NotFound and the service sees the cancel", async () => {
    const h = await Harness.load(wasm);
    expect(await probe(h, "grpc-cancel", "")).toBe("0 1 1");
    expect(h.grpcCalls[0].cancelled).toBe(true);
    expect(h.logMessages("debug")).toContain("proxy_grpc_send: no gRPC call or stream with token 6");
  });

  it("a unary gRPC call that succeeds gets exactly one callback, receive, whatever metadata the service sends", async () => {
    const h = await Harness.load(wasm);
    const token = await probe(h, "grpc-call", "ping");
    const [call] = h.grpcCalls;
    expect([call.service, call.method, Buffer.from(call.sent[0]).toString()]).toEqual(["probe.Service", "Get", "ping"]);
    call.sendInitialMetadata({ "x-server": "a" });
    call.sendMessage("pong");
    call.sendTrailingMetadata({ "x-done": "yes" });
    call.finish(0);
    expect(h.logMessages("info")).toEqual([`grpc ${token} message pong`]);
  });

  it("a unary gRPC call that fails gets exactly one callback, close with the status; OK without a message is Internal (13)", async () => {
    const h = await Harness.load(wasm);
    const failed = await probe(h, "grpc-call", "ping");
    h.grpcCalls[0].sendInitialMetadata({ "x-server": "a" });
    h.grpcCalls[0].finish(14, "no backend");
    const empty = await probe(h, "grpc-call", "ping");
    h.grpcCalls[1].finish(0);
    expect(h.logMessages("info")).toEqual([`grpc ${failed} closed 14 no backend`, `grpc ${empty} closed 13 `]);
  });

  it("callout tokens are numbered as proxy-wasm-cpp-host numbers them: HTTP 4, 8, …; gRPC calls 5, 9, …; gRPC streams 6, 10, …", async () => {
    const h = await Harness.load(wasm);
    const tokens = [];
    for (const name of ["http-call", "grpc-call", "grpc-stream", "grpc-call", "http-call", "grpc-stream", "http-call"]) tokens.push(await probe(h, name, "x"));
    expect(tokens).toEqual(["4", "5", "6", "9", "8", "10", "12"]);
  });

  it("set_effective_context accepts a live context and refuses an unknown one", async () => {
    const h = await Harness.load(wasm);
    expect(await probe(h, "effective", "")).toBe("true false");
  });
});
