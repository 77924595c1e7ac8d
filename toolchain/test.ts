// `proxy-wasm-as test [files…] [--watch] [vitest options]`: builds the modules the tests use,
// then runs vitest on them. A test file uses the modules it names (`build/<name>.wasm`); with
// no files given, or a file that names none, every module is built (an unchanged module costs
// a hash check). With --watch, a change to a filter's sources rebuilds its module, and vitest
// (with the proxyWasm() plugin in its config) reruns the suites that load it.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { build } from "./build.ts";
import { projectModules } from "./modules.ts";
import { watchBuild } from "./watch.ts";

const MODULE_NAMED = /\bbuild\/([\w.-]+?)(?:\.debug)?\.wasm\b/g;

function testFiles(root: string, path: string): string[] {
  const full = resolve(root, path);
  if (!existsSync(full)) return [];
  if (statSync(full).isFile()) return [full];
  return readdirSync(full, { recursive: true, encoding: "utf8" })
    .filter((f) => /\.test\.[cm]?[jt]s$/.test(f) && !f.split(/[\\/]/).includes("node_modules"))
    .map((f) => join(full, f));
}

/** The modules the tests under `paths` name, or undefined for "all of them". */
export function modulesUsedBy(root: string, paths: string[]): string[] | undefined {
  if (!paths.length) return undefined;
  const known = new Set(projectModules(root).map((m) => m.name));
  const used = new Set<string>();
  for (const file of paths.flatMap((p) => testFiles(root, p))) {
    const named = [...readFileSync(file, "utf8").matchAll(MODULE_NAMED)].map((m) => m[1]).filter((n) => known.has(n));
    if (!named.length) return undefined;
    for (const n of named) used.add(n);
  }
  return used.size ? [...used] : undefined;
}

export async function test(argv: string[]): Promise<void> {
  const root = process.cwd();
  const watch = argv.includes("--watch") || argv.includes("-w");
  const passed = argv.filter((a) => a !== "--watch" && a !== "-w");
  const paths = passed.filter((a) => !a.startsWith("-") && existsSync(resolve(root, a)));
  const only = modulesUsedBy(root, paths);
  if (watch) {
    // A failed first build still starts vitest: the next save rebuilds, and the tests rerun.
    await watchBuild({ root, only }).ready;
  } else {
    const result = await build({ root, only });
    if (!result.ok) process.exit(1);
  }
  const manifest = createRequire(join(root, "package.json")).resolve("vitest/package.json");
  const vitest = join(dirname(manifest), JSON.parse(readFileSync(manifest, "utf8")).bin.vitest);
  const child = spawn(process.execPath, [vitest, watch ? "watch" : "run", ...passed], { stdio: "inherit", cwd: root });
  const code = await new Promise<number>((done) => child.on("close", (c) => done(c ?? 1)));
  process.exit(code);
}
