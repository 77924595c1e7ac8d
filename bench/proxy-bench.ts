// The proxy under load, side by side in one run: the upstream alone, a minimal Node
// pass-through proxy (the floor for any Node proxy), this host with no filter, and this host
// with the add-header filter. autocannon drives each in turn, round after round. On a
// two-core machine three busy processes left to the scheduler measure where they land more
// than what they do, so the proxy under test is pinned to core 0 and the upstream and the
// load generator (this process, re-run under taskset by bench/index.ts) to core 1.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { median } from "./harness-bench.ts";

const root = join(import.meta.dirname, "..");

export interface LoadResult { rps: number; p50: number; p99: number; cpuMicrosPerRequest: number | null }

export interface Usage { cpuMicros: number; requests: number }

/** With two cores or more and taskset at hand, the proxy under test gets core 0 to itself; upstream and load generator share core 1. */
export const PINNED = process.env.BENCH_PINNED === "1" || (availableParallelism() >= 2 && spawnSync("taskset", ["-c", "0", "true"]).status === 0);

export function startServer(args: string[], core: number, env: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number }> {
  const command = [process.execPath, "--import", "tsx", join(import.meta.dirname, "servers.ts"), ...args];
  const [file, ...argv] = PINNED ? ["taskset", "-c", String(core), ...command] : command;
  const child = spawn(file, argv, { cwd: root, stdio: ["ignore", "pipe", "inherit", "ipc"], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    child.stdout!.once("data", (d: Buffer) => resolve({ child, port: Number(String(d).trim()) }));
    child.once("exit", (code) => reject(new Error(`bench server ${args.join(" ")} exited with ${code}`)));
  });
}

/** The host's CPU time and requests so far (null for servers that do not report them). */
export function usage(child: ChildProcess): Promise<Usage | null> {
  if (!child.connected) return Promise.resolve(null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 1000);
    child.once("message", (m) => {
      clearTimeout(timer);
      resolve(m as Usage);
    });
    child.send("usage");
  });
}

async function measured(target: { child: ChildProcess; port: number }, seconds: number): Promise<LoadResult> {
  const before = await usage(target.child);
  const result = await load(target.port, seconds);
  const after = before ? await usage(target.child) : null;
  const cpu = before && after && after.requests > before.requests ? (after.cpuMicros - before.cpuMicros) / (after.requests - before.requests) : null;
  return { ...result, cpuMicrosPerRequest: cpu };
}

function load(port: number, seconds: number): Promise<Omit<LoadResult, "cpuMicrosPerRequest">> {
  return new Promise((resolve, reject) => {
    autocannon({ url: `http://127.0.0.1:${port}/bench`, connections: 32, duration: seconds }, (err, result) => {
      if (err) return reject(err);
      if (result.non2xx > 0 || result.errors > 0) return reject(new Error(`port ${port}: ${result.non2xx} non-2xx, ${result.errors} errors`));
      resolve({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 });
    });
  });
}

export async function measureProxy(rounds: number, seconds: number): Promise<Record<string, LoadResult>> {
  const upstream = await startServer(["upstream"], 1);
  const addHeaderConfig = JSON.stringify({ request: { "x-added-by": "proxy-wasm-as" }, response: { "x-frame-options": "DENY" } });
  const targets: Record<string, { child: ChildProcess; port: number }> = { upstream };
  try {
    targets.minimal = await startServer(["minimal", String(upstream.port)], 0);
    targets.noFilter = await startServer(["host", String(upstream.port)], 0);
    targets.addHeader = await startServer(["host", String(upstream.port), "build/add-header.wasm", "add_header", addHeaderConfig], 0);
    // The same with --inspect: what tracing every request costs (off, it must cost nothing: the row above).
    targets.addHeaderInspect = await startServer(["host", String(upstream.port), "build/add-header.wasm", "add_header", addHeaderConfig], 0, { BENCH_INSPECT: "1" });
    const samples: Record<string, LoadResult[]> = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
    // Warm up: JIT and wasm tier-up settle before anything is measured.
    for (const { port } of Object.values(targets)) await load(port, 3);
    for (let r = 0; r < rounds; r++) {
      for (const [name, target] of Object.entries(targets)) samples[name].push(await measured(target, seconds));
    }
    return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, {
      rps: median(v.map((x) => x.rps)), p50: median(v.map((x) => x.p50)), p99: median(v.map((x) => x.p99)),
      cpuMicrosPerRequest: v[0].cpuMicrosPerRequest === null ? null : median(v.map((x) => x.cpuMicrosPerRequest!)),
    }]));
  } finally {
    for (const { child } of Object.values(targets)) child.kill();
  }
}
