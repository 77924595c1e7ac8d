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
import { type Ratio, median, roundRatios } from "./harness-bench.ts";

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
    const timer = setTimeout(() => resolve(null), 5000);
    child.once("message", (m) => {
      clearTimeout(timer);
      resolve(m as Usage);
    });
    child.send("usage");
  });
}

/** Warm-up per subject and process before the first round. */
const WARM_UP_SECONDS = 3;

/**
 * Processes per server, taking the rounds in turn: identical processes measure up to 10%
 * apart for a whole run (where the heap and the JIT's code land), so no ratio rests on one.
 */
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 3);

/** The rounds' CPU-per-request ratios of a to b (a reading that timed out is null: that round is left out). */
function cpuRatio(a: LoadResult[] = [], b: LoadResult[] = []): Ratio {
  return roundRatios(a.map((x) => x.cpuMicrosPerRequest), b.map((x) => x.cpuMicrosPerRequest));
}

function cpuMedian(rounds: LoadResult[]): number | null {
  const read = rounds.map((r) => r.cpuMicrosPerRequest).filter((cpu): cpu is number => cpu !== null);
  return read.length > 0 ? median(read) : null;
}

/** What the load generator sends: GET /bench, or a POST of `bodyBytes` to /echo (the upstream sends it back). */
export interface Workload { bodyBytes: number }

async function measured(target: { child: ChildProcess; port: number }, seconds: number, workload: Workload = { bodyBytes: 0 }): Promise<LoadResult> {
  const before = await usage(target.child);
  const result = await load(target.port, seconds, workload);
  const after = before ? await usage(target.child) : null;
  const cpu = before && after && after.requests > before.requests ? (after.cpuMicros - before.cpuMicros) / (after.requests - before.requests) : null;
  return { ...result, cpuMicrosPerRequest: cpu };
}

/** A text body of `size` bytes in which body-rewrite's rule finds something to replace every 64 bytes. */
const postBody = (size: number) => Buffer.from("Hello from the client, a body for the upstream to echo back.  \n".repeat(Math.ceil(size / 64)).slice(0, size));

function load(port: number, seconds: number, workload: Workload = { bodyBytes: 0 }): Promise<Omit<LoadResult, "cpuMicrosPerRequest">> {
  const request = workload.bodyBytes
    ? { url: `http://127.0.0.1:${port}/echo`, method: "POST" as const, body: postBody(workload.bodyBytes), headers: { "content-type": "text/plain" } }
    : { url: `http://127.0.0.1:${port}/bench` };
  // A 1 MB body at 32 connections saturates the loopback: fewer connections keep rounds comparable.
  const connections = workload.bodyBytes >= 1 << 20 ? 8 : 32;
  return new Promise((resolve, reject) => {
    autocannon({ ...request, connections, duration: seconds }, (err, result) => {
      if (err) return reject(err);
      if (result.non2xx > 0 || result.errors > 0) return reject(new Error(`port ${port}: ${result.non2xx} non-2xx, ${result.errors} errors`));
      resolve({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 });
    });
  });
}

/** A process under load and what it is sent. */
interface Subject { server: string; workload: Workload }

const ADD_HEADER = ["build/add-header.wasm", "add_header", JSON.stringify({ request: { "x-added-by": "proxy-wasm-as" }, response: { "x-frame-options": "DENY" } })];
const BODY_REWRITE = ["build/body-rewrite.wasm", "body_rewrite", JSON.stringify({ rules: [{ find: "Hello", replace: "Goodbye" }], content_types: ["text/"] })];
export const POST_SIZES = [1024, 10 * 1024, 1024 * 1024];

/** Each subject's medians over the rounds, and ratios taken within rounds. */
export interface ProxyRun {
  medians: Record<string, LoadResult>;
  /** Host CPU per request of subject a over subject b, from the rounds' ratios (NaN if either was not run). */
  ratio(a: string, b: string): Ratio;
}

