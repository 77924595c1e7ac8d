// The instrumentation behind deadlines, done on the module's bytes: every loop head, and the
// entry of every function that calls another function of the module (only calls recurse),
// gets `fuel -= 1; if (fuel <= 0) fuel = check();`, where `fuel` is a new
// mutable global and `check` one new import (proxy-wasm-as:guard.check, () -> i32) that the
// host answers. Everything else is copied byte for byte, so each byte of instrumented code
// maps back to the original exactly (OffsetMap): a trap's frames still name the author's
// source line through the module's source map, and its functions through its name section.
//
// The import goes after the module's own imports, so the module's functions move up by one:
// calls, ref.func, exports, the start function and element segments are renumbered. The
// name section is left out of the copy (OffsetMap names functions from the original's).
import { Reader, type Section, sections as moduleSections } from "./wasm-types.ts";

export const GUARD_MODULE = "proxy-wasm-as:guard";
export const GUARD_CHECK = "check";

/** A module this instrumenter cannot rewrite (an instruction it does not know, a malformed section). */
export class InstrumentError extends Error {
  override name = "InstrumentError";
}

/** From a frame of the instrumented copy back to the original module. */
export class OffsetMap {
  constructor(
    /** Functions the original imports: the new import takes this index. */
    readonly importedFunctions: number,
    /** Per instrumented function index: where its body starts in the copy and in the original, and the insertions in it. */
    private readonly bodies: Map<number, { copyStart: number; originalStart: number; inserts: { at: number; size: number }[] }>,
  ) {}

  /** The original function index and byte offset of a frame in the copy; null for the guard's own code. */
  original(functionIndex: number, offset: number): { functionIndex: number; offset: number } | null {
    if (functionIndex < this.importedFunctions) return { functionIndex, offset };
    if (functionIndex === this.importedFunctions) return null;
    const body = this.bodies.get(functionIndex);
    if (!body) return { functionIndex: functionIndex - 1, offset };
    let copyAt = body.copyStart, originalAt = body.originalStart;
    // Walk the insertions: each moved what follows it by its size.
    for (const insert of body.inserts) {
      const copyInsert = copyAt + (insert.at - originalAt);
      if (offset < copyInsert) break;
      if (offset < copyInsert + insert.size) return { functionIndex: functionIndex - 1, offset: insert.at }; // inside a tick
      copyAt = copyInsert + insert.size;
      originalAt = insert.at;
    }
    return { functionIndex: functionIndex - 1, offset: originalAt + (offset - copyAt) };
  }
}

const leb = (value: number): number[] => {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return out;
};
const name = (text: string): number[] => [...leb(Buffer.byteLength(text)), ...Buffer.from(text)];
const section = (id: number, body: number[] | Uint8Array): Uint8Array => Buffer.concat([Buffer.from([id, ...leb(body.length)]), Buffer.from(body)]);

class Cursor extends Reader {
  s33(): void {
    while (this.byte() & 0x80);
  }
  skip(n: number): void {
    this.at += n;
  }
}

function memarg(r: Cursor): void {
  const align = r.u32();
  if (align & 0x40) r.u32(); // multi-memory: a memory index
  r.u32();
}

function blockType(r: Cursor): void {
  const b = r.bytes[r.at];
  if (b === 0x40 || (b >= 0x6f && b <= 0x7f)) r.skip(1);
  else r.s33();
}

