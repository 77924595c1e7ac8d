// Envoy's network filter semantics, through the harness, with the tcp-probe test filter
// (tests/filters/tcp-probe): callbacks in order, the connection's shared buffers,
// StopIteration, half-close, close types, failures, and host capabilities from a TCP context.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Harness } from "../../host/testing/index.ts";
import { TcpStream } from "../../host/tcp/stream.ts";

const wasm = join(import.meta.dirname, "../../build/test-tcp-probe.wasm");
const load = (settings: Record<string, unknown> = {}, options: Parameters<typeof Harness.load>[1] = {}) =>
  Harness.load(wasm, { rootId: "tcp_probe", configuration: JSON.stringify(settings), ...options });
const events = (h: Harness) => h.logMessages("info");

describe("TCP stream", () => {
  it("passes bytes both ways unchanged and reports each callback with its size and end", async () => {
    const h = await load();
    const c = h.tcp();
    c.connect();
    expect(c.upstreamConnected).toBe(true);
    c.sendDownstream("ping");
    c.sendUpstream("pong");
    c.sendDownstream("", true);
    c.sendUpstream("!", true);
    expect(c.upstreamText).toBe("ping");
    expect(c.downstreamText).toBe("pong!");
    expect([c.upstreamEnded, c.downstreamEnded]).toEqual([true, true]);
    // Both FINs went through: the connection is over; ours came last, so the close is local.
    expect(c.closedReason).toBe("both sides ended");
    expect(c.closedBy).toBe("local");
    expect(events(h)).toEqual([
      "new_connection",
      "downstream_data size=4 end=false",
      "upstream_data size=4 end=false",
      "downstream_data size=0 end=true",
      "upstream_data size=1 end=true",
      "upstream_close unknown",
      "downstream_close local",
      "done",
    ]);
  });

  it("reports a remote close when the client's FIN comes last", async () => {
    const h = await load();
    const c = h.tcp();
    c.sendDownstream("q");
    c.sendUpstream("a", true);
    expect(c.closedReason).toBeNull(); // half-closed: the client may still send
    c.sendDownstream("more", true);
    expect(c.upstreamText).toBe("qmore");
    expect(c.closedBy).toBe("remote");
    expect(events(h).slice(-2)).toEqual(["downstream_close remote", "done"]);
  });

  it("holds client bytes on StopIteration and shows the whole buffer at the next callback", async () => {
    const h = await load({ holdUntil: "\n" });
    const c = h.tcp();
    for (const chunk of ["GET", " /a", " x"]) c.sendDownstream(chunk);
    expect(c.upstreamText).toBe("");
    c.sendDownstream("\nrest");
    expect(c.upstreamText).toBe("GET /a x\nrest");
    expect(events(h).filter((e) => e.startsWith("downstream_data"))).toEqual([
      "downstream_data size=3 end=false", "downstream_data size=6 end=false", "downstream_data size=8 end=false", "downstream_data size=13 end=false",
    ]);
  });

  it("releases held bytes with the FIN", async () => {
    const h = await load({ holdUntil: "\n" });
    const c = h.tcp();
    c.sendDownstream("partial");
    c.sendDownstream("", true);
    expect(c.upstreamText).toBe("partial");
    expect(c.upstreamEnded).toBe(true);
  });

  it("rewrites data in both directions through the buffer helpers", async () => {
    const h = await load({ upper: true, prefixUpstream: "> " });
    const c = h.tcp();
    c.sendDownstream("hello, World");
    c.sendUpstream("one");
    c.sendUpstream("two");
    expect(c.upstreamText).toBe("HELLO, WORLD");
    expect(c.downstreamText).toBe("> one> two");
  });

  it("appends to client data on its way", async () => {
    const h = await load({ suffixDownstream: ";" });
    const c = h.tcp();
    c.sendDownstream("a");
    c.sendDownstream("bc");
    c.sendDownstream("", true); // the FIN alone: nothing to append to
    expect(c.upstreamText).toBe("a;bc;");
    expect(c.upstreamEnded).toBe(true);
  });

  it("holds no bytes with a stop in onNewConnection alone: the next bytes call onDownstreamData, as in Envoy", async () => {
    const h = await load({ stopOnConnect: true });
    const c = h.tcp();
    c.connect();
    expect(c.upstreamConnected).toBe(false); // iteration stopped before the end of the chain
    c.sendDownstream("data");
    expect(c.upstreamConnected).toBe(true);
    expect(c.upstreamText).toBe("data");
    expect(events(h)).toEqual(["new_connection", "downstream_data size=4 end=false"]);
  });

  it("keeps the connection and the upstream waiting while a callout is out, then goes on after its answer", async () => {
    const h = await load({ stopOnConnect: true, callout: "auth" });
    const c = h.tcp();
    c.connect();
    c.sendDownstream("early bytes");
    expect(c.upstreamConnected).toBe(false);
    expect(c.upstreamText).toBe("");
    expect(h.httpCalls).toHaveLength(1);
    expect(h.httpCalls[0].cluster).toBe("auth");
    h.httpCalls[0].respond(200);
    expect(c.upstreamConnected).toBe(true);
    expect(c.upstreamText).toBe("early bytes");
    expect(events(h)).toContain("callout answered 200");
  });

  it("closes the connection from a callout's answer, forwarding nothing", async () => {
    const h = await load({ stopOnConnect: true, callout: "auth" });
    const c = h.tcp();
    c.sendDownstream("secret");
    h.httpCalls[0].respond(403);
    expect(c.closedReason).toBe("wasm_downstream_close");
    expect(c.upstreamConnected).toBe(false);
    expect(c.upstreamText).toBe("");
    expect(events(h).slice(-2)).toEqual(["downstream_close local", "done"]);
  });

  it("drops a callout's answer when the connection ended first", async () => {
    const h = await load({ stopOnConnect: true, callout: "auth" });
    const c = h.tcp();
    c.connect();
    c.closeDownstream();
    h.httpCalls[0].respond(200);
    expect(events(h)).not.toContain("callout answered 200");
    expect(events(h).slice(-2)).toEqual(["downstream_close remote", "done"]);
  });

  it("closes on the filter's closeConnection without forwarding the bytes it saw", async () => {
    const h = await load({ closeOn: "QUIT" });
    const c = h.tcp();
    c.sendDownstream("fine\n");
    c.sendDownstream("QUIT\n");
    expect(c.upstreamText).toBe("fine\n");
    expect(c.closedReason).toBe("wasm_downstream_close");
    c.sendDownstream("late");
    expect(c.upstreamText).toBe("fine\n");
  });

  it("tells the filter when the upstream connection went away (a local close of the client's)", async () => {
    const h = await load();
    const c = h.tcp();
    c.sendDownstream("x");
    c.closeUpstream();
    expect(c.closedReason).toBe("upstream connection closed");
    expect(events(h).slice(-2)).toEqual(["downstream_close local", "done"]);
  });

  it("closes the connection when the filter traps (fail-closed), and the next connection gets a fresh VM", async () => {
    const h = await load({ trapOn: "TRAP" });
    const c = h.tcp();
    c.sendDownstream("TRAP");
    expect(c.closedReason).toBe("wasm_fail_stream");
    expect(c.failure?.reason).toMatch(/unreachable/);
    expect(h.logMessages("critical")[0]).toMatch(/^abort: tcp-probe: asked to trap at tests\/filters\/tcp-probe\/index.ts/);
    expect(c.upstreamText).toBe("");
    const next = h.tcp();
    next.sendDownstream("fine");
    expect(next.upstreamText).toBe("fine");
  });

  it("lets the bytes through without the filter when it traps under fail_open", async () => {
    const h = await load({ trapOn: "TRAP" }, { failOpen: true });
    const c = h.tcp();
    c.sendDownstream("TRAP");
    expect(c.closedReason).toBeNull();
    expect(c.upstreamText).toBe("TRAP");
    c.sendUpstream("reply");
    expect(c.downstreamText).toBe("reply");
  });

  it("counts with metrics and shared data from a TCP context", async () => {
    const h = await load();
    for (const text of ["abc", "defgh"]) {
      const c = h.tcp();
      c.sendDownstream(text);
      c.closeDownstream();
    }
    expect(h.metric("tcp_probe.downstream_bytes")).toEqual({ type: "counter", value: 8 });
    expect(new TextDecoder().decode(h.plugin.shared.get(h.plugin.vmId, "tcp_probe.connections")?.value)).toBe("2");
  });

  it("refuses continue_stream for upstream data, as Envoy does", async () => {
    const h = await load();
    const c = h.tcp();
    c.connect();
    const filter = (c as unknown as { stream: { filters: { continueStream(t: number): number }[] } }).stream.filters[0];
    expect(filter.continueStream(3)).toBe(12); // StreamType.Upstream → Unimplemented
  });

  it("reads the connection's properties from a TCP context", async () => {
    const h = await load({ props: true }, {
      streamInfo: { source: { address: "10.1.2.3", port: 5555 }, destination: { address: "10.0.0.1", port: 443 }, mtls: true },
    });
    h.tcp().connect();
    expect(events(h)[1]).toMatch(/^props source=10\.1\.2\.3:5555 destination_port=443 connection_id=\d+ mtls=true$/);
  });

  it("closes the client's connection on proxy_close_stream(Upstream) too, as Envoy does", async () => {
    const h = await load({ closeUpstreamOn: "BYE" });
    const c = h.tcp();
    c.sendDownstream("BYE");
    expect(c.closedReason).toBe("wasm_upstream_close");
    expect(c.upstreamText).toBe("");
    expect(events(h).slice(-2)).toEqual(["downstream_close local", "done"]);
  });

  it("uses shared queues and the root's timer alongside TCP contexts", async () => {
    const h = await load({ queue: true, tickMs: 50 });
    expect(h.tickPeriodMs).toBe(50);
    const [a, b] = [h.tcp(), h.tcp()];
    a.connect();
    b.connect();
    h.tick();
    a.closeDownstream();
    h.tick();
    b.sendDownstream("x");
    b.closeUpstream();
    expect(events(h).filter((e) => e.startsWith("tick") || e.startsWith("dequeued"))).toEqual([
      "tick: 2 open", `dequeued connection ${a.contextId} remote`, "tick: 1 open", `dequeued connection ${b.contextId} local`,
    ]);
  });
});

