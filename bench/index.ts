// `npm run bench`: measures side by side in one run, prints the figures and writes them into
// the README's performance table. Needs `npm run asbuild` first (the bench runs it). `npm run bench -- proxy`
// runs the proxy section alone and only prints it; `npm run bench -- module` the module's cost
// (µs per stream against the WAT floor, sizes); `npm run bench -- build` the build section.
// BENCH_ONLY=noFilter,chain4 (with `proxy`): those rows only, each against the first;
// BENCH_DEBUG=1 prints every round's CPU per request; BENCH_PROCESSES sets processes per server.
import { execFileSync, spawnSync } from "node:child_process";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { availableParallelism } from "node:os";
import { gzipSync } from "node:zlib";
import { noopModule, watModule } from "./wat-modules.ts";
import { measureLoop, measureReleaseOptions } from "./build-bench.ts";
import { type Ratio, callbacksPerSecond, loadSubjects, measureAllocation, measureStreamMicros } from "./harness-bench.ts";
import { PINNED, POST_SIZES, type ProxyRun, measureProxy } from "./proxy-bench.ts";
import { measureTcp } from "./tcp-bench.ts";

const root = join(import.meta.dirname, "..");
const build = join(root, "build");

/** In a child process: bytes per callback for each subject, printed as JSON. */
async function allocationChild(): Promise<void> {
  const subjects = await loadSubjects(await noopModule(), join(build, "add-header.wasm"));
  const result = Object.fromEntries(Object.entries(subjects).map(([k, h]) => [k, measureAllocation(h, 2000)]));
  process.stdout.write(JSON.stringify(result));
}

function allocationInChild(): Record<string, number> {
  const out = execFileSync(process.execPath, [
    // A young generation fixed large enough that nothing is collected while measuring.
    "--expose-gc", "--min-semi-space-size=128", "--max-semi-space-size=128", "--import", "tsx", join(import.meta.dirname, "index.ts"), "--allocation",
  ], { encoding: "utf8" });
  return JSON.parse(out);
}