/** Skips one instruction's immediates after its opcode; calls `funcRef` at each function index immediate. */
function skipImmediates(r: Cursor, op: number, funcRef: (start: number, index: number) => void): void {
  if (op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x19 || op === 0x1a || op === 0x1b || op === 0xd1 || (op >= 0x45 && op <= 0xc4)) return;
  if (op >= 0x02 && op <= 0x04) return blockType(r);
  if (op === 0x06) return blockType(r); // try
  if ((op >= 0x07 && op <= 0x09) || op === 0x0c || op === 0x0d || op === 0x18) return void r.u32();
  if (op === 0x0e) {
    for (let n = r.u32(); n >= 0; n--) r.u32(); // the targets and the default
    return;
  }
  if (op === 0x10 || op === 0x12 || op === 0xd2) {
    const start = r.at;
    return funcRef(start, r.u32());
  }
  if (op === 0x11 || op === 0x13) {
    r.u32();
    r.u32();
    return;
  }
  if (op === 0x1c) {
    for (let n = r.u32(); n > 0; n--) r.skip(1);
    return;
  }
  if (op >= 0x20 && op <= 0x26) return void r.u32();
  if (op >= 0x28 && op <= 0x3e) return memarg(r);
  if (op === 0x3f || op === 0x40) return void r.u32();
  if (op === 0x41 || op === 0x42) return r.s33();
  if (op === 0x43) return r.skip(4);
  if (op === 0x44) return r.skip(8);
  if (op === 0xd0) return r.skip(1);
  if (op === 0xfc) {
    const sub = r.u32();
    if (sub <= 7) return;
    const immediates = [0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 2, 1, 2, 1, 2, 1, 1, 1][sub];
    if (immediates === undefined) throw new InstrumentError(`it uses the instruction 0xfc ${sub}, which this host cannot instrument`);
    for (let i = 0; i < immediates; i++) r.u32();
    return;
  }
  if (op === 0xfd) {
    const sub = r.u32();
    if (sub <= 11 || sub === 92 || sub === 93) return memarg(r);
    if (sub === 12 || sub === 13) return r.skip(16);
    if (sub >= 21 && sub <= 34) return r.skip(1);
    if (sub >= 84 && sub <= 91) {
      memarg(r);
      return r.skip(1);
    }
    return; // the rest of SIMD takes no immediates
  }
  if (op === 0xfe) {
    const sub = r.u32();
    if (sub === 3) return r.skip(1); // atomic.fence
    return memarg(r);
  }
  throw new InstrumentError(`it uses the opcode 0x${op.toString(16)}, which this host cannot instrument`);
}

/**
 * The module with fuel checks, and the map back. `ticksPerCheck` is the fuel's first value;
 * `check` answers the next one.
 */