/**
 * Every subject, round after round: GET through the upstream alone, the minimal proxy (as it
 * is, and with pretenuring off as this host runs), this host with no filter, add-header and a
 * chain of four; POST of each size through the minimal proxy (both ways), no filter and
 * body-rewrite. One process's CPU per request moves by half from one few-second window to the
 * next on a shared machine, so rounds are short, their order reverses every other round, each
 * server runs as several processes that take the rounds in turn, and a ratio is the median of
 * the ratios within rounds (subjects compared are neighbours in a round, seconds apart), not a
 * ratio of medians.
 */
export async function measureProxy(rounds: number, seconds: number, only: string[] | null = null): Promise<ProxyRun> {
  const upstream = await startServer(["upstream"], 1);
  const servers: Record<string, { child: ChildProcess; port: number }[]> = { upstream: [upstream] };
  const subjects: Record<string, Subject> = {};
  try {
    const up = String(upstream.port);
    const starts: Record<string, { args: string[]; env?: Record<string, string> }> = {
      minimal: { args: ["minimal", up] },
      // The same with V8's allocation-site pretenuring off, as this host turns it (host/server/gc-tuning.ts):
      // how much of the host's lead over the minimal proxy is that one setting.
      minimalTuned: { args: ["minimal", up, "--no-pretenuring"] },
      noFilter: { args: ["host", up] },
      addHeader: { args: ["host", up, ...ADD_HEADER] },
      // The same with no deadline on calls into the module (the module runs uninstrumented).
      addHeaderNoDeadline: { args: ["host", up, "--deadline-ms", "0", ...ADD_HEADER] },
      // The same with --inspect: what tracing every request costs (off, it must cost nothing: the row above).
      addHeaderInspect: { args: ["host", up, ...ADD_HEADER], env: { BENCH_INSPECT: "1" } },
      chain4: { args: ["host", up, ...ADD_HEADER, ...ADD_HEADER, ...ADD_HEADER, ...ADD_HEADER] },
      bodyRewrite: { args: ["host", up, ...BODY_REWRITE] },
    };
    for (const server of ["upstream", "minimal", "minimalTuned", "noFilter", "addHeader", "addHeaderNoDeadline", "addHeaderInspect", "chain4"]) subjects[server] = { server, workload: { bodyBytes: 0 } };
    for (const size of POST_SIZES) {
      for (const server of ["minimal", "minimalTuned", "noFilter", "bodyRewrite"]) subjects[`${server}Post${size}`] = { server, workload: { bodyBytes: size } };
    }
    // `only`: just these subjects (an A/B of a few rows, in less time), and only their servers started.
    if (only) for (const name of Object.keys(subjects)) if (!only.includes(name)) delete subjects[name];
    for (const { server } of Object.values(subjects)) {
      servers[server] ??= await Promise.all(Array.from({ length: PROCESSES }, () => startServer(starts[server].args, 0, starts[server].env)));
    }
    const entries = Object.entries(subjects);
    const samples: Record<string, LoadResult[]> = Object.fromEntries(entries.map(([k]) => [k, []]));
    // Warm up: JIT and wasm tier-up settle before anything is measured (a fresh process's CPU per request falls for several seconds).
    for (const { server, workload } of Object.values(subjects)) for (const target of servers[server]) await load(target.port, WARM_UP_SECONDS, workload);
    for (let r = 0; r < rounds; r++) {
      for (const [name, { server, workload }] of r % 2 ? [...entries].reverse() : entries) {
        const targets = servers[server];
        samples[name].push(await measured(targets[r % targets.length], seconds, workload));
      }
    }
    const medians = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, {
      rps: median(v.map((x) => x.rps)), p50: median(v.map((x) => x.p50)), p99: median(v.map((x) => x.p99)),
      // A round whose CPU reading timed out (the target too busy to answer) counts for the rates only.
      cpuMicrosPerRequest: cpuMedian(v),
    }]));
    if (process.env.BENCH_DEBUG) for (const [k, v] of Object.entries(samples)) console.log(k, v.map((x) => x.cpuMicrosPerRequest?.toFixed(1)).join(" "));
    return { medians, ratio: (a, b) => cpuRatio(samples[a], samples[b]) };
  } finally {
    for (const { child } of Object.values(servers).flat()) child.kill();
  }
}
