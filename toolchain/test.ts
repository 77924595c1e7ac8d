// `proxy-wasm-as test [files…] [--watch] [vitest options]`: builds the modules the tests use
// and runs vitest on them. A test file uses the modules it names (`build/<name>.wasm`); with
// no files given, or a file that names none, every module is built (an unchanged module costs
// a hash check). Vitest then runs in this process (no second Node to start). Starting it while
// the compilers work was measured slower on two cores: three busy threads on two cores. With
// --watch, a change to a filter's sources rebuilds its module, and vitest (with the
// proxyWasm() plugin in its config) reruns the suites that load it.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "./build.ts";
import { projectModules } from "./modules.ts";

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
  const { parseCLI, startVitest } = await import("vitest/node");
  const { filter, options } = parseCLI(["vitest", ...argv]);
  const watch = Boolean(options.watch);
  const only = modulesUsedBy(root, filter.filter((f) => existsSync(resolve(root, f))));
  if (watch) {
    // A failed first build still starts vitest: the next save rebuilds, and the tests rerun.
    const { watchBuild } = await import("./watch.ts");
    await watchBuild({ root, only }).ready;
  } else if (!(await build({ root, only })).ok) {
    process.exit(1);
  }
  const vitest = await startVitest("test", filter, { ...options, watch, run: !watch });
  if (!watch) {
    await vitest?.close();
    process.exit(process.exitCode ?? 0);
  }
}