describe("TCP chain of two filters", () => {
  const text = (d: Uint8Array) => new TextDecoder().decode(d);
  function chain(first: Harness, second: Harness) {
    const seen = { upstream: "", downstream: "" };
    const stream = new TcpStream([first.plugin, second.plugin], {
      connectUpstream() {},
      toUpstream: (d) => (seen.upstream += text(d)),
      toDownstream: (d) => (seen.downstream += text(d)),
      close() {},
    });
    const bytes = (t: string) => new TextEncoder().encode(t);
    return { stream, seen, send: (side: "downstream" | "upstream", t: string) => stream.receive(side, bytes(t), false) };
  }

  it("shows each filter the whole read buffer: one that continued sees again what a later one holds", async () => {
    const [first, second] = [await load(), await load({ holdUntil: "\n" })];
    const { stream, seen, send } = chain(first, second);
    stream.open();
    send("downstream", "ab");
    send("downstream", "c\n");
    expect(seen.upstream).toBe("ab" + "c\n");
    const data = (h: Harness) => events(h).filter((e) => e.startsWith("downstream_data"));
    expect(data(first)).toEqual(["downstream_data size=2 end=false", "downstream_data size=4 end=false"]);
    expect(data(second)).toEqual(["downstream_data size=2 end=false", "downstream_data size=4 end=false"]);
  });

  it("passes client bytes through the filters in order and upstream bytes in reverse", async () => {
    const [first, second] = [await load({ upper: true, prefixUpstream: "1:" }), await load({ closeOn: "HELLO", prefixUpstream: "2:" })];
    const { stream, seen, send } = chain(first, second);
    send("downstream", "hi");
    send("upstream", "ok");
    expect([seen.upstream, seen.downstream]).toEqual(["HI", "1:2:ok"]);
    send("downstream", "hello"); // upper-cased by the first, so the second sees HELLO and closes
    expect(stream.closed).toBe("wasm_downstream_close");
    expect(seen.upstream).toBe("HI");
  });
});

