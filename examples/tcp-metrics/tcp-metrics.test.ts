import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness } from "../../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../../build/tcp-metrics.wasm");
const load = () => Harness.load(wasm, { rootId: "tcp_metrics", configuration: JSON.stringify({ prefix: "tcp" }) });

describe("tcp-metrics example, in the harness", () => {
  it("counts bytes each way, in any chunking", async () => {
    const h = await load();
    const c = h.tcp();
    for (const chunk of ["GET / HTTP/1.1\r\n", "Host: x\r\n", "\r\n"]) c.sendDownstream(chunk);
    c.sendUpstream("HTTP/1.1 204 No Content\r\n\r\n");
    expect(h.metric("tcp.downstream.bytes")).toEqual({ type: "counter", value: 27 });
    expect(h.metric("tcp.upstream.bytes")).toEqual({ type: "counter", value: 27 });
    expect(c.upstreamText).toBe("GET / HTTP/1.1\r\nHost: x\r\n\r\n"); // unchanged
  });

  it("keeps connections opened and open now, and how they closed", async () => {
    const h = await load();
    const [a, b, c] = [h.tcp(), h.tcp(), h.tcp()];
    for (const conn of [a, b, c]) conn.connect();
    expect(h.metric("tcp.connections.total")).toEqual({ type: "counter", value: 3 });
    expect(h.metric("tcp.connections.active")).toEqual({ type: "gauge", value: 3 });
    a.closeDownstream(); // the client went away
    b.closeUpstream(); // the upstream did: the proxy closes the client's connection
    expect(h.metric("tcp.connections.active")).toEqual({ type: "gauge", value: 1 });
    expect(h.metric("tcp.connections.closed_by_client")).toEqual({ type: "counter", value: 1 });
    expect(h.metric("tcp.connections.closed_by_proxy")).toEqual({ type: "counter", value: 1 });
  });

  it("records bytes per connection in histograms when a connection ends", async () => {
    const h = await load();
    for (const size of [10, 20, 30]) {
      const c = h.tcp();
      c.sendDownstream("x".repeat(size), true);
      c.sendUpstream("y".repeat(size * 2), true);
    }
    expect(h.metric("tcp.downstream.bytes_per_connection")).toMatchObject({ type: "histogram", count: 3, sum: 60 });
    expect(h.metric("tcp.upstream.bytes_per_connection")).toMatchObject({ type: "histogram", count: 3, sum: 120 });
  });
});
