// Find and replace on bytes, for bodies and TCP data: the bytes the host hands over are
// searched and rewritten as they are, with no detour through a UTF-16 string. UTF-8 text
// can be searched as bytes: a valid UTF-8 needle matches only at character boundaries.
import { utf8 } from "./abi/memory";

/** `text` as UTF-8 bytes. */
export function utf8Bytes(text: string): Uint8Array {
  return Uint8Array.wrap(utf8(text));
}

/** Where `needle` first occurs in `data` at or after `from`, or -1 (an empty needle is found at `from`). */
export function indexOf(data: Uint8Array, needle: Uint8Array, from: i32 = 0): i32 {
  const n = needle.length;
  if (from < 0) from = 0;
  if (n == 0) return from <= data.length ? from : -1;
  const last = data.length - n;
  const d = data.dataStart, p = needle.dataStart;
  const first = load<u8>(p);
  for (let i = from; i <= last; i++) {
    if (load<u8>(d + <usize>i) == first && memory.compare(d + <usize>i, p, <usize>n) == 0) return i;
  }
  return -1;
}

/** Bytes appended one run after another into one buffer that grows by doubling. */
class Output {
  buffer: Uint8Array;
  length: i32 = 0;
  constructor(capacity: i32) {
    this.buffer = new Uint8Array(max(capacity, 16));
  }
  write(from: usize, length: i32): void {
    if (length <= 0) return;
    const needed = this.length + length;
    if (needed > this.buffer.length) {
      const grown = new Uint8Array(max(needed, this.buffer.length << 1));
      memory.copy(grown.dataStart, this.buffer.dataStart, <usize>this.length);
      this.buffer = grown;
    }
    memory.copy(this.buffer.dataStart + <usize>this.length, from, <usize>length);
    this.length = needed;
  }
  take(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

/**
 * Find → replace rules applied to a stream of chunks in one pass, each byte looked at once.
 * A match may straddle two chunks: push() holds back the last bytes of a chunk that could
 * start one (fewer than the longest `find`) and puts them in front of the next. At each
 * position the first rule that matches wins, and the scan goes on after it.
 */
export class Replacer {
  private finds: Uint8Array[] = [];
  private replacements: Uint8Array[] = [];
  private longest: i32 = 0;
  /** 1 for each byte some find begins with: most bytes are passed with one load. */
  private starts: StaticArray<u8> = new StaticArray<u8>(256);
  private held: Uint8Array = new Uint8Array(0);
  /** Replacements made so far. */
  count: u32 = 0;

  /** Adds a rule (text as UTF-8); an empty `find` is refused (it would match everywhere). */
  add(find: string, replace: string): Replacer {
    return this.addBytes(utf8Bytes(find), utf8Bytes(replace));
  }

  addBytes(find: Uint8Array, replace: Uint8Array): Replacer {
    assert(find.length > 0, "Replacer: an empty find matches everywhere");
    this.finds.push(find);
    this.replacements.push(replace);
    this.starts[find[0]] = 1;
    if (find.length > this.longest) this.longest = find.length;
    return this;
  }

  /** A new replacer with the same rules and nothing held: one per stream. */
  fresh(): Replacer {
    const r = new Replacer();
    r.finds = this.finds;
    r.replacements = this.replacements;
    r.longest = this.longest;
    r.starts = this.starts;
    return r;
  }

  /** Whether a match could start at data[at] (as far as the data goes): the next push decides. */
  private startsMatch(data: Uint8Array, at: i32): bool {
    const rest = data.length - at;
    for (let r = 0; r < this.finds.length; r++) {
      const find = unchecked(this.finds[r]);
      if (memory.compare(data.dataStart + <usize>at, find.dataStart, <usize>min(rest, find.length)) == 0) return true;
    }
    return false;
  }

  /** Bytes held back from the last chunk, waiting for the next. */
  get holding(): i32 {
    return this.held.length;
  }

  /**
   * Rewrites what was held back followed by `chunk`; answers the bytes ready to go on. With
   * `end` nothing is held back. Answers `chunk` itself when nothing changed and nothing is held.
   */
  push(chunk: Uint8Array, end: bool): Uint8Array {
    let data = chunk;
    if (this.held.length) {
      data = new Uint8Array(this.held.length + chunk.length);
      data.set(this.held);
      data.set(chunk, this.held.length);
      this.held = new Uint8Array(0);
    }
    // A match must start before `limit` to be sure it is whole: past it, bytes wait for more.
    const limit = end ? data.length : max(0, data.length - this.longest + 1);
    const start = data.dataStart;
    const finds = this.finds, rules = finds.length;
    const starts = changetype<usize>(this.starts);
    const size = data.length;
    let out: Output | null = null;
    let copied = 0, i = 0;
    while (i < limit) {
      const byte = load<u8>(start + <usize>i);
      if (load<u8>(starts + <usize>byte) == 0) {
        i++;
        continue;
      }
      let matched = -1;
      for (let r = 0; r < rules; r++) {
        const find = unchecked(finds[r]);
        const n = find.length;
        if (load<u8>(find.dataStart) == byte && i + n <= size && memory.compare(start + <usize>i, find.dataStart, <usize>n) == 0) {
          matched = r;
          break;
        }
      }
      if (matched < 0) {
        i++;
        continue;
      }
      if (out == null) out = new Output(data.length + 64);
      out.write(start + <usize>copied, i - copied);
      const replacement = unchecked(this.replacements[matched]);
      out.write(replacement.dataStart, replacement.length);
      i += unchecked(finds[matched]).length;
      copied = i;
      this.count++;
    }
    // Of the last bytes, hold back only from the first that could start a match.
    let through = max(i, limit);
    while (through < data.length && !this.startsMatch(data, through)) through++;
    if (through < data.length) this.held = data.slice(through);
    if (out == null) return copied == 0 && through == data.length ? data : data.subarray(copied, through);
    out.write(start + <usize>copied, through - copied);
    return out.take();
  }
}
