// Checks that a built module will load in Envoy: it announces ABI 0.2.1 and imports nothing a
// real host lacks. Used by `npm run asbuild`; also runnable on any .wasm file:
//   tsx scripts/check-module.ts path/to/filter.wasm …
import { readFile } from "node:fs/promises";
import { disallowedImport } from "../host/abi/allowed-imports.ts";

/** Problems found in the module at `path`; empty when it is fit for Envoy. */
export async function checkModule(path: string): Promise<string[]> {
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(await readFile(path));
  } catch (e) {
    return [`${path} is not a valid WebAssembly module: ${(e as Error).message}`];
  }
  const problems: string[] = [];
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  for (const name of ["proxy_abi_version_0_2_1", "memory", "_initialize", "malloc", "proxy_on_memory_allocate", "proxy_on_context_create"]) {
    if (!exports.has(name)) {
      problems.push(`${path} does not export ${name}` +
        (name.startsWith("proxy_abi") ? ` (build with npm run asbuild, whose --transform ./sdk/transform.js adds them, or add \`export * from "<path>/sdk/abi/exports";\` to the entry file)` : ""));
    }
  }
  for (const { module: from, name } of WebAssembly.Module.imports(module)) {
    const why = disallowedImport(from, name);
    if (why) problems.push(`${path} imports ${from}.${name}, which Envoy does not provide: ${why}`);
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = (await Promise.all(process.argv.slice(2).map(checkModule))).flat();
  for (const p of problems) console.error(p);
  process.exit(problems.length ? 1 : 0);
}
