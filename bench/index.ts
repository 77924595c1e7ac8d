// `npm run bench`: measures side by side in one run, prints the figures and writes them into
// the README's performance table. Needs `npm run asbuild` first (the bench runs it).
import { execFileSync, spawnSync } from "node:child_process";
import { readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import wabtInit from "wabt";
import { loadSubjects, measureAllocation, measureThroughput } from "./harness-bench.ts";
import { PINNED, measureProxy } from "./proxy-bench.ts";
import { measureTcp } from "./tcp-bench.ts";

const root = join(import.meta.dirname, "..");
const build = join(root, "build");

async function noopModule(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const text = await readFile(join(import.meta.dirname, "noop.wat"), "utf8");
  return wabt.parseWat("noop.wat", text).toBinary({}).buffer;
}

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

async function moduleSizes(): Promise<[string, number][]> {
  const names = (await readdir(build)).filter((f) => f.endsWith(".wasm") && !f.endsWith(".debug.wasm")).sort();
  return Promise.all(names.map(async (n): Promise<[string, number]> => [n, (await stat(join(build, n))).size]));
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function main(): Promise<void> {
  execFileSync("npm", ["run", "--silent", "asbuild"], { cwd: root, stdio: "inherit" });
  const subjects = await loadSubjects(await noopModule(), join(build, "add-header.wasm"));
  console.log("harness: request + response headers callbacks, 20 request headers, 9 rounds interleaved…");
  const rate = measureThroughput(subjects, 9, 3000);
  const bytes = allocationInChild();
  const sizes = await moduleSizes();
  console.log("proxy: autocannon, 32 connections, 5 rounds of 5 s per target, interleaved…");
  const load = await measureProxy(5, 5);
  console.log("TCP proxy: 8 connections each echoing 16 MB, 5 rounds per target, interleaved…");
  const tcp = await measureTcp(5);
  const tcpRow = (label: string, r: (typeof tcp)[string]) =>
    `| ${label} | ${fmt(r.mbPerSecond)} | ${r.cpuMicrosPerMB === null ? "" : `${fmt(r.cpuMicrosPerMB)} µs`} |`;
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const cpu = (r: { cpuMicrosPerRequest: number | null }) => (r.cpuMicrosPerRequest === null ? "" : `${r.cpuMicrosPerRequest.toFixed(1)} µs`);
  const proxyRow = (label: string, r: Parameters<typeof cpu>[0] & { rps: number; p50: number; p99: number }) =>
    `| ${label} | ${fmt(r.rps)} | ${ms(r.p50)} | ${ms(r.p99)} | ${cpu(r)} |`;

  const rows = [
    "| proxy, GET with a 24-byte response | requests/s (median of 5) | p50 | p99 | host CPU per request |",
    "|---|---:|---:|---:|---:|",
    proxyRow("upstream alone", load.upstream),
    proxyRow("minimal Node pass-through proxy", load.minimal),
    proxyRow("this host, no filter", load.noFilter),
    proxyRow("this host, add-header", load.addHeader),
    proxyRow("this host, add-header, no deadlines", load.addHeaderNoDeadline),
    `| ratio host (no filter) / minimal proxy (target ≥ 0.85) | ${(load.noFilter.rps / load.minimal.rps).toFixed(2)} | | | |`,
    `| ratio add-header / no filter (target ≥ 0.90) | ${(load.addHeader.rps / load.noFilter.rps).toFixed(2)} | | | ${(load.noFilter.cpuMicrosPerRequest! / load.addHeader.cpuMicrosPerRequest!).toFixed(2)} |`,
    `| ratio add-header with deadlines / without: CPU per request (target ≤ 1.05) | ${(load.addHeader.rps / load.addHeaderNoDeadline.rps).toFixed(2)} | | | ${(load.addHeader.cpuMicrosPerRequest! / load.addHeaderNoDeadline.cpuMicrosPerRequest!).toFixed(2)} |`,
    "",
    "| TCP proxy, 8 connections each echoing 16 MB | MB/s echoed (median of 5) | host CPU per MB received |",
    "|---|---:|---:|",
    tcpRow("TCP echo upstream alone", tcp.echo),
    tcpRow("minimal Node pass-through (pipes)", tcp.minimal),
    tcpRow("this host, no filter", tcp.noFilter),
    tcpRow("this host, tcp-metrics", tcp.tcpMetrics),
    `| ratio host (no filter) / minimal pass-through | ${(tcp.noFilter.mbPerSecond / tcp.minimal.mbPerSecond).toFixed(2)} | |`,
    `| ratio tcp-metrics / no filter | ${(tcp.tcpMetrics.mbPerSecond / tcp.noFilter.mbPerSecond).toFixed(2)} | ${(tcp.noFilter.cpuMicrosPerMB! / tcp.tcpMetrics.cpuMicrosPerMB!).toFixed(2)} |`,
    "",
    "| harness, 20 request headers | callbacks/s (median of 9) | JS heap bytes allocated per callback (host and harness) |",
    "|---|---:|---:|",
    `| no-op module (host floor) | ${fmt(rate.noop)} | ${fmt(bytes.noop)} |`,
    `| add-header example | ${fmt(rate.addHeader)} | ${fmt(bytes.addHeader)} |`,
    `| ratio add-header / no-op | ${(rate.addHeader / rate.noop).toFixed(2)} | |`,
    "",
    "| module (release build) | bytes |",
    "|---|---:|",
    ...sizes.map(([n, s]) => `| ${n} | ${fmt(s)} |`),
  ];
  const pinning = PINNED ? "proxy under test pinned to core 0, upstream and load generator to core 1" : "processes not pinned (no taskset or one core)";
  const table = `Measured ${new Date().toISOString().slice(0, 10)} on ${process.platform}/${process.arch}, Node ${process.version}, ${pinning}; a shared machine, so read the ratios more than the rates.\n\n${rows.join("\n")}`;
  console.log(`\n${table}\n`);

  const readmePath = join(root, "README.md");
  const readme = await readFile(readmePath, "utf8");
  const updated = readme.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, `<!-- bench:start -->\n${table}\n<!-- bench:end -->`);
  if (updated !== readme) await writeFile(readmePath, updated);
  console.log("README.md performance table updated.");
}

if (process.argv.includes("--allocation")) await allocationChild();
else if (PINNED && !process.env.BENCH_PINNED) {
  // Run the load generator (this process) on core 1, next to the upstream.
  const result = spawnSync("taskset", ["-c", "1", process.execPath, "--import", "tsx", join(import.meta.dirname, "index.ts")],
    { stdio: "inherit", env: { ...process.env, BENCH_PINNED: "1" } });
  process.exit(result.status ?? 1);
} else await main();
