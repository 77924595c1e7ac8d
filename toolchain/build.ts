// `proxy-wasm-as build`: compiles a project's filters into Proxy-Wasm modules, each in two
// variants — build/<name>.wasm (release: what Envoy loads) and build/<name>.debug.wasm with
// its source map — and rebuilds only what changed.
//
// A compile records every file the compiler read; the build keeps their content hashes with
// a key made of the compiler's and json-as's versions, the SDK transform and the options
// (build/.cache/). A module whose key and inputs still match is not compiled again. Compiles
// run in worker threads (one per core) that keep the compiler loaded; a single compile runs
// in this thread. A module is written only when it compiled and passed the Envoy check, by
// rename, so a process watching build/ never reads half a file.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { CompileResult } from "./asc-runner.js";
import { checkModule } from "./check-module.ts";
import { type ModuleMap, functionNames, moduleDigest, withoutDebugSections } from "../host/vm/symbols.ts";
import { type ModuleSpec, projectModules, selectModules } from "./modules.ts";

export type Target = "release" | "debug";

/** The compiler and json-as versions the SDK is tested with; anything else refuses to build. */
const TESTED: Record<string, RegExp> = { assemblyscript: /^0\.28\./, "json-as": /^1\.6\./ };
const PACKAGE_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const SDK_TRANSFORM = join(PACKAGE_ROOT, "sdk/transform.js");

// Release: -O2 with shrink level 1. Measured on add-header in two runs (docs/performance.md):
// against -O3 -Oz it compiles in about 55 % of the time and runs a stream 11-13 % faster in
// the harness, for 3 % more bytes; `converge` cost a third of the compile time for 0.4 % of
// the bytes. It is
// compiled with debug info and a source map, which change no byte of code: the written
// module leaves the name and sourceMappingURL sections out, and <name>.wasm.map beside it
// keeps the map and the function names, so a trap names the author's source line.
export const TARGET_ARGS: Record<Target, string[]> = {
  release: ["-O2", "--shrinkLevel", "1", "--noAssert", "--debug", "--sourceMap"],
  debug: ["--debug", "--sourceMap"],
};

export type CompileStats = Required<CompileResult["stats"]>;

export interface BuildJob {
  module: ModuleSpec;
  target: Target;
  /** The module file, relative to the project root. */
  outFile: string;
}

export interface JobOutcome extends BuildJob {
  status: "built" | "unchanged" | "failed";
  /** The compiler's messages and the Envoy check's problems, for a failed job. */
  errors: string;
  bytes: number;
  ms: number;
  stats: Partial<CompileStats>;
  /** Absolute paths of the files the compile read (the cache's inputs). */
  inputs: string[];
}

export interface BuildOptions {
  /** The project folder (package.json, build/); default the current directory. */
  root?: string;
  /** Module names, entry files, folders or build/*.wasm paths; default every module. */
  only?: string[];
  targets?: Target[];
  /** Compile even what is up to date. */
  force?: boolean;
  /** Where progress lines go (default stdout); null for none. */
  print?: ((line: string) => void) | null;
  /** Also print each module's compile time by phase. */
  verbose?: boolean;
}

export interface BuildResult {
  ok: boolean;
  jobs: JobOutcome[];
  ms: number;
}

export class BuildError extends Error {
  override name = "BuildError";
}

export function outFileOf(module: ModuleSpec, target: Target): string {
  return `build/${module.name}${target === "debug" ? ".debug" : ""}.wasm`;
}

function installedVersion(name: string): string {
  return require(`${name}/package.json`).version;
}

/** Refuses a compiler or json-as outside the tested range, naming what to do. */
export function checkToolchain(): void {
  for (const [name, range] of Object.entries(TESTED)) {
    const version = installedVersion(name);
    if (!range.test(version)) {
      throw new BuildError(`${name} ${version} is installed, but proxy-wasm-as is tested with ${range.source.replace(/[\^\\]/g, "").replace(/\.$/, ".x")}; reinstall (proxy-wasm-as pins it)`);
    }
  }
}

const sha1 = (data: string | Uint8Array) => createHash("sha1").update(data).digest("hex");

/** asc's command line for one job; options are all here, never in a stray asconfig.json. */
export function ascArgs(root: string, job: BuildJob, targetArgs = TARGET_ARGS[job.target]): string[] {
  return [
    job.module.entry, "--baseDir", root, "--config", "proxy-wasm-as.no-asconfig.json",
    "--runtime", "minimal", "--exportStart", "_initialize",
    "--use", "abort=~lib/proxy-wasm-as/sdk/log/abortFilter", "--use", "JSON_CACHE_SIZE=128",
    "--transform", require.resolve("json-as"), "--transform", SDK_TRANSFORM,
    ...targetArgs, "--outFile", job.outFile,
  ];
}

