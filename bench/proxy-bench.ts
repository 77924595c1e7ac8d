// The proxy under load, side by side in one run: the upstream alone, a minimal Node
// pass-through proxy (the floor for any Node proxy), this host with no filter, and this host
// with the add-header filter. autocannon drives each in turn, round after round.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import autocannon from "autocannon";
import { median } from "./harness-bench.ts";

const root = join(import.meta.dirname, "..");

export interface LoadResult { rps: number; p50: number; p99: number }

function startServer(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "servers.ts"), ...args], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.stdout!.once("data", (d: Buffer) => resolve({ child, port: Number(String(d).trim()) }));
    child.once("exit", (code) => reject(new Error(`bench server ${args.join(" ")} exited with ${code}`)));
  });
}

function load(port: number, seconds: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    autocannon({ url: `http://127.0.0.1:${port}/bench`, connections: 32, duration: seconds }, (err, result) => {
      if (err) return reject(err);
      if (result.non2xx > 0 || result.errors > 0) return reject(new Error(`port ${port}: ${result.non2xx} non-2xx, ${result.errors} errors`));
      resolve({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 });
    });
  });
}

export async function measureProxy(rounds: number, seconds: number): Promise<Record<string, LoadResult>> {
  const upstream = await startServer(["upstream"]);
  const addHeaderConfig = JSON.stringify({ request: { "x-added-by": "proxy-wasm-as" }, response: { "x-frame-options": "DENY" } });
  const targets: Record<string, { child: ChildProcess; port: number }> = { upstream };
  try {
    targets.minimal = await startServer(["minimal", String(upstream.port)]);
    targets.noFilter = await startServer(["host", String(upstream.port)]);
    targets.addHeader = await startServer(["host", String(upstream.port), "build/add-header.wasm", "add_header", addHeaderConfig]);
    const samples: Record<string, LoadResult[]> = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
    for (const { port } of Object.values(targets)) await load(port, 1); // warm up
    for (let r = 0; r < rounds; r++) {
      for (const [name, { port }] of Object.entries(targets)) samples[name].push(await load(port, seconds));
    }
    return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, {
      rps: median(v.map((x) => x.rps)), p50: median(v.map((x) => x.p50)), p99: median(v.map((x) => x.p99)),
    }]));
  } finally {
    for (const { child } of Object.values(targets)) child.kill();
  }
}
