// The function types of a module's imports and exports, read from its binary before it is
// instantiated (WebAssembly.Module gives names only, and Node 20 has no type reflection).
// Reads the type, import, function and export sections; skips everything else.

export type ValueType = "i32" | "i64" | "f32" | "f64" | "v128" | "ref";

export interface FunctionType {
  params: ValueType[];
  results: ValueType[];
}

export interface ModuleTypes {
  /** "module.name" → type, for function imports. */
  imports: Map<string, FunctionType>;
  /** export name → type, for function exports. */
  exports: Map<string, FunctionType>;
}

const VALUE_TYPES: Record<number, ValueType> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "ref", 0x6f: "ref" };

export class Reader {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}
  byte(): number {
    if (this.at >= this.bytes.length) throw new Error("unexpected end of module");
    return this.bytes[this.at++];
  }
  u32(): number {
    let result = 0, shift = 0, b: number;
    do {
      b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return result;
  }
  name(): string {
    const len = this.u32();
    const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.at, len).toString("utf8");
    this.at += len;
    return text;
  }
  valueTypes(): ValueType[] {
    const out: ValueType[] = [];
    for (let n = this.u32(); n > 0; n--) out.push(VALUE_TYPES[this.byte()] ?? "ref");
    return out;
  }
  limits(): void {
    const flags = this.byte();
    this.u32();
    if (flags & 1) this.u32();
  }
}

/** One section of a module: its id, where it starts (its id byte), and its contents; custom sections' name. */
export interface Section {
  id: number;
  start: number;
  bodyStart: number;
  body: Uint8Array;
  /** A custom section's name (id 0). */
  name?: string;
}

/** The module's sections in order; throws when one runs past the end. */
export function sections(bytes: Uint8Array): Section[] {
  const r = new Reader(bytes);
  r.at = 8;
  const out: Section[] = [];
  while (r.at < bytes.length) {
    const start = r.at;
    const id = r.byte();
    const size = r.u32();
    const bodyStart = r.at;
    if (bodyStart + size > bytes.length) throw new Error("a section runs past the end of the module");
    const section: Section = { id, start, bodyStart, body: bytes.subarray(bodyStart, bodyStart + size) };
    if (id === 0) section.name = r.name();
    out.push(section);
    r.at = bodyStart + size;
  }
  return out;
}

/** Reads the function types; the module must already have compiled (so it is well-formed). */
export function moduleTypes(bytes: Uint8Array): ModuleTypes {
  const r = new Reader(bytes);
  r.at = 8; // magic and version
  const types: FunctionType[] = [];
  const functions: number[] = []; // type index per function index, imports first
  const result: ModuleTypes = { imports: new Map(), exports: new Map() };
  while (r.at < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.at + size;
    if (id === 1) {
      for (let n = r.u32(); n > 0; n--) {
        if (r.byte() !== 0x60) throw new Error("unsupported type form");
        types.push({ params: r.valueTypes(), results: r.valueTypes() });
      }
    } else if (id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        const module = r.name(), name = r.name(), kind = r.byte();
        if (kind === 0) {
          const type = r.u32();
          functions.push(type);
          result.imports.set(`${module}.${name}`, types[type]);
        } else if (kind === 1) {
          r.byte();
          r.limits();
        } else if (kind === 2) r.limits();
        else if (kind === 3) r.at += 2;
        else r.u32(); // tag
      }
    } else if (id === 3) {
      for (let n = r.u32(); n > 0; n--) functions.push(r.u32());
    } else if (id === 7) {
      for (let n = r.u32(); n > 0; n--) {
        const name = r.name(), kind = r.byte(), index = r.u32();
        if (kind === 0) result.exports.set(name, types[functions[index]]);
      }
    }
    r.at = end;
  }
  return result;
}

export const formatType = (t: FunctionType): string =>
  `(${t.params.join(", ")}) -> ${t.results.length ? t.results.join(", ") : "nothing"}`;

const PAGE = 65536;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/**
 * The module with the maximum of its own (32-bit, unshared) memory lowered to `maxBytes`, so
 * the engine refuses growth past it (memory.grow answers -1). Throws when the memory starts
 * larger than that. The bytes come back unchanged when no memory section says otherwise.
 */
export function capMemory(bytes: Uint8Array, maxBytes: number): Uint8Array {
  const cap = Math.floor(maxBytes / PAGE);
  const r = new Reader(bytes);
  r.at = 8;
  while (r.at < bytes.length) {
    const start = r.at;
    const id = r.byte();
    const size = r.u32();
    const end = r.at + size;
    if (id !== 5) {
      r.at = end;
      continue;
    }
    const out: number[] = [];
    let count = r.u32();
    out.push(...leb(count));
    for (; count > 0; count--) {
      const flags = r.byte();
      const min = r.u32();
      const max = flags & 1 ? r.u32() : Infinity;
      if (flags & ~1) return bytes; // shared or 64-bit: left as it is
      if (min > cap) throw new Error(`its memory starts at ${min} pages (${min * PAGE} bytes), over the cap of ${cap} pages (${maxBytes} bytes)`);
      out.push(1, ...leb(min), ...leb(Math.min(max, cap)));
    }
    const section = [5, ...leb(out.length), ...out];
    const result = new Uint8Array(bytes.length - (end - start) + section.length);
    result.set(bytes.subarray(0, start), 0);
    result.set(section, start);
    result.set(bytes.subarray(end), start + section.length);
    return result;
  }
  return bytes;
}
