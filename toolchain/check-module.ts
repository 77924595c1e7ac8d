// Checks that a built module will load in Envoy: it announces ABI 0.2.1 and imports nothing a
// real host lacks. `proxy-wasm-as build` runs it on every release module before writing it.
import { disallowedImport } from "../host/abi/allowed-imports.ts";

const REQUIRED_EXPORTS = ["proxy_abi_version_0_2_1", "memory", "_initialize", "malloc", "proxy_on_memory_allocate", "proxy_on_context_create"];

/** Problems with the module `bytes` (named `name` in the messages); empty when it is fit for Envoy. */
export function checkModule(name: string, bytes: Uint8Array): string[] {
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    return [`${name} is not a valid WebAssembly module: ${(e as Error).message}`];
  }
  const problems: string[] = [];
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  for (const required of REQUIRED_EXPORTS) {
    if (!exports.has(required)) problems.push(`${name} does not export ${required} (is it built by proxy-wasm-as build, which adds the SDK's exports?)`);
  }
  for (const { module: from, name: imported } of WebAssembly.Module.imports(module)) {
    const why = disallowedImport(from, imported);
    if (why) problems.push(`${name} imports ${from}.${imported}, which Envoy does not provide: ${why}`);
  }
  return problems;
}