export function instrumentFuel(bytes: Uint8Array, ticksPerCheck: number): { bytes: Uint8Array; offsets: OffsetMap } {
  let sections: Section[];
  try {
    sections = moduleSections(bytes);
  } catch (e) {
    throw new InstrumentError((e as Error).message);
  }
  const find = (id: number) => sections.find((s) => s.id === id);
  const vec = (s: Section | undefined) => {
    if (!s) return { count: 0, rest: new Uint8Array(0) };
    const c = new Cursor(s.body);
    const count = c.u32();
    return { count, rest: s.body.subarray(c.at) };
  };

  // Types: append () -> i32 for the check.
  const types = vec(find(1));
  const checkType = types.count;
  const typeBody = [...leb(types.count + 1), ...types.rest, 0x60, 0, 1, 0x7f];

  // Imports: count the functions and globals imported; append the check.
  let importedFunctions = 0, importedGlobals = 0;
  const imports = vec(find(2));
  {
    const c = new Cursor(imports.rest);
    for (let n = imports.count; n > 0; n--) {
      c.name();
      c.name();
      const kind = c.byte();
      if (kind === 0) {
        c.u32();
        importedFunctions++;
      } else if (kind === 1) {
        c.byte();
        c.limits();
      } else if (kind === 2) c.limits();
      else if (kind === 3) {
        c.skip(2);
        importedGlobals++;
      } else c.u32();
    }
  }
  const importBody = [...leb(imports.count + 1), ...imports.rest, ...name(GUARD_MODULE), ...name(GUARD_CHECK), 0, ...leb(checkType)];
  const shift = (index: number) => (index >= importedFunctions ? index + 1 : index);

  // Globals: append the fuel (mutable i32); a funcref global's ref.func is renumbered.
  const globals = vec(find(6));
  const fuel = importedGlobals + globals.count;
  const globalBody = [...renumberGlobals(find(6), shift), 0x7f, 1, 0x41, ...signedLeb(ticksPerCheck), 0x0b];
  globalBody.splice(0, leb(globals.count).length, ...leb(globals.count + 1));

  // The tick: fuel -= 1; if (fuel <= 0) fuel = check();
  const g = leb(fuel), call = leb(importedFunctions);
  const tickBytes = Uint8Array.from([0x23, ...g, 0x41, 1, 0x6b, 0x24, ...g, 0x23, ...g, 0x41, 0, 0x4c, 0x04, 0x40, 0x10, ...call, 0x24, ...g, 0x0b]);

  // Code: ticks at each entry and loop head, function indices renumbered.
  const code = find(10);
  const bodies = new Map<number, { copyStart: number; originalStart: number; inserts: { at: number; size: number }[] }>();
  const codeParts: Buffer[] = [];
  const outBodies: { bytes: Buffer; originalStart: number; inserts: { at: number; size: number }[] }[] = [];
  if (code) {
    const c = new Cursor(bytes);
    c.at = code.bodyStart;
    const count = c.u32();
    for (let i = 0; i < count; i++) {
      const size = c.u32();
      const start = c.at, end = start + size;
      const out: Uint8Array[] = [];
      const inserts: { at: number; size: number }[] = [];
      for (let locals = c.u32(); locals > 0; locals--) {
        c.u32();
        c.byte();
      }
      const bodyStart = c.at;
      // A function that calls no other function of the module ends in bounded time but for
      // its loops, which tick: only callers tick at their entry (calls into the host do not count).
      let callsModule = false;
      while (c.at < end) {
        const op = c.byte();
        if (op === 0x11 || op === 0x13) callsModule = true;
        skipImmediates(c, op, (_at, index) => {
          if (index >= importedFunctions) callsModule = true;
        });
      }
      c.at = bodyStart;
      let copied = start;
      const copyTo = (to: number) => {
        if (to > copied) out.push(bytes.subarray(copied, to));
        copied = to;
      };
      const insert = (at: number) => {
        copyTo(at);
        inserts.push({ at, size: tickBytes.length });
        out.push(tickBytes);
      };
      if (callsModule) insert(c.at);
      while (c.at < end) {
        const op = c.byte();
        skipImmediates(c, op, (immStart, index) => {
          if (index < importedFunctions) return; // unchanged
          copyTo(immStart);
          out.push(Uint8Array.from(leb(shift(index))));
          copied = c.at;
          const grown = leb(shift(index)).length - (c.at - immStart);
          if (grown) inserts.push({ at: c.at, size: grown });
        });
        if (op === 0x03) insert(c.at);
      }
      copyTo(end);
      outBodies.push({ bytes: Buffer.concat(out), originalStart: start, inserts });
    }
  }

  // Exports, start and elements name functions: renumbered.
  const exportBody = renumberExports(find(7), shift);
  const startSection = find(8);
  const startBody = startSection ? leb(shift(new Cursor(startSection.body).u32())) : null;
  const elementBody = renumberElements(find(9), shift);

  // Reassemble, in section order; the name section is left out.
  const out: Uint8Array[] = [bytes.subarray(0, 8)];
  const replaced = new Map<number, number[] | Uint8Array | null>([[1, typeBody], [2, importBody], [6, globalBody], [7, exportBody], [9, elementBody]]);
  if (startBody) replaced.set(8, startBody);
  const order = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11];
  const present = new Set(sections.map((s) => s.id));
  for (const id of [1, 2, 6]) present.add(id);
  let offset = 8;
  const place = (data: Uint8Array) => {
    out.push(data);
    offset += data.length;
  };
  const custom = (s: Section) => {
    if (s.name !== "name") place(bytes.subarray(s.start, s.bodyStart + s.body.length));
  };
  // Custom sections keep their place after the known section they followed.
  let lastKnown = 0;
  const customsAfter = new Map<number, Section[]>();
  for (const s of sections) {
    if (s.id === 0) customsAfter.set(lastKnown, [...(customsAfter.get(lastKnown) ?? []), s]);
    else lastKnown = s.id;
  }
  for (const s of customsAfter.get(0) ?? []) custom(s);
  for (const id of order) {
    if (!present.has(id)) continue;
    if (id === 10 && code) {
      const countBytes = leb(outBodies.length);
      const bodySizes = outBodies.map((b) => leb(b.bytes.length));
      const total = countBytes.length + outBodies.reduce((n, b, i) => n + bodySizes[i].length + b.bytes.length, 0);
      const header = Buffer.from([10, ...leb(total), ...countBytes]);
      let at = offset + header.length;
      codeParts.push(header);
      outBodies.forEach((b, i) => {
        const size = Buffer.from(bodySizes[i]);
        codeParts.push(size, b.bytes);
        at += size.length;
        bodies.set(importedFunctions + 1 + i, { copyStart: at, originalStart: b.originalStart, inserts: b.inserts });
        at += b.bytes.length;
      });
      place(Buffer.concat(codeParts));
    } else {
      const s = find(id);
      const body = replaced.get(id);
      place(body ? section(id, body) : bytes.subarray(s!.start, s!.bodyStart + s!.body.length));
    }
    for (const s of customsAfter.get(id) ?? []) custom(s);
  }
  return { bytes: Buffer.concat(out), offsets: new OffsetMap(importedFunctions, bodies) };
}

