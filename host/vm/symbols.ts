// From a trap's wasm frames to the author's source. V8 reports each wasm frame as a function
// index and a byte offset in the module; a module built by proxy-wasm-as has beside it
// (`<module>.wasm.map`) the source map of exactly those bytes and its function names, which
// the deployed module leaves out. A module with a name section of its own (Rust, C++, any
// debug build) gets its function names from V8 without one.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { OffsetMap } from "./fuel.ts";
import { Reader, sections } from "./wasm-types.ts";

/** What proxy-wasm-as build writes next to a release module: a source map, plus two fields. */
export interface ModuleMap {
  version: number;
  sources: string[];
  sourcesContent?: (string | null)[];
  mappings: string;
  /** Function names by function index (imports first). */
  x_functions?: (string | null)[];
  /** sha256 (hex) of the module these belong to: a map left over from another build is ignored. */
  x_module?: string;
}

export interface Frame {
  functionIndex: number;
  offset: number;
  /** The function's name, from the map or from V8 (the module's name section). */
  name: string | null;
  /** Where in the source, when a map covers it. */
  source: { file: string; line: number; column: number } | null;
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) DIGIT[BASE64.charCodeAt(i)] = i;

/** The source map's segments as sorted parallel arrays (a wasm map has one line: columns are byte offsets). */
class Mappings {
  readonly offsets: number[] = [];
  readonly sources: number[] = [];
  readonly lines: number[] = [];
  readonly columns: number[] = [];

  constructor(text: string) {
    const state = [0, 0, 0, 0];
    let value = 0, shift = 0;
    const fields: number[] = [];
    const end = () => {
      if (fields.length >= 4) {
        for (let i = 0; i < 4; i++) state[i] += fields[i];
        this.offsets.push(state[0]);
        this.sources.push(state[1]);
        this.lines.push(state[2] + 1);
        this.columns.push(state[3] + 1);
      } else if (fields.length) state[0] += fields[0];
      fields.length = 0;
    };
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 44 /* , */ || c === 59 /* ; */) {
        end();
        continue;
      }
      const digit = DIGIT[c];
      value += (digit & 31) * 2 ** shift;
      if (digit & 32) {
        shift += 5;
        continue;
      }
      fields.push(value & 1 ? -(value - 1) / 2 : value / 2);
      value = shift = 0;
    }
    end();
  }

  /** The index of the last segment at or before `offset`, or -1. */
  at(offset: number): number {
    let lo = 0, hi = this.offsets.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.offsets[mid] <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}

/** Where each defined function's body starts, by function index (imports first). */
export function functionStarts(bytes: Uint8Array): number[] {
  const r = new Reader(bytes);
  r.at = 8;
  const starts: number[] = [];
  let imported = 0;
  while (r.at < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.at + size;
    if (id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        r.name();
        r.name();
        const kind = r.byte();
        if (kind === 0) {
          r.u32();
          imported++;
        } else if (kind === 1) {
          r.byte();
          r.limits();
        } else if (kind === 2) r.limits();
        else if (kind === 3) r.at += 2;
        else r.u32();
      }
    } else if (id === 10) {
      starts.length = imported;
      for (let n = r.u32(); n > 0; n--) {
        const bodySize = r.u32();
        starts.push(r.at);
        r.at += bodySize;
      }
    }
    r.at = end;
  }
  return starts;
}

/** Where the code section's contents start (0 without one). */
function codeStart(bytes: Uint8Array): number {
  return sections(bytes).find((s) => s.id === 10)?.bodyStart ?? 0;
}

/** Function names from the module's `name` section, by function index (empty without one). */
export function functionNames(bytes: Uint8Array): (string | null)[] {
  const names: (string | null)[] = [];
  for (const section of WebAssembly.Module.customSections(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), "name")) {
    const r = new Reader(new Uint8Array(section));
    while (r.at < r.bytes.length) {
      const kind = r.byte();
      const size = r.u32();
      const end = r.at + size;
      if (kind === 1) {
        for (let n = r.u32(); n > 0; n--) {
          const index = r.u32();
          names[index] = r.name();
        }
      }
      r.at = end;
    }
  }
  return Array.from(names, (n) => n ?? null);
}

