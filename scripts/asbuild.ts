// `npm run asbuild`: compiles the template filter (assembly/index.ts → build/filter.wasm, plus
// a debug build with a source map) and every example (examples/<name>/assembly/index.ts →
// build/<name>.wasm) and the test filters (tests/filters/<name>/index.ts → build/test-<name>.wasm),
// then checks each module is fit for Envoy. The SDK's transform
// (sdk/transform.js) adds the ABI exports (sdk/abi/exports.ts) to each build, so a filter's
// own file needs no export line. Compiles run in parallel, one per core.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { checkModule } from "./check-module.ts";

// The compiler and json-as versions the SDK is tested with (sdk/transform.js also works
// around a json-as 1.6 behaviour); anything else fails the build before it starts.
const TESTED: Record<string, { range: RegExp; named: string }> = {
  assemblyscript: { range: /^0\.28\./, named: "0.28.x" },
  "json-as": { range: /^1\.6\./, named: "1.6.x" },
};
const root = join(import.meta.dirname, "..");
const build = join(root, "build");
// asc 0.28 cannot load a transform given by relative path in asconfig.json (it looks the
// path up as a package name), so the SDK's goes on the command line, next to json-as's from asconfig.json.
const sdkTransform = "./sdk/transform.js";

interface Job { entry: string; outFile: string; target: "release" | "debug" }

function installedVersion(name: string): string {
  const require = createRequire(import.meta.url);
  return require(`${name}/package.json`).version;
}

function jobs(only: string[]): Job[] {
  const list: Job[] = [
    { entry: "assembly/index.ts", outFile: "build/filter.wasm", target: "release" },
    { entry: "assembly/index.ts", outFile: "build/filter.debug.wasm", target: "debug" },
  ];
  for (const name of readdirSync(join(root, "examples")).sort()) {
    const entry = `examples/${name}/assembly/index.ts`;
    if (existsSync(join(root, entry))) list.push({ entry, outFile: `build/${name}.wasm`, target: "release" });
  }
  // Filters the test suites use to drive SDK helpers through the real host.
  const testFilters = join(root, "tests/filters");
  for (const name of existsSync(testFilters) ? readdirSync(testFilters).sort() : []) {
    const entry = `tests/filters/${name}/index.ts`;
    if (existsSync(join(root, entry))) list.push({ entry, outFile: `build/test-${name}.wasm`, target: "release" });
  }
  return only.length ? list.filter((j) => only.some((o) => j.outFile.includes(o))) : list;
}

function compile(job: Job): Promise<{ job: Job; ok: boolean; output: string }> {
  const asc = join(root, "node_modules/assemblyscript/bin/asc.js");
  const args = [asc, job.entry, "--target", job.target, "--transform", sdkTransform, "--outFile", job.outFile];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d));
    child.stderr.on("data", (d: Buffer) => (output += d));
    child.on("close", (code) => resolve({ job, ok: code === 0, output }));
  });
}

async function runAll(list: Job[]): Promise<{ job: Job; ok: boolean; output: string }[]> {
  const results: { job: Job; ok: boolean; output: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < list.length) results.push(await compile(list[next++]));
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), list.length) }, worker));
  return results;
}

for (const [name, { range, named }] of Object.entries(TESTED)) {
  const version = installedVersion(name);
  if (!range.test(version)) {
    console.error(`asbuild: ${name} ${version} is installed, but the SDK is tested with ${named}; run npm install (package.json pins it)`);
    process.exit(1);
  }
}
mkdirSync(build, { recursive: true });
const started = Date.now();
const results = await runAll(jobs(process.argv.slice(2)));
let failed = 0;
for (const { job, ok, output } of results) {
  // The optimizer's "Last converge was suboptimal" is advice, not a problem.
  const shown = output.split("\n").filter((l) => l.trim() && !l.includes("Last converge was suboptimal")).join("\n");
  if (!ok) {
    failed++;
    console.error(`✗ ${job.entry} (${job.target}) did not compile:\n${shown}`);
    continue;
  }
  if (shown) console.log(shown);
  const problems = await checkModule(join(root, job.outFile));
  if (problems.length) {
    failed++;
    for (const p of problems) console.error(`✗ ${relative(root, p)}`);
  } else console.log(`✓ ${job.outFile}`);
}
console.log(`asbuild: ${results.length - failed} of ${results.length} modules built and checked in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
