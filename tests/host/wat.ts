// Test modules written in WebAssembly text, assembled with wabt.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import wabtInit from "wabt";

const wabt = await wabtInit();

/** The module in `text`; `names`: with a name section (the functions' $names), as toolchains write for debugging. */
export function assemble(text: string, { names = false } = {}): Uint8Array {
  const parsed = wabt.parseWat("test.wat", text);
  try {
    return parsed.toBinary({ write_debug_names: names }).buffer;
  } finally {
    parsed.destroy();
  }
}

export function moduleFile(name: string): Uint8Array {
  return assemble(readFileSync(join(import.meta.dirname, "modules", name), "utf8"));
}

/**
 * A module with the given body inside `(module …)`, plus what every Proxy-Wasm module needs
 * (memory, a bump malloc, the ABI version) unless `bare` is set; `imports` go first, as the
 * text format requires.
 */
export function wat(body: string, { bare = false, abi = "0_2_1", imports = "", names = false } = {}): Uint8Array {
  const basics = bare ? "" : `
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 4096))
    (func (export "malloc") (param $size i32) (result i32)
      (local $ptr i32)
      (local.set $ptr (global.get $heap))
      (global.set $heap (i32.add (global.get $heap) (local.get $size)))
      (local.get $ptr))
    (func (export "proxy_abi_version_${abi}"))`;
  return assemble(`(module ${imports} ${basics} ${body})`, { names });
}