/** The module without its `name` and `sourceMappingURL` sections: the code and data, byte for byte. */
export function withoutDebugSections(bytes: Uint8Array): Uint8Array {
  const kept = sections(bytes).filter((s) => s.name !== "name" && s.name !== "sourceMappingURL");
  return Buffer.concat([bytes.subarray(0, 8), ...kept.map((s) => bytes.subarray(s.start, s.bodyStart + s.body.length))]);
}

export const moduleDigest = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

const FRAME = /^\s*at (?:(.*?) \()?wasm:\/\/wasm\/[^:]*:wasm-function\[(\d+)\]:0x([0-9a-f]+)\)?\s*$/;

/** The symbols of one module: its map (when there is one for these bytes) and its function bodies. */
export class ModuleSymbols {
  private loaded: ModuleMap | null | undefined;
  private mappings: Mappings | null = null;
  private starts: number[] | null = null;
  private names: (string | null)[] | null = null;
  /** Set when the VM runs an instrumented copy of the module (deadlines): frames are translated back. */
  private offsets: OffsetMap | null = null;
  /** How much later the code starts in the module the VM runs than in the original (a memory cap rewrites a section before it). */
  private codeShift = 0;

  /** The symbols of `bytes`, loaded from `path` (null: given as bytes); the map is read at the first trap. */
  constructor(private readonly bytes: Uint8Array, private readonly path: string | null) {}

  /**
   * The VM runs `running` (the module with its memory capped), or an instrumented copy of it
   * whose frames `offsets` takes back to `running`: frames are translated to the original.
   */
  runs(running: Uint8Array, offsets: OffsetMap | null = null): void {
    this.codeShift = codeStart(running) - codeStart(this.bytes);
    this.offsets = offsets;
  }

  /** The `.map` beside the module, when it is there and belongs to these bytes. */
  private get map(): ModuleMap | null {
    if (this.loaded === undefined) {
      this.loaded = null;
      if (this.path !== null && existsSync(`${this.path}.map`)) {
        try {
          const parsed = JSON.parse(readFileSync(`${this.path}.map`, "utf8")) as ModuleMap;
          if (parsed.x_module === undefined || parsed.x_module === moduleDigest(this.bytes)) this.loaded = parsed;
        } catch {
          // an unreadable map maps nothing; the trap still shows V8's frames
        }
      }
    }
    return this.loaded;
  }

  /** The wasm frames of an engine stack, innermost first, mapped where the map reaches. */
  frames(stack: string): Frame[] {
    const frames: Frame[] = [];
    for (const line of stack.split("\n")) {
      const m = FRAME.exec(line);
      if (!m) continue;
      const original = this.offsets ? this.offsets.original(Number(m[2]), parseInt(m[3], 16)) : { functionIndex: Number(m[2]), offset: parseInt(m[3], 16) };
      if (!original) continue; // the deadline's own check
      const { functionIndex } = original;
      const offset = original.offset - this.codeShift;
      this.names ??= this.map?.x_functions ?? functionNames(this.bytes);
      let name = this.names[functionIndex] ?? (m[1] && !m[1].startsWith("wasm-function") ? m[1].replace(/^\$/, "") : null);
      const source = this.locate(functionIndex, offset, name);
      // The author's code inlined into a function of the SDK's (a method called from the
      // dispatcher): name the frame by the author's declaration around that line.
      if (source && !isLibrary(source.file) && (name === null || isLibrary(name))) name = this.declarationAt(source.file, source.line) ?? name;
      frames.push({ functionIndex, offset, name, source });
    }
    return frames;
  }

  /** `Class#method` or `function` declared around `line` of `file`, from the map's copy of the source. */
  private declarationAt(file: string, line: number): string | null {
    const text = this.map?.sourcesContent?.[this.map.sources.indexOf(file)];
    return text ? enclosingDeclaration(text.split("\n"), line - 1) : null;
  }