/** What every job's cached result depends on besides its options and input files: read once per build. */
function toolchainKey(): string {
  return sha1(JSON.stringify({
    asc: installedVersion("assemblyscript"), jsonAs: installedVersion("json-as"),
    transform: readFileSync(SDK_TRANSFORM, "utf8"), runner: readFileSync(join(PACKAGE_ROOT, "toolchain/asc-runner.js"), "utf8"),
  }));
}

const cacheKey = (toolchain: string, args: string[]) => sha1(JSON.stringify({ toolchain, args }));

interface CacheEntry {
  key: string;
  inputs: [path: string, hash: string][];
}

/** Content hashes of files, each read once per build (modules share the SDK's files). */
class FileHashes {
  private readonly known = new Map<string, string | null>();
  get(path: string): string | null {
    let hash = this.known.get(path);
    if (hash === undefined) {
      try {
        hash = sha1(readFileSync(path));
      } catch {
        hash = null;
      }
      this.known.set(path, hash);
    }
    return hash;
  }
}

function cacheFile(root: string, job: BuildJob): string {
  return join(root, "build/.cache", `${job.module.name}.${job.target}.json`);
}

function isUpToDate(root: string, job: BuildJob, key: string, hashes: FileHashes): CacheEntry | null {
  const file = cacheFile(root, job);
  if (!existsSync(file) || !existsSync(join(root, job.outFile))) return null;
  if (!existsSync(join(root, `${job.outFile}.map`))) return null;
  try {
    const entry = JSON.parse(readFileSync(file, "utf8")) as CacheEntry;
    if (entry.key !== key) return null;
    return entry.inputs.every(([path, hash]) => hashes.get(path) === hash) ? entry : null;
  } catch {
    return null;
  }
}

/** Writes by rename, so a reader sees the old file or the new one, never half of one. */
function writeAtomically(path: string, contents: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, contents);
  renameSync(temp, path);
}

/** Compiles jobs on a pool of worker threads (or this thread, for one job). */
class Compilers {
  private workers: Worker[] = [];

  async runAll(jobs: { args: string[] }[], onDone: (index: number, result: CompileResult) => void): Promise<void> {
    if (jobs.length === 1) {
      const { compile } = await import("./asc-runner.js");
      onDone(0, await compile(jobs[0]));
      return;
    }
    const size = Math.min(availableParallelism(), jobs.length);
    while (this.workers.length < size) this.workers.push(new Worker(new URL("./compile-worker.js", import.meta.url)));
    let next = 0;
    await Promise.all(this.workers.slice(0, size).map(async (worker) => {
      while (next < jobs.length) {
        const index = next++;
        onDone(index, await new Promise<CompileResult>((resolve, reject) => {
          worker.once("message", resolve);
          worker.once("error", reject);
          worker.postMessage(jobs[index]);
        }));
      }
    }));
  }

  close(): void {
    for (const w of this.workers) void w.terminate();
    this.workers = [];
  }
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const PHASES: (keyof CompileStats)[] = ["parse", "compile", "optimize", "emit", "transform"];

function phases(stats: Partial<CompileStats>[]): string {
  const sums = PHASES.map((p) => [p, stats.reduce((n, s) => n + (s[p] ?? 0), 0)] as const);
  const total = sums.reduce((n, [, v]) => n + v, 0);
  if (!total) return "";
  return sums.filter(([, v]) => v / total >= 0.01).sort((a, b) => b[1] - a[1])
    .map(([p, v]) => `${p} ${Math.round((100 * v) / total)}%`).join(", ");
}

/**
 * A builder for one project: it keeps its worker threads between builds, which is what
 * watch mode wants; `close()` ends them.
 */
export class Builder {
  readonly root: string;
  private readonly compilers = new Compilers();

  constructor(root = process.cwd()) {
    this.root = root;
  }

  /** The jobs for `only` (every module when empty), each target. */
  jobs(only: string[] = [], targets: Target[] = ["release", "debug"]): BuildJob[] {
    const modules = selectModules(this.root, projectModules(this.root), only);
    return modules.flatMap((module) => targets.map((target) => ({ module, target, outFile: outFileOf(module, target) })));
  }

