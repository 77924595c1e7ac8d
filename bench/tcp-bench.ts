// The TCP proxy under load, side by side in one run: a TCP echo server alone, a minimal Node
// pass-through (pipes, the floor for any Node TCP proxy), this host's TCP proxy with no
// filter, and with the tcp-metrics example. Each round, 8 connections each send
// 16 MB and read the echo back to its end; the figure is payload bytes echoed per second, and
// the host's CPU time per MB it received. Pinned as the HTTP benchmark is (proxy-bench.ts).
import { connect } from "node:net";
import { type ChildProcess } from "node:child_process";
import { median } from "./harness-bench.ts";
import { startServer, usage } from "./proxy-bench.ts";

const CONNECTIONS = 8;
const BYTES_PER_CONNECTION = 16 * 1024 * 1024;
const PAYLOAD = Buffer.alloc(BYTES_PER_CONNECTION, 0x61);

export interface TcpLoadResult { mbPerSecond: number; cpuMicrosPerMB: number | null }

/** One connection: sends the payload, half-closes, resolves once the whole echo came back. */
function echoOnce(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true }, () => socket.end(PAYLOAD));
    socket.on("data", (d: Buffer) => (received += d.length));
    socket.on("error", reject);
    socket.on("end", () => {
      socket.end();
      if (received === BYTES_PER_CONNECTION) resolve();
      else reject(new Error(`port ${port}: ${received} of ${BYTES_PER_CONNECTION} bytes came back`));
    });
  });
}

async function round(target: { child: ChildProcess; port: number }): Promise<TcpLoadResult> {
  const before = await usage(target.child);
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONNECTIONS }, () => echoOnce(target.port)));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const after = before ? await usage(target.child) : null;
  const mb = (CONNECTIONS * BYTES_PER_CONNECTION) / (1024 * 1024);
  const cpu = before && after && after.requests > before.requests ? (after.cpuMicros - before.cpuMicros) / ((after.requests - before.requests) / (1024 * 1024)) : null;
  return { mbPerSecond: mb / seconds, cpuMicrosPerMB: cpu };
}

export async function measureTcp(rounds: number): Promise<Record<string, TcpLoadResult>> {
  const echo = await startServer(["tcp-echo"], 1);
  const targets: Record<string, { child: ChildProcess; port: number }> = { echo };
  try {
    targets.minimal = await startServer(["tcp-minimal", String(echo.port)], 0);
    targets.noFilter = await startServer(["tcp-host", String(echo.port)], 0);
    targets.tcpMetrics = await startServer(["tcp-host", String(echo.port), "build/tcp-metrics.wasm", "tcp_metrics", '{"prefix": "bench"}'], 0);
    const samples: Record<string, TcpLoadResult[]> = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
    for (const target of Object.values(targets)) await round(target); // warm up
    for (let r = 0; r < rounds; r++) {
      for (const [name, target] of Object.entries(targets)) samples[name].push(await round(target));
    }
    return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, {
      mbPerSecond: median(v.map((x) => x.mbPerSecond)),
      cpuMicrosPerMB: v[0].cpuMicrosPerMB === null ? null : median(v.map((x) => x.cpuMicrosPerMB!)),
    }]));
  } finally {
    for (const { child } of Object.values(targets)) child.kill();
  }
}