  /**
   * The source position of `offset`. Inside a function of the author's whose code at that
   * point was inlined from the standard library or the SDK, the author's own line that led
   * there: the nearest mapping before it in the same function that is in the author's file.
   */
  private locate(functionIndex: number, offset: number, name: string | null): Frame["source"] {
    if (!this.map) return null;
    this.mappings ??= new Mappings(this.map.mappings);
    const m = this.mappings;
    let i = m.at(offset);
    if (i < 0) return null;
    // An SDK function may hold the author's code too: the dispatcher calls a filter's method, which the optimizer often inlines.
    const mayHoldAuthorCode = name !== null && (!isLibrary(name) || isSdk(name));
    if (mayHoldAuthorCode && isLibrary(this.map.sources[m.sources[i]])) {
      this.starts ??= functionStarts(this.bytes);
      const start = this.starts[functionIndex] ?? 0;
      for (let j = i; j >= 0 && m.offsets[j] >= start; j--) {
        if (!isLibrary(this.map.sources[m.sources[j]])) {
          i = j;
          break;
        }
      }
    }
    return { file: this.map.sources[m.sources[i]], line: m.lines[i], column: m.columns[i] };
  }
}

const FUNCTION = /^(\s*)(?:export\s+)?function\s+([\w$]+)/;
const METHOD = /^(\s*)(?:(?:public|private|protected|static|override|readonly|get|set)\s+)*([\w$]+)\s*(?:<[^>]*>)?\s*\(/;
const CLASS = /^(\s*)(?:export\s+)?(?:abstract\s+)?class\s+([\w$]+)/;
const NOT_METHODS = new Set(["if", "for", "while", "switch", "return", "catch", "do", "else", "new", "throw", "typeof", "super", "this"]);
const indent = (m: RegExpExecArray) => m[1].length;

/** The function, or class and method, whose body holds line `at` (0-based): the nearest declaration above it indented less. */
function enclosingDeclaration(lines: string[], at: number): string | null {
  let depth = (/^\s*/.exec(lines[at] ?? "") ?? [""])[0].length;
  for (let i = at; i >= 0; i--) {
    const fn = FUNCTION.exec(lines[i]);
    if (fn && indent(fn) < depth) return fn[2];
    const method = METHOD.exec(lines[i]);
    if (method && indent(method) < depth && !NOT_METHODS.has(method[2])) {
      depth = indent(method);
      for (let j = i - 1; j >= 0; j--) {
        const cls = CLASS.exec(lines[j]);
        if (cls && indent(cls) < depth) return `${cls[2]}#${method[2]}`;
      }
      return method[2];
    }
  }
  return null;
}

/** Code that is not the author's: AssemblyScript's library, the SDK, json-as (all under ~lib/). */
function isLibrary(pathOrName: string | undefined): boolean {
  return pathOrName === undefined || pathOrName.startsWith("~lib/");
}

/** A function of proxy-wasm-as's SDK (which calls, and may inline, the author's methods). */
const isSdk = (name: string) => name.startsWith("~lib/proxy-wasm-as/");

/** `assembly/index/Filter#onRequestHeaders` → `Filter#onRequestHeaders`. */
const shortName = (name: string) => name.slice(name.lastIndexOf("/") + 1);

export function formatFrame(frame: Frame): string {
  const where = frame.source ? `${frame.source.file}:${frame.source.line}:${frame.source.column}` : `wasm-function[${frame.functionIndex}]:0x${frame.offset.toString(16)}`;
  return frame.name ? `${where} (${shortName(frame.name)})` : where;
}

/** The author's frame: the innermost in a function of the author's (not the library's or the SDK's). */
export function authorFrame(frames: Frame[]): Frame | null {
  return frames.find((f) => (f.name !== null ? !isLibrary(f.name) : f.source !== null && !isLibrary(f.source.file))) ?? null;
}
