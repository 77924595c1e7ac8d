// The harness's per-stream connection attributes and its clock, as a filter observes them:
// the sdk-probe filter (tests/filters/sdk-probe) answers a property or the time in x-result,
// and with `tick=<ms>` logs the time of each tick; the tcp-probe filter logs its connection.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness, ManualClock, SharedState, type TestHttpStream } from "../host/testing/index.ts";

const sdkProbe = join(import.meta.dirname, "../build/test-sdk-probe.wasm");
const tcpProbe = join(import.meta.dirname, "../build/test-tcp-probe.wasm");
const MS = 1_000_000n;

/** Runs a probe on the request headers of `s` and answers what the filter put in x-result. */
function probe(s: TestHttpStream, name: string, arg = ""): string | undefined {
  s.sendRequestHeaders({ ":method": "GET", ":path": "/", "x-probe": name, "x-arg": arg }, true);
  return s.request.header("x-result");
}
const property = (s: TestHttpStream, path: string) => probe(s, "property", path);
const now = (h: Harness) => BigInt(probe(h.http(), "now")!);

describe("per-stream connection attributes", () => {
  const load = () => Harness.load(sdkProbe, { streamInfo: { source: { address: "10.0.0.9", port: 1000 }, destination: { address: "10.0.0.1", port: 80 } } });

  it("a stream's source, destination and mtls override the harness's, for that stream only", async () => {
    const h = await load();
    const own = h.http({ source: { address: "10.1.2.3", port: 5555 }, destination: { address: "10.0.0.2", port: 443 }, mtls: true });
    expect(property(own, "source.address")).toBe("10.1.2.3:5555");
    expect(probe(own, "property-int", "source.port")).toBe("5555");
    const second = h.http({ source: { address: "10.1.2.3", port: 5555 }, destination: { address: "10.0.0.2", port: 443 }, mtls: true });
    expect(property(second, "destination.address")).toBe("10.0.0.2:443"); // one probe per stream
    const tls = h.http({ mtls: true });
    expect(probe(tls, "property-bool", "connection.mtls")).toBe("true");
    const plain = h.http();
    expect(property(plain, "source.address")).toBe("10.0.0.9:1000");
    const plainTls = h.http();
    expect(probe(plainTls, "property-bool", "connection.mtls")).toBe("false");
  });

  it("an address alone keeps the harness's port, and a port alone its address", async () => {
    const h = await load();
    expect(property(h.http({ source: { address: "10.7.7.7" } }), "source.address")).toBe("10.7.7.7:1000");
    expect(property(h.http({ destination: { port: 8443 } }), "destination.address")).toBe("10.0.0.1:8443");
  });

  it("IPv6 addresses read back as [address]:port, as in Envoy, given bare or bracketed", async () => {
    const h = await load();
    expect(property(h.http({ source: { address: "2001:db8::7", port: 40000 } }), "source.address")).toBe("[2001:db8::7]:40000");
    expect(property(h.http({ source: { address: "[::1]", port: 5 } }), "source.address")).toBe("[::1]:5");
  });

  it("each stream is a connection of its own unless it names one", async () => {
    const h = await load();
    const ids = [h.http(), h.http()].map((s) => probe(s, "property-int", "connection.id"));
    expect(new Set(ids).size).toBe(2);
    expect(probe(h.http({ connectionId: 42 }), "property-int", "connection.id")).toBe("42");
  });

  it("TCP connections take the same options", async () => {
    const h = await Harness.load(tcpProbe, { rootId: "tcp_probe", configuration: JSON.stringify({ props: true }), streamInfo: { destination: { address: "10.0.0.1", port: 6379 } } });
    h.tcp({ source: { address: "::1", port: 6000 }, mtls: true, connectionId: 7 }).connect();
    h.tcp().connect();
    expect(h.logMessages("info").filter((m) => m.startsWith("props"))).toEqual([
      "props source=[::1]:6000 destination_port=6379 connection_id=7 mtls=true",
      expect.stringMatching(/^props source=127\.0\.0\.1:0 destination_port=6379 connection_id=\d+ mtls=false$/),
    ]);
  });
});

describe("the harness's clock", () => {
  it("stands still until the test advances it; time.nowNanos() then moves by exactly that much", async () => {
    const h = await Harness.load(sdkProbe);
    const start = now(h);
    expect(Number(start / MS)).toBeGreaterThan(Date.now() - 60_000); // starts at the wall clock's now
    expect(now(h)).toBe(start);
    h.advance(1234.5);
    expect(now(h)).toBe(start + 1_234_500_000n);
    h.advance(0);
    expect(now(h)).toBe(h.clock.nowNanos());
    expect(h.clock.nowNanos()).toBe(start + 1_234_500_000n);
  });

  it("runs each tick that falls due, in order, at its time", async () => {
    const h = await Harness.load(sdkProbe, { configuration: "tick=100" });
    const start = h.clock.nowNanos();
    const ticks = () => h.logMessages("info").filter((m) => m.startsWith("tick at ")).map((m) => BigInt(m.slice(8)) - start);
    h.advance(99);
    expect(ticks()).toEqual([]);
    h.advance(151); // to 250: the ticks due at 100 and 200
    expect(ticks()).toEqual([100n * MS, 200n * MS]);
    h.advance(50);
    expect(ticks()).toHaveLength(3);
    h.advance(1000);
    expect(ticks()).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n, 12n, 13n].map((n) => n * 100n * MS));
    h.tick(); // a tick by hand runs now, and moves neither the clock nor the next tick
    h.advance(100);
    expect(ticks().slice(-2)).toEqual([1300n * MS, 1400n * MS]);
  });

  it("request.time is when the stream started; request.duration grows as the clock moves", async () => {
    const h = await Harness.load(sdkProbe);
    const started = h.clock.nowNanos();
    const s = h.http();
    h.advance(5);
    expect(probe(s, "property-int", "request.time")).toBe(String(started));
    h.advance(245);
    s.sendResponseHeaders({ ":status": "200", "x-probe": "property-int", "x-arg": "request.duration" }, true);
    expect(s.response.header("x-result")).toBe(String(250n * MS));
  });

  it("harnesses sharing state share the clock, as a proxy's VMs do; a ManualClock of the test's own can be given", async () => {
    const shared = new SharedState();
    const a = await Harness.load(sdkProbe, { shared, vmId: "v" });
    const b = await Harness.load(sdkProbe, { shared, vmId: "v", configuration: "tick=10" });
    expect(now(b)).toBe(now(a));
    a.advance(30);
    expect(now(b)).toBe(now(a));
    expect(b.logMessages("info").filter((m) => m.startsWith("tick at "))).toHaveLength(3);

    const clock = new ManualClock(1_000n * MS);
    const c = await Harness.load(sdkProbe, { clock });
    clock.advance(7);
    expect(now(c)).toBe(1_007n * MS);
  });

  it("with clock: \"real\" the time is the wall clock's, and advance() says it needs the manual clock", async () => {
    const h = await Harness.load(sdkProbe, { clock: "real" });
    const before = BigInt(Date.now()) * MS;
    const read = now(h);
    expect(read).toBeGreaterThanOrEqual(before - 5n * MS);
    expect(read).toBeLessThanOrEqual(BigInt(Date.now() + 5) * MS);
    expect(() => h.advance(10)).toThrow(/manual clock/);
  });
});
