// One AssemblyScript compile, in this thread, through the compiler's programmatic API (plain
// JavaScript so a worker thread can load it without a TypeScript loader). Keeping the compiler
// loaded between compiles is what makes rebuilds fast: a warm compile of a filter takes about
// a third of the time of `asc` started as a new process.
//
// The compiler reads files through our `readFile`, which does two things: it records every
// file read (the build cache hashes them to know when to rebuild), and it serves
// `node_modules/proxy-wasm-as/…` from this package's own folder when that path does not exist,
// so this repository's own filters import the SDK by package name exactly as a filter project
// that installed the package does, and one copy of the SDK is compiled either way.
import { main as ascMain } from "assemblyscript/asc";
import { readFile as fsReadFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, resolve, sep } from "node:path";

const PACKAGE_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const SELF = `${sep}node_modules${sep}proxy-wasm-as${sep}`;

async function readText(path) {
  try {
    return await fsReadFile(path, "utf8");
  } catch {
    return null;
  }
}

/**
 * Compiles one module. `job.args` is asc's command line (entry, options, --outFile); the
 * outputs are returned in memory, not written, so the caller can write them atomically.
 * @param {{ args: string[] }} job
 * @returns {Promise<{ ok: boolean, output: string, outputs: Record<string, Uint8Array | string>, inputs: string[], stats: Record<string, number> }>}
 */
export async function compile(job) {
  const inputs = new Set();
  const outputs = {};
  let output = "";
  const stream = { write: (chunk) => { output += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString(); return true; } };
  const result = await ascMain(job.args, {
    stdout: stream,
    stderr: stream,
    readFile: async (name, baseDir) => {
      const path = resolve(baseDir, name);
      let text = await readText(path);
      let served = path;
      if (text === null) {
        const at = path.lastIndexOf(SELF);
        if (at >= 0) {
          served = resolve(PACKAGE_ROOT, path.slice(at + SELF.length));
          text = await readText(served);
        }
      }
      if (text !== null) inputs.add(served);
      return text;
    },
    writeFile: (name, contents, baseDir) => {
      outputs[resolve(baseDir, name)] = contents;
    },
    listFiles: () => [],
  });
  const s = result.stats;
  const ms = (ns) => ns / 1e6;
  return {
    ok: !result.error,
    output: output + (result.error && !output.includes(result.error.message) ? `${result.error.message}\n` : ""),
    outputs,
    inputs: [...inputs],
    stats: {
      parse: ms(s.parseTime), compile: ms(s.initializeTime + s.compileTime), optimize: ms(s.optimizeTime),
      emit: ms(s.emitTime + s.validateTime), transform: ms(s.transformTime), total: ms(s.total),
    },
  };
}