  async build(options: Omit<BuildOptions, "root"> = {}): Promise<BuildResult> {
    const started = performance.now();
    const print = options.print === undefined ? (line: string) => process.stdout.write(`${line}\n`) : options.print;
    checkToolchain();
    const jobs = this.jobs(options.only, options.targets);
    const hashes = new FileHashes();
    const toolchain = toolchainKey();
    const outcomes: JobOutcome[] = [];
    const pending: { job: BuildJob; args: string[]; key: string }[] = [];
    for (const job of jobs) {
      const args = ascArgs(this.root, job);
      const key = cacheKey(toolchain, args);
      const cached = options.force ? null : isUpToDate(this.root, job, key, hashes);
      if (cached) outcomes.push({ ...job, status: "unchanged", errors: "", bytes: 0, ms: 0, stats: {}, inputs: cached.inputs.map(([p]) => p) });
      else pending.push({ job, args, key });
    }
    // Release variants first: they are what tests and the proxy load.
    pending.sort((a, b) => (a.job.target === b.job.target ? 0 : a.job.target === "release" ? -1 : 1));
    if (pending.length) {
      print?.(`building ${pending.length} module${pending.length > 1 ? "s" : ""} (${outcomes.length} unchanged)…`);
    }
    const width = Math.max(0, ...pending.map((p) => p.job.outFile.length));
    await this.compilers.runAll(pending.map((p) => ({ args: p.args })), (index, result) => {
      const { job, key } = pending[index];
      const outcome = this.finish(job, key, result);
      outcomes.push(outcome);
      if (outcome.status === "failed") {
        print?.(`✗ ${job.outFile}\n${outcome.errors.trimEnd().replace(/^/gm, "    ")}`);
        return;
      }
      const detail = options.verbose ? `  (${phases([outcome.stats])})` : "";
      print?.(`✓ ${job.outFile.padEnd(width)}  ${kb(outcome.bytes).padStart(8)}  ${secs(outcome.stats.total ?? 0)}${detail}`);
    });
    const ms = performance.now() - started;
    const built = outcomes.filter((o) => o.status === "built");
    const failed = outcomes.filter((o) => o.status === "failed").length;
    const where = built.length ? `; compiler time: ${phases(built.map((o) => o.stats))}` : "";
    print?.(`build: ${built.length} built, ${outcomes.length - built.length - failed} unchanged${failed ? `, ${failed} FAILED` : ""} in ${secs(ms)}${where}`);
    const order = new Map(jobs.map((j, i) => [j.outFile, i]));
    outcomes.sort((a, b) => order.get(a.outFile)! - order.get(b.outFile)!);
    return { ok: failed === 0, jobs: outcomes, ms };
  }

  /** Checks and writes one compile's outputs, and records its inputs for the next build. */
  private finish(job: BuildJob, key: string, result: CompileResult): JobOutcome {
    const base = { ...job, bytes: 0, ms: result.stats.total ?? 0, stats: result.stats, inputs: result.inputs };
    // The optimizer's "Last converge was suboptimal" is advice, not a problem.
    const messages = result.output.split("\n").filter((l) => l.trim() && !l.includes("Last converge was suboptimal")).join("\n");
    if (!result.ok) return { ...base, status: "failed", errors: messages || "the compiler failed without a message" };
    const outPath = join(this.root, job.outFile);
    let binary = result.outputs[outPath];
    if (!(binary instanceof Uint8Array)) return { ...base, status: "failed", errors: `the compiler wrote no ${job.outFile}` };
    if (job.target === "release") {
      const compiled = binary;
      binary = withoutDebugSections(compiled);
      const problems = checkModule(job.outFile, binary);
      if (problems.length) return { ...base, status: "failed", errors: problems.join("\n") };
      const map: ModuleMap = JSON.parse(String(result.outputs[`${outPath}.map`]));
      result.outputs[`${outPath}.map`] = JSON.stringify({ ...map, x_functions: functionNames(compiled), x_module: moduleDigest(binary) });
    }
    for (const [path, contents] of Object.entries(result.outputs)) if (path !== outPath) writeAtomically(path, contents);
    writeAtomically(outPath, binary);
    const entry: CacheEntry = { key, inputs: result.inputs.map((p) => [p, sha1(readFileSync(p))]) };
    writeAtomically(cacheFile(this.root, job), JSON.stringify(entry));
    return { ...base, status: "built", errors: messages, bytes: binary.length };
  }

  close(): void {
    this.compilers.close();
  }
}

/** Builds once and releases the workers. */
export async function build(options: BuildOptions = {}): Promise<BuildResult> {
  const builder = new Builder(options.root);
  try {
    return await builder.build(options);
  } finally {
    builder.close();
  }
}
