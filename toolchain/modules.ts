// The modules a filter project builds, from its package.json:
//
//   "proxy-wasm-as": { "modules": { "filter": "assembly/index.ts", "*": "filters/*/index.ts" } }
//
// Each key names a module (build/<name>.wasm), each value is its entry file. A `*` in the
// value matches one folder name, and the key's `*` becomes that name: one entry lists a
// folder of filters. Without the field a project has one module, `filter`, from
// assembly/index.ts.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";

export interface ModuleSpec {
  /** The module's name: build/<name>.wasm. */
  name: string;
  /** Its entry file, relative to the project root, with forward slashes. */
  entry: string;
}

export const DEFAULT_MODULES: Record<string, string> = { filter: "assembly/index.ts" };

export class ProjectError extends Error {
  override name = "ProjectError";
}

/** The modules the project at `root` declares, in the order they are listed. */
export function projectModules(root: string): ModuleSpec[] {
  const file = join(root, "package.json");
  let declared: unknown = DEFAULT_MODULES;
  if (existsSync(file)) {
    const pkg = JSON.parse(readFileSync(file, "utf8"));
    declared = pkg["proxy-wasm-as"]?.modules ?? DEFAULT_MODULES;
  }
  if (typeof declared !== "object" || declared === null || Array.isArray(declared)) {
    throw new ProjectError(`${file}: "proxy-wasm-as".modules: expected an object of module name → entry file`);
  }
  const modules: ModuleSpec[] = [];
  for (const [name, entry] of Object.entries(declared)) {
    if (typeof entry !== "string") throw new ProjectError(`${file}: "proxy-wasm-as".modules.${name}: expected an entry file path, found ${JSON.stringify(entry)}`);
    if (!entry.includes("*")) {
      modules.push({ name, entry });
      continue;
    }
    const [before, after] = entry.split("*", 2);
    const dir = join(root, before);
    for (const match of existsSync(dir) ? readdirSync(dir).sort() : []) {
      if (!statSync(join(dir, match)).isDirectory() || !existsSync(join(dir, match, after))) continue;
      modules.push({ name: name.replace("*", match), entry: `${before}${match}${after}` });
    }
  }
  const seen = new Set<string>();
  for (const m of modules) {
    if (seen.has(m.name)) throw new ProjectError(`${file}: "proxy-wasm-as".modules: two entries make a module named ${m.name}`);
    seen.add(m.name);
  }
  return modules;
}

/**
 * The modules that `selectors` pick: a module's name, its entry file, a folder holding its
 * entry, or a built file (build/<name>.wasm). Throws naming a selector that picks none.
 */
export function selectModules(root: string, modules: ModuleSpec[], selectors: string[]): ModuleSpec[] {
  if (!selectors.length) return modules;
  const picked = new Set<ModuleSpec>();
  for (const selector of selectors) {
    const path = relative(root, resolve(root, selector)).split(sep).join("/").replace(/\/$/, "");
    const built = /(?:^|\/)([^/]+?)(?:\.debug)?\.wasm$/.exec(path)?.[1];
    const hits = modules.filter((m) => m.name === selector || m.name === built || m.entry === path || m.entry.startsWith(`${path}/`));
    if (!hits.length) throw new ProjectError(`no module matches "${selector}"; the project's modules: ${modules.map((m) => m.name).join(", ")}`);
    for (const m of hits) picked.add(m);
  }
  return modules.filter((m) => picked.has(m));
}
