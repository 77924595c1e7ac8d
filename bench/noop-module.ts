// The no-op module (noop.wat): callbacks that do nothing, the floor a filter's cost is measured against.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import wabtInit from "wabt";

export async function noopModule(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const text = await readFile(join(import.meta.dirname, "noop.wat"), "utf8");
  return wabt.parseWat("noop.wat", text).toBinary({}).buffer;
}
