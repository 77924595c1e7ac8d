// The hand-written modules the benchmarks measure against (bench/<name>.wat): noop.wat, whose
// callbacks do nothing (the host's own cost), and add-header.wat, add-header's host calls by
// hand (the floor for any SDK).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import wabtInit from "wabt";

export async function watModule(name: "noop" | "add-header"): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const text = await readFile(join(import.meta.dirname, `${name}.wat`), "utf8");
  return wabt.parseWat(`${name}.wat`, text).toBinary({}).buffer;
}

export const noopModule = () => watModule("noop");
