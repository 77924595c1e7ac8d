import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness } from "../../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../../build/tcp-deny.wasm");
const load = () => Harness.load(wasm, { rootId: "tcp_deny", configuration: JSON.stringify({ prefixes: ["BADPROTO", "CONNECT "] }) });

describe("tcp-deny example, in the harness", () => {
  it("closes a connection whose first bytes match a prefix, forwarding nothing", async () => {
    const h = await load();
    const c = h.tcp();
    c.sendDownstream("BADPROTO hello");
    expect(c.closedReason).toBe("wasm_downstream_close");
    expect(c.upstreamBytes).toHaveLength(0);
    expect(h.logMessages("info")).toContain(`tcp-deny: connection ${c.contextId} starts with a denied prefix; closing`);
  });

  it("holds bytes until it can decide, even when a prefix arrives a byte at a time", async () => {
    const h = await load();
    const c = h.tcp();
    for (const byte of "CONNEC") c.sendDownstream(byte);
    expect(c.upstreamBytes).toHaveLength(0);
    expect(c.closedReason).toBeNull();
    c.sendDownstream("T host:443");
    expect(c.closedReason).not.toBeNull();
    expect(c.upstreamBytes).toHaveLength(0);
  });

  it("passes everything else through unchanged, both ways, held bytes included", async () => {
    const h = await load();
    const c = h.tcp();
    c.sendDownstream("GE");
    expect(c.upstreamText).toBe("GE"); // no prefix starts with "GE": it passes at once
    c.sendDownstream("T / HTTP/1.1\r\n\r\n", true);
    c.sendUpstream("HTTP/1.1 200 OK\r\n\r\n", true);
    expect(c.upstreamText).toBe("GET / HTTP/1.1\r\n\r\n");
    expect(c.downstreamText).toBe("HTTP/1.1 200 OK\r\n\r\n");
    expect([c.upstreamEnded, c.downstreamEnded, c.closedReason]).toEqual([true, true, "both sides ended"]);
  });

  it("releases held bytes once they can no longer match", async () => {
    const h = await load();
    const c = h.tcp();
    c.sendDownstream("BAD");
    expect(c.upstreamText).toBe(""); // could still become BADPROTO
    c.sendDownstream("GER");
    expect(c.upstreamText).toBe("BADGER");
    expect(c.closedReason).toBeNull();
  });

  it("reports closes to the filter and ends its context", async () => {
    const h = await load();
    const c = h.tcp();
    c.sendDownstream("hello");
    c.closeDownstream();
    expect(c.upstreamText).toBe("hello");
    c.sendDownstream("late");
    expect(c.upstreamText).toBe("hello");
  });
});
