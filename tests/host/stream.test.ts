// The HTTP stream state machine, driven through the harness with a filter scripted per callback.
import { describe, expect, it } from "vitest";
import { DataAction, Harness, HeadersAction, TrailersAction } from "../../host/testing/index.ts";
import { moduleFile } from "./wat.ts";
import { localReplyMessage } from "../../host/http/stream.ts";

const module = moduleFile("scripted.wat");
const enum Kind { RequestHeaders, RequestBody, RequestTrailers, ResponseHeaders, ResponseBody, ResponseTrailers }
const enum Op { None, Continue, LocalReply, Trap, AppendToBuffer, CloseStream }
const REQUEST = 0, RESPONSE = 1;

function script(h: Harness, kind: Kind, action: number, op = Op.None, arg = 0): void {
  const vm = h.plugin.vm;
  vm.setU32(256 + 16 * kind, action);
  vm.setU32(260 + 16 * kind, op);
  vm.setU32(264 + 16 * kind, arg);
}
const calls = (h: Harness, kind: Kind) => h.plugin.vm.u32(512 + 4 * kind);
const GET = { ":method": "POST", ":path": "/upload", ":authority": "example.com" };

describe("HTTP stream", () => {
  it("passes headers, body chunks and trailers through a filter that continues", async () => {
    const h = await Harness.load(module);
    const s = h.http();
    expect(s.sendRequestHeaders(GET)).toBe(HeadersAction.Continue);
    expect(s.request.headersSent).toBe(true);
    s.sendRequestBody("ab");
    s.sendRequestBody("cd");
    s.sendRequestTrailers({ "x-checksum": "1" });
    expect(s.request.bodyText).toBe("abcd");
    expect(s.request.trailers).toEqual([["x-checksum", "1"]]);
    expect(s.request.ended).toBe(true);
    expect([calls(h, Kind.RequestHeaders), calls(h, Kind.RequestBody), calls(h, Kind.RequestTrailers)]).toEqual([1, 2, 1]);
  });

  it("holds the request and its body after StopIteration on headers, until the filter continues", async () => {
    const h = await Harness.load(module);
    const s = h.http();
    script(h, Kind.RequestHeaders, HeadersAction.StopIteration);
    expect(s.sendRequestHeaders(GET)).toBe(HeadersAction.StopIteration);
    s.sendRequestBody("held", true);
    expect(s.request.headersSent).toBe(false);
    expect(s.request.bodyText).toBe("");
    expect(calls(h, Kind.RequestBody)).toBe(0); // StopIteration acts as StopAllIteration in Envoy
    // Later (here: from a response callback, as after a callout) the filter resumes the request.
    script(h, Kind.ResponseHeaders, HeadersAction.Continue, Op.Continue, REQUEST);
    s.sendResponseHeaders({ ":status": "100" });
    expect(s.request.headersSent).toBe(true);
    expect(calls(h, Kind.RequestBody)).toBe(1);
    expect(s.request.bodyText).toBe("held");
    expect(s.request.ended).toBe(true);
  });

  it("a continue_stream in the same callback that stopped resumes once the callback returns", async () => {
    const h = await Harness.load(module);
    const s = h.http();
    script(h, Kind.RequestHeaders, HeadersAction.StopIteration, Op.Continue, REQUEST);
    s.sendRequestHeaders(GET, true);
    expect(s.request.headersSent).toBe(true);
    expect(s.request.ended).toBe(true);
  });

  it("buffers body chunks while the filter asks, then passes the whole body on", async () => {
    const h = await Harness.load(module);
    const s = h.http();
    s.sendRequestHeaders(GET);
    script(h, Kind.RequestBody, DataAction.StopIterationAndBuffer);
    expect(s.sendRequestBody("one,")).toBe(DataAction.StopIterationAndBuffer);
    s.sendRequestBody("two,");
    expect(s.request.bodyText).toBe("");
    script(h, Kind.RequestBody, DataAction.Continue, Op.AppendToBuffer, 0);
    s.sendRequestBody("three", true);
    expect(s.request.bodyText).toBe("one,two,threedenied!");
    expect(s.request.ended).toBe(true);
  });

  it("edits the response body a filter appends to", async () => {
    const h = await Harness.load(module);
    const s = h.http();
    s.sendRequestHeaders(GET, true);
    s.sendResponseHeaders({ ":status": "200" });
    script(h, Kind.ResponseBody, DataAction.Continue, Op.AppendToBuffer, 1);
    s.sendResponseBody("body:", true);
    expect(s.response.bodyText).toBe("body:denied!");
  });

  it("drops a chunk the filter stops without buffering", async () => {
    const h = await Harness.load(module);
    const s = h.http();
    s.sendRequestHeaders(GET);
    script(h, Kind.RequestBody, DataAction.StopIterationNoBuffer);
    s.sendRequestBody("gone");
    script(h, Kind.RequestBody, DataAction.Continue);
    s.sendRequestBody("kept", true);
    expect(s.request.bodyText).toBe("kept");
  });

  it("holds trailers a filter stops", async () => {
    const h = await Harness.load(module);
    const s = h.http();
    s.sendRequestHeaders(GET);
    s.sendRequestBody("x");
    script(h, Kind.RequestTrailers, TrailersAction.StopIteration);
    expect(s.sendRequestTrailers({ "x-t": "1" })).toBe(TrailersAction.StopIteration);
    expect(s.request.ended).toBe(false);
  });

  it("a local reply answers at once: the upstream sees nothing, the reply passes the response callbacks", async () => {
    const h = await Harness.load(module);
    const s = h.http();
    script(h, Kind.RequestHeaders, HeadersAction.Continue, Op.LocalReply, 403);
    s.sendRequestHeaders(GET);
    s.sendRequestBody("ignored", true);
    expect(s.request.headersSent).toBe(false);
    expect(s.request.bodyText).toBe("");
    expect(s.localReply).toMatchObject({ status: 403, bodyText: "denied!", grpcStatus: -1 });
    // Envoy's prepareLocalReply: content-length, then the default content-type.
    expect(s.response.headers).toEqual([[":status", "403"], ["content-length", "7"], ["content-type", "text/plain"]]);
    expect(s.response.bodyText).toBe("denied!");
    expect(calls(h, Kind.ResponseHeaders)).toBe(1);
    expect(calls(h, Kind.RequestBody)).toBe(0);
    expect(() => s.sendResponseHeaders({ ":status": "200" })).toThrow(/answered by a local reply/);
  });

  it("a local reply to a gRPC request is trailers-only: 200, application/grpc, grpc-status from the HTTP status, grpc-message the body", async () => {
    const h = await Harness.load(module);
    const s = h.http();
    script(h, Kind.RequestHeaders, HeadersAction.Continue, Op.LocalReply, 403);
    s.sendRequestHeaders({ ":method": "POST", ":path": "/pkg.Svc/Call", ":authority": "x", "content-type": "application/grpc" });
    expect(s.response.headers).toEqual([[":status", "200"], ["content-type", "application/grpc"], ["grpc-status", "7"], ["grpc-message", "denied!"]]);
    expect(s.response.bodyText).toBe("");
    expect(s.response.ended).toBe(true);
  });

  it("a local reply to a HEAD request sends its headers (content-length included) and no body", async () => {
    const h = await Harness.load(module);
    const s = h.http();
    script(h, Kind.RequestHeaders, HeadersAction.Continue, Op.LocalReply, 403);
    s.sendRequestHeaders({ ":method": "HEAD", ":path": "/", ":authority": "x" }, true);
    expect(s.response.headers).toEqual([[":status", "403"], ["content-length", "7"], ["content-type", "text/plain"]]);
    expect(s.response.bodyText).toBe("");
    expect(s.response.ended).toBe(true);
  });

  it("local reply headers as Envoy prepares them: the module's own first, its content-length replaced, none of either without a body", () => {
    const reply = (body: string, headers: [string, string][], grpcStatus = -1) =>
      ({ status: 429, body: new TextEncoder().encode(body), headers, details: "", grpcStatus });
    expect(localReplyMessage(reply("slow down", [["x-a", "1"], ["content-length", "99"], ["x-b", "2"]]), []).headers)
      .toEqual([[":status", "429"], ["x-a", "1"], ["content-length", "9"], ["x-b", "2"], ["content-type", "text/plain"]]);
    expect(localReplyMessage(reply("{}", [["content-type", "application/json"]]), []).headers)
      .toEqual([[":status", "429"], ["content-type", "application/json"], ["content-length", "2"]]);
    expect(localReplyMessage(reply("", [["content-type", "application/json"], ["x-a", "1"]]), []).headers).toEqual([[":status", "429"], ["x-a", "1"]]);
    const grpc = localReplyMessage(reply("100% busy\n", [], 8), [["content-type", "application/grpc+proto"]]);
    expect(grpc.headers).toEqual([[":status", "200"], ["content-type", "application/grpc"], ["grpc-status", "8"], ["grpc-message", "100%25 busy%0A"]]);
  });

  it("a local reply during the response replaces the upstream's response", async () => {
    const h = await Harness.load(module);
    const s = h.http();
    s.sendRequestHeaders(GET, true);
    script(h, Kind.ResponseHeaders, HeadersAction.Continue, Op.LocalReply, 502);
    s.sendResponseHeaders({ ":status": "200", "x-upstream": "yes" });
    expect(s.response.header(":status")).toBe("502");
    expect(s.response.header("x-upstream")).toBeUndefined();
    expect(s.response.bodyText).toBe("denied!");
  });

  it("close_stream resets the stream: nothing more goes out either way", async () => {
    const h = await Harness.load(module);
    const s = h.http();
    s.sendRequestHeaders(GET);
    script(h, Kind.RequestBody, DataAction.Continue, Op.CloseStream, REQUEST);
    s.sendRequestBody("part", false);
    expect(s.resetReason).toMatch(/closed by/);
    s.sendRequestBody("more", true);
    expect(s.request.bodyText).toBe(""); // the reset takes effect as the callback returns, before the chunk moves on
    expect(s.request.ended).toBe(false);
    expect(s.response.headersSent).toBe(false);
  });

  it("a trap fails only that stream with a 503; the next stream runs on a fresh VM", async () => {
    const h = await Harness.load(module);
    const s = h.http();
    script(h, Kind.RequestHeaders, HeadersAction.Continue, Op.Trap);
    s.sendRequestHeaders(GET, true);
    expect(s.failure?.reason).toMatch(/proxy_on_request_headers trapped: unreachable/);
    expect(s.localReply).toMatchObject({ status: 503, details: "wasm_fail_stream" });
    expect(s.response.header(":status")).toBe("503");
    expect(s.request.headersSent).toBe(false);
    expect(h.logMessages("error").some((m) => m.includes("trapped"))).toBe(true);
    s.complete();

    const next = h.http();
    expect(next.sendRequestHeaders(GET, true)).toBe(HeadersAction.Continue);
    expect(next.request.headersSent).toBe(true);
    expect(next.failure).toBeNull();
    expect(h.plugin.restarts).toBe(1);
  });

  it("under fail_open a trap lets the stream pass as if the filter were absent", async () => {
    const h = await Harness.load(module, { failOpen: true });
    const s = h.http();
    script(h, Kind.RequestHeaders, HeadersAction.Continue, Op.Trap);
    s.sendRequestHeaders(GET);
    s.sendRequestBody("still flows", true);
    expect(s.localReply).toBeNull();
    expect(s.request.headersSent).toBe(true);
    expect(s.request.bodyText).toBe("still flows");
    expect(s.failure).not.toBeNull();
  });
});
