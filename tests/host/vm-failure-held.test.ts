// A VM that dies while streams wait on it: every stream held at that filter fails at once
// (503, or goes on without the filter under fail_open), as Envoy fails the streams of a
// failed VM, instead of waiting for an event that may never come; the next stream gets a
// fresh VM.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Harness } from "../../host/testing/index.ts";

const calloutTrap = join(import.meta.dirname, "../../build/test-callout-trap.wasm");
const tcpProbe = join(import.meta.dirname, "../../build/test-tcp-probe.wasm");
const GET = (path: string) => ({ ":method": "GET", ":path": path, ":authority": "shop.example" });

/** Two requests: one held at the filter (its callout unanswered), one let through (its callout answered). */
async function heldAndFlowing() {
  const h = await Harness.load(calloutTrap, { rootId: "callout_trap" });
  const held = h.http(), flowing = h.http();
  held.sendRequestHeaders(GET("/a"), true);
  flowing.sendRequestHeaders(GET("/b"), true);
  h.httpCalls[1].respond(200, {}, "passes");
  return { h, held, flowing };
}

describe("streams held on a VM that dies", () => {
  it("a trap in a callout's answer fails every request waiting on the VM at once with 503; the next request gets a fresh VM", async () => {
    const h = await Harness.load(calloutTrap, { rootId: "callout_trap" });
    const first = h.http(), second = h.http();
    first.sendRequestHeaders(GET("/a"), true);
    second.sendRequestHeaders(GET("/b"), true);
    expect(h.httpCalls.map((c) => c.header(":path"))).toEqual(["/a", "/b"]);
    h.httpCalls[0].respond(200, {}, "trap");
    for (const s of [first, second]) {
      expect(s.localReply).toMatchObject({ status: 503, details: "wasm_fail_stream" });
      expect(s.request.headersSent).toBe(false);
    }
    expect(second.failure?.reason).toMatch(/^the plugin's VM failed in another callback while this stream waited on it: /);
    h.httpCalls[1].respond(200, {}, "ok"); // the dead VM's callout: dropped
    const next = h.http();
    next.sendRequestHeaders(GET("/c"), true);
    h.httpCalls[2].respond(200, {}, "fine");
    expect(next.localReply).toBeNull();
    expect(next.request.header("x-auth")).toBe("fine");
  });

  it("under fail_open the waiting requests go on without the filter", async () => {
    const h = await Harness.load(calloutTrap, { rootId: "callout_trap", failOpen: true });
    const first = h.http(), second = h.http();
    first.sendRequestHeaders(GET("/a"), true);
    second.sendRequestHeaders(GET("/b"), true);
    h.httpCalls[1].respond(200, {}, "trap");
    for (const s of [first, second]) {
      expect(s.localReply).toBeNull();
      expect(s.request.headersSent).toBe(true);
      expect(s.request.ended).toBe(true);
      expect(s.request.header("x-auth")).toBeUndefined();
    }
  });

  it("a stream that is not held fails at its next callback; the reason says the VM was re-created", async () => {
    const { h, held, flowing } = await heldAndFlowing();
    expect(flowing.request.headersSent).toBe(true);
    h.httpCalls[0].respond(200, {}, "trap");
    expect(held.localReply?.status).toBe(503);
    expect(flowing.localReply).toBeNull(); // waiting for the upstream, not for the filter
    h.http(); // the next stream re-creates the VM
    flowing.sendResponseHeaders({ ":status": "200" }, true);
    expect(flowing.localReply?.status).toBe(503);
    expect(flowing.failure?.reason).toMatch(/was re-created/);
  });

  it("a flowing stream fails at its next body chunk even where the module handles no body (the VM's failure comes before its exports)", async () => {
    const { h, held, flowing } = await heldAndFlowing();
    flowing.sendResponseHeaders({ ":status": "200" }, false);
    flowing.sendResponseBody("first ", false); // a live VM without proxy_on_response_body: passes untouched
    expect(flowing.response.bodyText).toBe("first ");
    h.httpCalls[0].respond(200, {}, "trap");
    expect(held.localReply?.status).toBe(503);
    flowing.sendResponseBody("second", true);
    expect(flowing.response.bodyText).toBe("first ");
    expect(flowing.failure?.reason).toMatch(/failed/);
  });

  it("a TCP connection held at the filter closes when another connection's callback kills the VM", async () => {
    const h = await Harness.load(tcpProbe, { configuration: JSON.stringify({ callout: "auth", trapOn: "TRAP" }) });
    const waiting = h.tcp();
    waiting.sendDownstream("hello"); // held until its callout is answered
    expect(waiting.upstreamText).toBe("");
    const other = h.tcp();
    other.connect();
    h.httpCalls[1].respond(200);
    other.sendDownstream("TRAP");
    expect(other.closedReason).toBe("wasm_fail_stream");
    expect(waiting.closedReason).toBe("wasm_fail_stream");
    expect(waiting.upstreamText).toBe("");
  });
});