/** Each release module's name, bytes and gzip bytes (what a registry stores and Envoy pulls). */
async function moduleSizes(): Promise<[string, number, number][]> {
  const names = (await readdir(build)).filter((f) => f.endsWith(".wasm") && !f.endsWith(".debug.wasm")).sort();
  return Promise.all(names.map(async (n): Promise<[string, number, number]> => {
    const bytes = await readFile(join(build, n));
    return [n, bytes.length, gzipSync(bytes).length];
  }));
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
// Rounds and seconds per round: BENCH_ROUNDS=1 BENCH_SECONDS=1 npm run bench is a quick check that it runs, not a measurement.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
// The proxy's rounds are many and short: its ratios are taken within rounds (proxy-bench.ts).
const PROXY_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

const kb = (n: number) => (n >= 1 << 20 ? `${n >> 20} MB` : `${n >> 10} KB`);
const ms = (n: number) => `${n.toFixed(1)} ms`;
/** A ratio and, in brackets, the middle half of the rounds' ratios: how far one run's figure can be trusted. */
const spread = (r: Ratio) => `${r.median.toFixed(2)} (${r.low.toFixed(2)}–${r.high.toFixed(2)})`;
const cpu = (r: { cpuMicrosPerRequest: number | null }) => (r.cpuMicrosPerRequest === null ? "" : `${r.cpuMicrosPerRequest.toFixed(1)} µs`);

/** The proxy's two tables: rates and CPU per target, then the side-by-side ratios (the goals in brackets). */
function proxyTables({ medians: load, ratio: cpuRatio }: ProxyRun): string[] {
  const proxyRow = (label: string, r: Parameters<typeof cpu>[0] & { rps: number; p50: number; p99: number }) =>
    `| ${label} | ${fmt(r.rps)} | ${ms(r.p50)} | ${ms(r.p99)} | ${cpu(r)} |`;
  const ratio = (a: string, b: string) => spread(cpuRatio(a, b));
  return [
    `| proxy, GET with a 24-byte response | requests/s (median of ${PROXY_ROUNDS}) | p50 | p99 | host CPU per request |`,
    "|---|---:|---:|---:|---:|",
    proxyRow("upstream alone", load.upstream),
    proxyRow("minimal Node pass-through proxy", load.minimal),
    proxyRow("minimal Node pass-through proxy, pretenuring off (as this host runs)", load.minimalTuned),
    proxyRow("this host, no filter", load.noFilter),
    proxyRow("this host, add-header", load.addHeader),
    proxyRow("this host, add-header, no deadlines", load.addHeaderNoDeadline),
    proxyRow("this host, add-header, inspector on (`--inspect`)", load.addHeaderInspect),
    proxyRow("this host, four add-header filters", load.chain4),
    "",
    `| host CPU per request, side by side (medians of ${PROXY_ROUNDS} rounds of ${SECONDS} s; ratios: the median of the rounds' ratios, their middle half in brackets) | minimal proxy | minimal, pretenuring off | this host, no filter | with the filter | no filter / minimal (target ≤ 1.15 for POST) | no filter / minimal, pretenuring off | filter / no filter |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    `| GET, add-header | ${cpu(load.minimal)} | ${cpu(load.minimalTuned)} | ${cpu(load.noFilter)} | ${cpu(load.addHeader)} | ${ratio("noFilter", "minimal")} | ${ratio("noFilter", "minimalTuned")} | ${ratio("addHeader", "noFilter")} |`,
    `| GET, add-header with deadlines / without (target ≤ 1.05) | | | ${cpu(load.addHeaderNoDeadline)} | ${cpu(load.addHeader)} | | | ${ratio("addHeader", "addHeaderNoDeadline")} |`,
    `| GET, add-header with the inspector on / off | | | ${cpu(load.addHeader)} | ${cpu(load.addHeaderInspect)} | | | ${ratio("addHeaderInspect", "addHeader")} |`,
    `| GET, four add-header filters (target ≤ 1.2) | | | | ${cpu(load.chain4)} | | | ${ratio("chain4", "noFilter")} |`,
    ...POST_SIZES.map((size) => {
      const [m, t, n, b] = [`minimalPost${size}`, `minimalTunedPost${size}`, `noFilterPost${size}`, `bodyRewritePost${size}`];
      const target = size === 10 * 1024 ? " (target ≤ 1.5)" : size === 1 << 20 ? " (target ≤ 2)" : "";
      return `| POST ${kb(size)} echoed, body-rewrite${target} | ${cpu(load[m])} | ${cpu(load[t])} | ${cpu(load[n])} | ${cpu(load[b])} | ${ratio(n, m)} | ${ratio(n, t)} | ${ratio(b, n)} |`;
    }),
  ];
}

/** `npm run bench -- proxy`: the proxy section alone, printed (the README's table is left as it is). */
const PROXY_ONLY = process.argv.includes("proxy");
/** `npm run bench -- module`: the harness's µs per stream against the WAT floor and the module sizes, printed. */
const MODULE_ONLY = process.argv.includes("module");

/** What a module costs in Envoy: µs per stream against the WAT floor, and bytes. */
function moduleRows(streams: StreamMicros, sizes: [string, number, number][]): string[] {
  return [
    `| harness, µs per stream (request + response headers, create to delete; median of ${STREAM_ROUNDS} rounds of ${fmt(STREAMS_PER_ROUND)}) | µs |`,
    "|---|---:|",
    `| no-op module (the host's floor) | ${streams.us.noop.toFixed(2)} |`,
    `| hand-written WAT doing add-header's host calls (the module floor) | ${streams.us.wat.toFixed(2)} |`,
    `| add-header example | ${streams.us.addHeader.toFixed(2)} |`,
    `| add-header / WAT floor (median of the rounds' ratios; target ≤ 1.3) | ${streams.ratio.toFixed(2)} |`,
    `| add-header above the host's floor, as a multiple of the WAT floor's (median of the rounds' multiples; the stricter measure) | ${streams.multiple.toFixed(2)} |`,
    "",
    "| module (release build; target: add-header ≤ 16 KB, every example ≤ 24 KB) | bytes | gzip |",
    "|---|---:|---:|",
    ...sizes.map(([n, s, z]) => `| ${n} | ${fmt(s)} | ${fmt(z)} |`),
  ];
}

const STREAM_ROUNDS = 151;
const STREAMS_PER_ROUND = 2_000;
type StreamMicros = ReturnType<typeof measureStreamMicros>;

/** The harness: µs per stream (and so callbacks/s) for the no-op module, the WAT floor and add-header. */
async function measureModules(): Promise<StreamMicros> {
  const subjects = await loadSubjects(await noopModule(), join(build, "add-header.wasm"), await watModule("add-header"));
  console.log(`harness: request + response headers callbacks, 20 request headers, ${STREAM_ROUNDS} rounds of ${STREAMS_PER_ROUND} streams interleaved…`);
  return measureStreamMicros(subjects, STREAM_ROUNDS, STREAMS_PER_ROUND);
}

async function main(): Promise<void> {
  execFileSync("npm", ["run", "--silent", "asbuild"], { cwd: root, stdio: "inherit" });
  if (PROXY_ONLY) return proxySection();
  if (MODULE_ONLY) {
    console.log(`\n${moduleRows(await measureModules(), await moduleSizes()).join("\n")}\n`);
    return;
  }
  const streams = await measureModules();
  const rate = (name: string) => callbacksPerSecond(streams.us[name]);
  const bytes = allocationInChild();
  const sizes = await moduleSizes();
  console.log(`proxy: autocannon, GET and POST 1 KB / 10 KB / 1 MB, ${PROXY_ROUNDS} rounds of ${SECONDS} s per target, interleaved…`);
  const load = await measureProxy(PROXY_ROUNDS, SECONDS);
  console.log(`TCP proxy: 8 connections each echoing 16 MB, ${ROUNDS} rounds per target, interleaved…`);
  const tcp = await measureTcp(ROUNDS);
  const tcpRow = (label: string, r: (typeof tcp)[string]) =>
    `| ${label} | ${fmt(r.mbPerSecond)} | ${r.cpuMicrosPerMB === null ? "" : `${fmt(r.cpuMicrosPerMB)} µs`} |`;
  const rows = [
    ...proxyTables(load),
    "",
    `| TCP proxy, 8 connections each echoing 16 MB | MB/s echoed (median of ${ROUNDS}) | host CPU per MB received |`,
    "|---|---:|---:|",
    tcpRow("TCP echo upstream alone", tcp.echo),
    tcpRow("minimal Node pass-through (pipes)", tcp.minimal),
    tcpRow("this host, no filter", tcp.noFilter),
    tcpRow("this host, tcp-metrics", tcp.tcpMetrics),
    `| ratio host (no filter) / minimal pass-through | ${(tcp.noFilter.mbPerSecond / tcp.minimal.mbPerSecond).toFixed(2)} | |`,
    `| ratio tcp-metrics / no filter | ${(tcp.tcpMetrics.mbPerSecond / tcp.noFilter.mbPerSecond).toFixed(2)} | ${(tcp.noFilter.cpuMicrosPerMB! / tcp.tcpMetrics.cpuMicrosPerMB!).toFixed(2)} |`,
    "",
    `| harness, 20 request headers | callbacks/s (median of ${STREAM_ROUNDS} rounds) | JS heap bytes allocated per callback (host and harness) |`,
    "|---|---:|---:|",
    `| no-op module (host floor) | ${fmt(rate("noop"))} | ${fmt(bytes.noop)} |`,
    `| add-header example | ${fmt(rate("addHeader"))} | ${fmt(bytes.addHeader)} |`,
    `| ratio add-header / no-op | ${(rate("addHeader") / rate("noop")).toFixed(2)} | |`,
    "",
    ...moduleRows(streams, sizes),
  ];
  const pinning = PINNED ? "proxy under test pinned to core 0, upstream and load generator to core 1" : "processes not pinned (no taskset or one core)";
  const table = `Measured ${new Date().toISOString().slice(0, 10)} on ${process.platform}/${process.arch}, Node ${process.version}, ${pinning}; a shared machine, so read the ratios more than the rates.\n\n${rows.join("\n")}`;
  console.log(`\n${table}\n`);

  await writeReadmeBlock("bench", table);
}

async function proxySection(): Promise<void> {
  console.log(`proxy: autocannon, GET and POST 1 KB / 10 KB / 1 MB, ${PROXY_ROUNDS} rounds of ${SECONDS} s per target, interleaved…`);
  // BENCH_ONLY=noFilter,chain4: only those rows (the side-by-side tables need them all), each against the first.
  const only = process.env.BENCH_ONLY?.split(",") ?? null;
  const run = await measureProxy(PROXY_ROUNDS, SECONDS, only);
  const rows = Object.entries(run.medians).map(([name, r]) =>
    `| ${name} | ${fmt(r.rps)} | ${ms(r.p50)} | ${ms(r.p99)} | ${cpu(r)} | ${only ? spread(run.ratio(name, only[0])) : ""} |`);
  const tables = only ? [] : proxyTables(run);
  const against = only ? `CPU / ${only[0]}'s (median of the rounds' ratios)` : "";
  console.log(["", `| target | requests/s (median of ${PROXY_ROUNDS}) | p50 | p99 | host CPU per request | ${against} |`, "|---|---:|---:|---:|---:|---:|", ...rows, "", ...tables, ""].join("\n"));
}

/** Replaces the README's block between `<!-- NAME:start -->` and `<!-- NAME:end -->`. */
async function writeReadmeBlock(name: string, table: string): Promise<void> {
  const readmePath = join(root, "README.md");
  const readme = await readFile(readmePath, "utf8");
  const block = new RegExp(`<!-- ${name}:start -->[\\s\\S]*<!-- ${name}:end -->`);
  const updated = readme.replace(block, `<!-- ${name}:start -->\n${table}\n<!-- ${name}:end -->`);
  if (updated !== readme) await writeFile(readmePath, updated);
  console.log(`README.md ${name} table updated.`);
}

/** The author's loop and the release options (`npm run bench -- build` runs this part alone). */
async function buildSection(): Promise<void> {
  console.log(`build: a filter project built cold, edited and tested, rebuilt warm (${ROUNDS} rounds); release options for add-header…`);
  const loop = await measureLoop(ROUNDS);
  const { options, noopMicros } = await measureReleaseOptions(3);
  const s = (n: number) => `${(n / 1000).toFixed(2)} s`;
  const rows = [
    `| the author's loop (template filter, release + debug) | median of ${ROUNDS} |`,
    "|---|---:|",
    `| cold: \`proxy-wasm-as build --force\` in a new process | ${s(loop.cold)} |`,
    `| edit one file, then \`proxy-wasm-as test tests/filter.test.ts\` in a new process (cold compiler + vitest) | ${s(loop.editTest)} |`,
    `| edit one file, rebuilt by \`build --watch\` (compiler kept loaded) | ${s(loop.warmRebuild)} |`,
    `| edit one file under \`proxy-wasm-as test --watch\`: from the save to the suite's rerun done (target < 5 s) | ${s(loop.watchLoop)} |`,
    "",
    `| add-header release options | bytes | compile (warm, median of 3) | µs per stream in the harness (no-op floor ${noopMicros.toFixed(2)}) |`,
    "|---|---:|---:|---:|",
    ...options.map((o) => `| \`${o.args.join(" ")}\` ${o.label.includes("(") ? o.label.slice(o.label.indexOf("(")) : ""} | ${fmt(o.bytes)} | ${s(o.compileMs)} | ${o.microsPerStream.toFixed(2)} |`),
  ];
  const table = `Measured ${new Date().toISOString().slice(0, 10)} on ${process.platform}/${process.arch}, Node ${process.version}, ${availableParallelism()} cores; a shared machine.\n\n${rows.join("\n")}`;
  console.log(`\n${table}\n`);
  await writeReadmeBlock("build", table);
}

if (process.argv.includes("--allocation")) await allocationChild();
else if (process.env.BENCH_PINNED) await main();
else {
  if (process.argv.includes("build")) {
    execFileSync(process.execPath, ["--import", "tsx", join(root, "toolchain/cli.ts"), "build", "add-header"], { cwd: root, stdio: "inherit" });
  } else if (PINNED) {
    // Run the load generator (this process) on core 1, next to the upstream.
    const result = spawnSync("taskset", ["-c", "1", process.execPath, "--import", "tsx", join(import.meta.dirname, "index.ts"), ...process.argv.slice(2)],
      { stdio: "inherit", env: { ...process.env, BENCH_PINNED: "1" } });
    if (result.status !== 0) process.exit(result.status ?? 1);
  } else await main();
  // Unpinned: builds use every core.
  if (!PROXY_ONLY && !MODULE_ONLY) await buildSection();
}
