// The TCP proxy over real sockets on 127.0.0.1: wasm network filters, then tcp_proxy to a
// cluster, configured from the examples' envoy.yaml files.
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, type Socket, connect, createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTcpEchoUpstream } from "../../host/testing/echo-upstream.ts";
import { exampleConfig, injectHostBug, root, startProxy } from "./proxy-fixture.ts";

type Running = Awaited<ReturnType<typeof startProxy>>;

/** What a client observes of one connection: the bytes it got back, and how it ended. */
interface Exchange { received: Buffer; ended: boolean; error: string | null }

/** Connects, sends `chunks` (then FIN unless `end` is false), and resolves when the connection closes. */
function talk(port: number, chunks: (Buffer | string)[], end = true): { socket: Socket; done: Promise<Exchange> } {
  const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  const received: Buffer[] = [];
  let ended = false, error: string | null = null;
  socket.on("data", (d: Buffer) => received.push(d));
  socket.on("end", () => {
    ended = true;
    socket.end();
  });
  socket.on("error", (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
  socket.once("connect", () => {
    for (const c of chunks) socket.write(c);
    if (end) socket.end();
  });
  const done = new Promise<Exchange>((resolve) => socket.once("close", () => resolve({ received: Buffer.concat(received), ended, error })));
  return { socket, done };
}

/** Reads from a connection until `predicate` holds for what arrived so far. */
function readUntil(socket: Socket, predicate: (text: string) => boolean): Promise<string> {
  let text = "";
  return new Promise((resolve) => {
    const onData = (d: Buffer) => {
      text += d.toString();
      if (predicate(text)) {
        socket.off("data", onData);
        resolve(text);
      }
    };
    socket.on("data", onData);
  });
}

async function stat(p: Running, name: string): Promise<number> {
  const text = await (await fetch(`${p.admin}/stats`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}: `));
  return line === undefined ? NaN : Number(line.slice(name.length + 2));
}

/** An upstream that records what it receives and never answers. */
async function recordingUpstream() {
  const received: Buffer[] = [];
  let connections = 0;
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    connections++;
    sockets.push(s);
    s.on("data", (d: Buffer) => received.push(d));
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    get bytes() { return Buffer.concat(received); },
    get connections() { return connections; },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      sockets.forEach((s) => s.destroy());
    }),
  };
}

/**
 * An upstream that never accepts: a child process listens with a backlog of one and blocks
 * its event loop, and filler connections fill the accept queue, so the next connect hangs.
 */
async function unresponsiveUpstream() {
  const child = spawn(process.execPath, ["-e", `
    const s = require("node:net").createServer().listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
      console.log(s.address().port);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
    });`], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve) => child.stdout!.once("data", (d: Buffer) => resolve(Number(String(d).trim()))));
  const fillers = Array.from({ length: 4 }, () => connect({ host: "127.0.0.1", port }).on("error", () => {}));
  await new Promise((r) => setTimeout(r, 200));
  return { port, close: () => { fillers.forEach((f) => f.destroy()); child.kill(); } };
}

/** The tcp-deny example's file, running the tcp-probe test filter instead. */
function probeConfig(upstreamPort: number, settings: Record<string, unknown>, failOpen = false) {
  return exampleConfig("tcp-deny", upstreamPort, (yaml) => yaml
    .replace(/name: tcp_deny\n(\s+)root_id: tcp_deny/, `name: tcp_probe\n$1root_id: tcp_probe\n$1fail_open: ${failOpen}`)
    .replace('{"prefixes": ["CONNECT ", "BADPROTO"]}', JSON.stringify(settings))
    .replace(`${root}/build/tcp-deny.wasm`, `${root}/build/test-tcp-probe.wasm`));
}

let echo: Awaited<ReturnType<typeof startTcpEchoUpstream>>;
beforeAll(async () => {
  echo = await startTcpEchoUpstream();
});
afterAll(() => echo.close());

async function withProxy(config: ReturnType<typeof exampleConfig>, body: (p: Running) => Promise<void>): Promise<void> {
  const p = await startProxy(config);
  try {
    await body(p);
  } finally {
    await p.proxy.stop(1000);
  }
}

describe("TCP proxy (tcp-metrics example)", () => {
  const config = () => exampleConfig("tcp-metrics", echo.port);

  it("round-trips 1 byte to 50 MB byte for byte through an echo upstream, and counts them", () =>
    withProxy(config(), async (p) => {
      const sizes = [1, 1000, 65_543, 1024 * 1024 + 3, 50 * 1024 * 1024];
      for (const size of sizes) {
        const data = randomBytes(size);
        const { done } = talk(p.proxy.ports[0], [data]);
        const got = await done;
        expect(got.error).toBeNull();
        expect(got.ended).toBe(true);
        expect(got.received.length).toBe(size);
        expect(got.received.equals(data)).toBe(true);
      }
      const total = sizes.reduce((a, b) => a + b, 0);
      await vi.waitFor(async () => expect(await stat(p, "wasmcustom.tcp.connections.active")).toBe(0));
      expect(await stat(p, "wasmcustom.tcp.downstream.bytes")).toBe(total);
      expect(await stat(p, "wasmcustom.tcp.upstream.bytes")).toBe(total);
      expect(await stat(p, "wasmcustom.tcp.connections.total")).toBe(sizes.length);
      expect(await stat(p, "tcp.tcp_metrics.downstream_cx_total")).toBe(sizes.length);
      expect(await stat(p, "tcp.tcp_metrics.downstream_cx_rx_bytes_total")).toBe(total);
      expect(await stat(p, "tcp.tcp_metrics.downstream_cx_tx_bytes_total")).toBe(total);
      expect(await stat(p, "cluster.upstream.upstream_cx_tx_bytes_total")).toBe(total);
      expect(p.lines.filter((l) => l.includes("[access] TCP 127.0.0.1:")).length).toBe(sizes.length);
    }), 120_000);

  it("carries 200 concurrent connections, each getting its own bytes back", () =>
    withProxy(config(), async (p) => {
      const payloads = Array.from({ length: 200 }, (_, i) => Buffer.from(`connection ${i}:`.padEnd(10_000, String.fromCharCode(97 + (i % 26)))));
      const results = await Promise.all(payloads.map((data) => talk(p.proxy.ports[0], [data.subarray(0, 3000), data.subarray(3000)]).done));
      results.forEach((r, i) => expect(r.received.equals(payloads[i])).toBe(true));
      expect(await stat(p, "wasmcustom.tcp.connections.total")).toBe(200);
      await vi.waitFor(async () => expect(await stat(p, "wasmcustom.tcp.connections.active")).toBe(0));
      expect(await stat(p, "listener.127.0.0.1_" + p.proxy.ports[0] + ".downstream_cx_active")).toBe(0);
    }), 60_000);

  it("keeps the upstream's half of a half-closed connection open: the answer comes after the client's FIN", () =>
    withProxy(config(), async (p) => {
      const { done } = talk(p.proxy.ports[0], ["question"]);
      const got = await done;
      expect(got.received.toString()).toBe("question");
      expect(got.ended).toBe(true);
      await vi.waitFor(async () => expect(await stat(p, "wasmcustom.tcp.connections.closed_by_client") + await stat(p, "wasmcustom.tcp.connections.closed_by_proxy")).toBe(1));
    }));

  it("closes the client's connection when the upstream refuses, and counts it", async () => {
    const down = await recordingUpstream();
    const port = down.port;
    await down.close();
    await withProxy(exampleConfig("tcp-metrics", port), async (p) => {
      const got = await talk(p.proxy.ports[0], ["hello"], false).done;
      expect(got.received.length).toBe(0);
      expect(await stat(p, "cluster.upstream.upstream_cx_connect_fail")).toBe(1);
      expect(p.lines.some((l) => l.includes("upstream_connect_failure:_ECONNREFUSED"))).toBe(true);
      expect(await stat(p, "wasmcustom.tcp.connections.closed_by_proxy")).toBe(1);
    });
  });

  it("closes the client's connection when the upstream does not accept within connect_timeout", async () => {
    const blocked = await unresponsiveUpstream();
    try {
      await withProxy(exampleConfig("tcp-metrics", blocked.port, (y) => y.replace("connect_timeout: 1s", "connect_timeout: 0.3s")), async (p) => {
        const got = await talk(p.proxy.ports[0], ["hello"], false).done;
        expect(got.received.length).toBe(0);
        expect(await stat(p, "cluster.upstream.upstream_cx_connect_timeout")).toBe(1);
        expect(p.lines.some((l) => l.includes("upstream_connect_timeout"))).toBe(true);
      });
    } finally {
      blocked.close();
    }
  }, 20_000);

  it("closes a connection idle for longer than idle_timeout", () =>
    withProxy(exampleConfig("tcp-metrics", echo.port, (y) => y.replace("idle_timeout: 300s", "idle_timeout: 0.2s")), async (p) => {
      const { socket, done } = talk(p.proxy.ports[0], ["ping"], false);
      expect(await readUntil(socket, (t) => t === "ping")).toBe("ping");
      const got = await done;
      expect(got.ended).toBe(true);
      expect(await stat(p, "tcp.tcp_metrics.idle_timeout")).toBe(1);
    }));

  it("pauses reading the client while the upstream does not read, and resumes when it does", async () => {
    // An upstream that reads nothing until told to: the proxy must not buffer the client's bytes without bound.
    let upstreamSocket: Socket | null = null;
    const stalled = createServer({ allowHalfOpen: true }, (s) => {
      upstreamSocket = s;
      s.pause();
    });
    await new Promise<void>((resolve) => stalled.listen(0, "127.0.0.1", () => resolve()));
    try {
      await withProxy(exampleConfig("tcp-metrics", (stalled.address() as AddressInfo).port), async (p) => {
        const data = randomBytes(64 * 1024 * 1024);
        const client = connect({ host: "127.0.0.1", port: p.proxy.ports[0] });
        client.write(data);
        await vi.waitFor(async () => expect(await stat(p, "tcp.tcp_metrics.downstream_flow_control_paused_reading_total")).toBeGreaterThan(0), { timeout: 10_000 });
        // Paused: far less than the 64 MB left the client (kernel buffers and the 1 MiB limits hold the rest).
        expect(await stat(p, "tcp.tcp_metrics.downstream_cx_rx_bytes_total")).toBeLessThan(32 * 1024 * 1024);
        let got = 0;
        upstreamSocket!.on("data", (d: Buffer) => (got += d.length));
        upstreamSocket!.resume();
        await vi.waitFor(() => expect(got).toBe(data.length), { timeout: 30_000 });
        expect(await stat(p, "tcp.tcp_metrics.downstream_flow_control_resumed_reading_total")).toBeGreaterThan(0);
        client.destroy();
      });
    } finally {
      stalled.close();
      (upstreamSocket as Socket | null)?.destroy();
    }
  }, 60_000);

  it("pauses reading the upstream while the client does not read, and resumes when it does", () =>
    withProxy(exampleConfig("tcp-metrics", echo.port), async (p) => {
      const data = randomBytes(64 * 1024 * 1024);
      const client = connect({ host: "127.0.0.1", port: p.proxy.ports[0] });
      client.pause(); // read nothing: the echo's answer must wait in the proxy's bounded buffers, not pile up
      client.write(data);
      await vi.waitFor(async () => expect(await stat(p, "cluster.upstream.upstream_flow_control_paused_reading_total")).toBeGreaterThan(0), { timeout: 10_000 });
      expect(await stat(p, "tcp.tcp_metrics.downstream_cx_tx_bytes_total")).toBeLessThan(32 * 1024 * 1024);
      const got: Buffer[] = [];
      let length = 0;
      client.on("data", (d: Buffer) => {
        got.push(d);
        length += d.length;
      });
      client.resume();
      await vi.waitFor(() => expect(length).toBe(data.length), { timeout: 30_000 });
      expect(Buffer.concat(got).equals(data)).toBe(true);
      expect(await stat(p, "cluster.upstream.upstream_flow_control_resumed_reading_total")).toBeGreaterThan(0);
      client.destroy();
    }), 60_000);

  it("survives an error in its own code: that connection closes, logged, and the next ones work", () =>
    withProxy(config(), async (p) => {
      const undo = injectHostBug(p.proxy, "tcp.tcp_metrics", "downstream_cx_rx_bytes_total");
      const got = await talk(p.proxy.ports[0], ["x"], false).done;
      expect(got.received.length).toBe(0);
      expect(p.lines.some((l) => l.includes("internal error: Error: injected host bug"))).toBe(true);
      undo();
      expect((await talk(p.proxy.ports[0], ["y"]).done).received.toString()).toBe("y");
      await vi.waitFor(async () => expect(await stat(p, `listener.127.0.0.1_${p.proxy.ports[0]}.downstream_cx_active`)).toBe(0));
    }));

  it("gives filters the connection's real properties", () =>
    withProxy(probeConfig(echo.port, { props: true }), async (p) => {
      const { socket, done } = talk(p.proxy.ports[0], ["x"]);
      const clientPort = await new Promise<number>((resolve) => socket.once("connect", () => resolve(socket.localPort!)));
      await done;
      expect(p.lines.some((l) => l.includes(`props source=127.0.0.1:${clientPort} destination_port=${p.proxy.ports[0]} connection_id=`))).toBe(true);
    }));
});

describe("TCP proxy (tcp-deny example)", () => {
  it("closes a denied connection without forwarding a byte, and passes the others unchanged", async () => {
    const upstream = await recordingUpstream();
    try {
      await withProxy(exampleConfig("tcp-deny", upstream.port), async (p) => {
        const denied = await talk(p.proxy.ports[0], ["BADPR", "OTO rest of it"], false).done;
        expect(denied.received.length).toBe(0);
        expect(denied.ended).toBe(true);
        expect(p.lines.some((l) => l.includes("starts with a denied prefix; closing"))).toBe(true);
        expect(p.lines.some((l) => l.includes("wasm_downstream_close"))).toBe(true);
        expect(upstream.bytes.length).toBe(0);
      });
      await withProxy(exampleConfig("tcp-deny", echo.port), async (p) => {
        const allowed = await talk(p.proxy.ports[0], ["BAD", "GER"]).done;
        expect(allowed.received.toString()).toBe("BADGER");
      });
    } finally {
      await upstream.close();
    }
  });
});

describe("TCP proxy with a chain of network filters", () => {
  it("runs tcp-deny then tcp-metrics from one file: the metrics see only what tcp-deny let through", () =>
    withProxy(exampleConfig("tcp-deny", echo.port, (yaml) => yaml.replace("      - name: envoy.filters.network.tcp_proxy", `      - name: envoy.filters.network.wasm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
          config:
            name: tcp_metrics
            root_id: tcp_metrics
            configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: '{"prefix": "chain"}' }
            vm_config: { code: { local: { filename: ${root}/build/tcp-metrics.wasm } } }
      - name: envoy.filters.network.tcp_proxy`)), async (p) => {
      expect((await talk(p.proxy.ports[0], ["BADPROTO!"]).done).received.length).toBe(0);
      expect((await talk(p.proxy.ports[0], ["fine"]).done).received.toString()).toBe("fine");
      await vi.waitFor(async () => expect(await stat(p, "wasmcustom.chain.connections.active")).toBe(0));
      expect(await stat(p, "wasmcustom.chain.connections.total")).toBe(2);
      expect(await stat(p, "wasmcustom.chain.downstream.bytes")).toBe(4); // "fine"; tcp-deny held "BADPROTO!" and closed
    }));
});

describe("TCP proxy failures (tcp-probe test filter)", () => {
  it("closes only the connection whose filter trapped; new connections get a fresh VM", () =>
    withProxy(probeConfig(echo.port, { trapOn: "TRAP" }), async (p) => {
      const port = p.proxy.ports[0];
      const other = talk(port, ["before "], false);
      expect(await readUntil(other.socket, (t) => t === "before ")).toBe("before ");
      const trapped = await talk(port, ["TRAP"], false).done;
      expect(trapped.received.length).toBe(0);
      expect(p.lines.some((l) => l.includes("wasm_fail_stream"))).toBe(true);
      // The trap closed nothing else: the other connection is still open.
      expect(other.socket.destroyed).toBe(false);
      expect(await stat(p, "wasm_filter.tcp_probe.vm_failures")).toBe(1);
      await vi.waitFor(async () => expect((await talk(port, ["after"]).done).received.toString()).toBe("after"), { timeout: 5000 });
      // As in Envoy, a connection that began in the failed VM fails closed at its next callback.
      other.socket.write("more");
      const rest = await other.done;
      expect(rest.received.toString()).toBe("before ");
    }));

  it("under fail_open, lets a connection from the failed VM go on without the filter", () =>
    withProxy(probeConfig(echo.port, { trapOn: "TRAP", upper: true }, true), async (p) => {
      const port = p.proxy.ports[0];
      const other = talk(port, ["before "], false);
      expect(await readUntil(other.socket, (t) => t === "BEFORE ")).toBe("BEFORE ");
      await talk(port, ["TRAP"]).done;
      other.socket.write("after");
      expect(await readUntil(other.socket, (t) => t.endsWith("after"))).toBe("after"); // unfiltered: not upper-cased
      other.socket.end();
      await other.done;
    }));

  it("holds a connection for a callout from its TCP context, then lets it through", async () => {
    const checks: string[] = [];
    const authServer = createHttpServer((req, res) => {
      checks.push(req.url ?? "");
      res.writeHead(200).end("ok");
    });
    await new Promise<void>((resolve) => authServer.listen(0, "127.0.0.1", () => resolve()));
    const authPort = (authServer.address() as AddressInfo).port;
    try {
      const config = probeConfig(echo.port, { callout: "auth", stopOnConnect: true });
      config.clusters.push({ name: "auth", type: "STATIC", connectTimeoutMs: 1000, endpoints: [{ address: "127.0.0.1", port: authPort }], http2: false });
      await withProxy(config, async (p) => {
        const got = await talk(p.proxy.ports[0], ["checked"]).done;
        expect(got.received.toString()).toBe("checked");
        expect(checks).toEqual(["/check"]);
        expect(p.lines.some((l) => l.includes("callout answered 200"))).toBe(true);
      });
    } finally {
      authServer.close();
    }
  });
});