function signedLeb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && !(byte & 0x40)) || (value === -1 && byte & 0x40)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function renumberExports(s: { body: Uint8Array } | undefined, shift: (i: number) => number): number[] | null {
  if (!s) return null;
  const c = new Cursor(s.body);
  const count = c.u32();
  const out = [...leb(count)];
  for (let n = count; n > 0; n--) {
    const nameStart = c.at;
    c.name();
    out.push(...s.body.subarray(nameStart, c.at));
    const kind = c.byte();
    const index = c.u32();
    out.push(kind, ...leb(kind === 0 ? shift(index) : index));
  }
  return out;
}

/** The global section's entries (without the count's change), ref.func in their initializers renumbered. */
function renumberGlobals(s: { body: Uint8Array } | undefined, shift: (i: number) => number): number[] {
  if (!s) return [0];
  const c = new Cursor(s.body);
  const count = c.u32();
  const out = [...leb(count)];
  for (let n = count; n > 0; n--) {
    const from = c.at;
    c.byte(); // value type
    c.byte(); // mutability
    out.push(...s.body.subarray(from, c.at));
    constExpr(c, s.body, out, shift);
  }
  return out;
}

/** Copies one constant expression, through its end, renumbering ref.func. */
function constExpr(c: Cursor, body: Uint8Array, out: number[], shift: (i: number) => number): void {
  for (;;) {
    const from = c.at;
    const op = c.byte();
    if (op === 0x0b) return void out.push(op);
    if (op === 0xd2) {
      out.push(op, ...leb(shift(c.u32())));
      continue;
    }
    skipImmediates(c, op, () => {});
    out.push(...body.subarray(from, c.at));
  }
}

/** Element segments: the forms with function indices (flags 0–3) are renumbered; expression forms with ref.func too. */
function renumberElements(s: { body: Uint8Array } | undefined, shift: (i: number) => number): number[] | null {
  if (!s) return null;
  const c = new Cursor(s.body);
  const count = c.u32();
  const out = [...leb(count)];
  const copy = (from: number) => out.push(...s.body.subarray(from, c.at));
  const expr = () => constExpr(c, s.body, out, shift);
  for (let n = count; n > 0; n--) {
    const flags = c.u32();
    out.push(...leb(flags));
    if (flags & 2 && !(flags & 1)) {
      const from = c.at;
      c.u32(); // table index
      copy(from);
    }
    if (!(flags & 1)) expr(); // the offset
    if (flags & 4) {
      if (flags & 3) {
        const from = c.at;
        c.byte(); // reftype
        copy(from);
      }
      const items = c.u32();
      out.push(...leb(items));
      for (let i = 0; i < items; i++) expr();
    } else {
      if (flags & 3) {
        const from = c.at;
        c.byte(); // elemkind
        copy(from);
      }
      const items = c.u32();
      out.push(...leb(items));
      for (let i = 0; i < items; i++) out.push(...leb(shift(c.u32())));
    }
  }
  return out;
}
