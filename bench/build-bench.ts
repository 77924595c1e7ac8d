// The author's loop, timed: a filter project (the template filter and its test, in a scratch
// folder) built cold in a new process, rebuilt after an edit in a new process (`proxy-wasm-as
// test`, build + vitest: what `npm test` costs after saving a file) and in a long-lived one
// (`build --watch`). Then the release options: for add-header, what each costs to compile
// and what it buys in bytes and in time per stream in the harness.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compile } from "../toolchain/asc-runner.js";
import { Builder, ascArgs } from "../toolchain/build.ts";
import { projectModules } from "../toolchain/modules.ts";
import { noopModule } from "./wat-modules.ts";
import { CALLBACKS_PER_STREAM, loadSubjects, measureThroughput, median } from "./harness-bench.ts";
import { Harness } from "../host/testing/index.ts";

const root = join(import.meta.dirname, "..");
const cli = join(root, "bin/proxy-wasm-as.js");

export interface LoopFigures {
  /** A new process building both variants of one filter with nothing cached (ms). */
  cold: number;
  /** A new process after one source edit: rebuild + the filter's vitest suite (ms). */
  editTest: number;
  /** The same edit rebuilt by a long-lived builder (watch mode), both variants (ms). */
  warmRebuild: number;
  /** Under `proxy-wasm-as test --watch`: from saving the file to the suite's rerun finished (ms). */
  watchLoop: number;
}

function scratchProject(): string {
  const dir = join(root, "build/.scratch", `bench-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "assembly"), { recursive: true });
  mkdirSync(join(dir, "tests"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench-filter" }));
  copyFileSync(join(root, "assembly/index.ts"), join(dir, "assembly/index.ts"));
  // The template's test, importing the harness by path (a scratch folder is not a project with node_modules of its own).
  const test = readFileSync(join(root, "tests/filter.test.ts"), "utf8").replace('"proxy-wasm-as/testing"', JSON.stringify(join(root, "host/testing/index.ts")));
  writeFileSync(join(dir, "tests/filter.test.ts"), test);
  // The plugin that reruns a suite when a module it names is rebuilt, as init writes it.
  writeFileSync(join(dir, "vitest.config.ts"), `import { defineConfig } from "vitest/config";
import { proxyWasm } from ${JSON.stringify(join(root, "toolchain/vitest-plugin.js"))};
export default defineConfig({ plugins: [proxyWasm()] });
`);
  return dir;
}

let edits = 0;
/** A real change to the filter's source: its content hash changes, its behaviour does not. */
function edit(dir: string): void {
  const file = join(dir, "assembly/index.ts");
  writeFileSync(file, readFileSync(file, "utf8").replace(/\n\/\/ edit \d+\n$/, "\n") + `\n// edit ${++edits}\n`);
}

function timed(args: string[], cwd: string): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return performance.now() - start;
}

/** `proxy-wasm-as test --watch`, then `rounds` edits: each from the save to the rerun's end. */
async function watchLoop(dir: string, rounds: number): Promise<number[]> {
  const child = spawn(process.execPath, [cli, "test", "--watch", "tests/filter.test.ts"], { cwd: dir, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const waitFor = async (pattern: RegExp, from: number) => {
    const deadline = Date.now() + 120_000;
    while (!pattern.test(out.slice(from))) {
      if (Date.now() > deadline) throw new Error(`test --watch: no ${pattern} in:\n${out.slice(from)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  try {
    await waitFor(/Waiting for file changes/, 0);
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const mark = out.length;
      const start = performance.now();
      edit(dir);
      await waitFor(/Tests\s+\d+ passed[\s\S]*Waiting for file changes/, mark);
      times.push(performance.now() - start);
      await new Promise((r) => setTimeout(r, 300)); // the debug variant's write settles
    }
    return times;
  } finally {
    child.kill();
  }
}

export async function measureLoop(rounds: number): Promise<LoopFigures> {
  const dir = scratchProject();
  const cold: number[] = [], editTest: number[] = [], warm: number[] = [];
  const builder = new Builder(dir);
  try {
    for (let r = 0; r < rounds; r++) {
      cold.push(timed([cli, "build", "--force"], dir));
      edit(dir);
      editTest.push(timed([cli, "test", "tests/filter.test.ts"], dir));
      await builder.build({ print: null }); // warm the builder's workers (first round) / settle
      edit(dir);
      const start = performance.now();
      await builder.build({ print: null });
      warm.push(performance.now() - start);
    }
  } finally {
    builder.close();
  }
  const watch = await watchLoop(dir, rounds);
  rmSync(dir, { recursive: true, force: true });
  return { cold: median(cold), editTest: median(editTest), warmRebuild: median(warm), watchLoop: median(watch) };
}

export interface OptionFigures {
  label: string;
  args: string[];
  bytes: number;
  compileMs: number;
  microsPerStream: number;
}

/** Release option sets for add-header: compile time (warm compiler, median), bytes, µs per stream. */
export async function measureReleaseOptions(rounds: number): Promise<{ options: OptionFigures[]; noopMicros: number }> {
  const variants: [string, string[]][] = [
    ["-O2 -Os (chosen)", ["-O2", "--shrinkLevel", "1", "--noAssert"]],
    ["-O3 -Oz", ["-O3", "--shrinkLevel", "2", "--noAssert"]],
    ["-O3 -Oz --converge (the first release options)", ["-O3", "--shrinkLevel", "2", "--converge", "--noAssert"]],
    ["-O1 -Os", ["-O1", "--shrinkLevel", "1", "--noAssert"]],
  ];
  const module = projectModules(root).find((m) => m.name === "add-header")!;
  const dir = join(root, "build/.scratch");
  mkdirSync(dir, { recursive: true });
  const figures: OptionFigures[] = [];
  for (const [label, targetArgs] of variants) {
    const outFile = `build/.scratch/options-${figures.length}.wasm`;
    const args = ascArgs(root, { module, target: "release", outFile }, targetArgs);
    const times: number[] = [];
    let binary: Uint8Array | undefined;
    for (let r = 0; r < rounds + 1; r++) {
      const result = await compile({ args });
      if (!result.ok) throw new Error(`${label}: ${result.output}`);
      if (r > 0) times.push(result.stats.total ?? 0); // the first compile warms the compiler
      binary = result.outputs[join(root, outFile)] as Uint8Array;
    }
    writeFileSync(join(root, outFile), binary!);
    figures.push({ label, args: targetArgs, bytes: binary!.length, compileMs: median(times), microsPerStream: 0 });
  }
  // Per-stream cost of each variant, interleaved with the no-op floor in the same rounds.
  const { noop } = await loadSubjects(await noopModule(), join(root, "build/add-header.wasm"));
  const configuration = JSON.stringify({ request: { "x-added-by": "proxy-wasm-as" }, response: { "x-frame-options": "DENY" } });
  const subjects: Record<string, Harness> = { noop };
  for (let i = 0; i < figures.length; i++) {
    subjects[String(i)] = await Harness.load(join(root, `build/.scratch/options-${i}.wasm`), { rootId: "add_header", configuration, logLevel: "info" });
  }
  const rates = measureThroughput(subjects, 9, 3000);
  figures.forEach((f, i) => (f.microsPerStream = (1e6 * CALLBACKS_PER_STREAM) / rates[String(i)]));
  return { options: figures, noopMicros: (1e6 * CALLBACKS_PER_STREAM) / rates.noop };
}
