// Find, replace and split on bytes, for bodies and TCP data: the bytes the host hands over
// are searched, rewritten and cut as they are, with no detour through a UTF-16 string. UTF-8 text
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

/** Bytes appended one run after another into one buffer that grows by doubling (kept for reuse). */
export class Output {
  buffer: Uint8Array = new Uint8Array(0);
  /** buffer.length, kept here: the getter is a call at the release options. */
  private capacity: i32 = 0;
  length: i32 = 0;
  /** A rule matched since the last reset: what is here replaces the input. */
  active: bool = false;

  /** Empties it, keeping its room (at least `capacity` bytes from the first write). */
  reset(capacity: i32): void {
    this.length = 0;
    this.active = false;
    if (this.capacity < capacity) this.allocate(capacity);
  }

  /** Appends `length` bytes from `from`. */
  // @ts-ignore: decorator
  @inline
  write(from: usize, length: i32): void {
    const needed = this.length + length;
    if (needed > this.capacity) this.grow(needed);
    copyBytes(this.buffer.dataStart + <usize>this.length, from, length);
    this.length = needed;
  }

  private allocate(capacity: i32): void {
    this.buffer = new Uint8Array(capacity);
    this.capacity = capacity;
  }

  private grow(needed: i32): void {
    const old = this.buffer;
    this.allocate(max(needed, this.capacity << 1));
    memory.copy(this.buffer.dataStart, old.dataStart, <usize>this.length);
  }

  take(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

/**
 * Copies `length` bytes: up to 32 (a replacement, most often) in place 16, 8, 4, then 1 byte
 * at a time (each loop turn also pays the deadline's tick), longer ones by memory.copy, whose
 * call out of the module's code costs less than that from about 32 bytes on (measured).
 */
// @ts-ignore: decorator
@inline
function copyBytes(to: usize, from: usize, length: i32): void {
  if (length > 32) {
    memory.copy(to, from, <usize>length);
    return;
  }
  let i = 0;
  for (; i + 16 <= length; i += 16) {
    store<u64>(to + <usize>i, load<u64>(from + <usize>i));
    store<u64>(to + <usize>i, load<u64>(from + <usize>i, 8), 8);
  }
  if (i + 8 <= length) {
    store<u64>(to + <usize>i, load<u64>(from + <usize>i));
    i += 8;
  }
  if (i + 4 <= length) {
    store<u32>(to + <usize>i, load<u32>(from + <usize>i));
    i += 4;
  }
  for (; i < length; i++) store<u8>(to + <usize>i, load<u8>(from + <usize>i));
}

/** Whether the `n` bytes at `a` and `b` are the same: 8, then 4, then 1 at a time. */
// @ts-ignore: decorator
@inline
function sameBytes(a: usize, b: usize, n: i32): bool {
  let k = 0;
  for (; k + 8 <= n; k += 8) if (load<u64>(a + <usize>k) != load<u64>(b + <usize>k)) return false;
  if (k + 4 <= n) {
    if (load<u32>(a + <usize>k) != load<u32>(b + <usize>k)) return false;
    k += 4;
  }
  for (; k < n; k++) if (load<u8>(a + <usize>k) != load<u8>(b + <usize>k)) return false;
  return true;
}

/** No bytes: what a replacer holds when it holds nothing. */
const NOTHING = new Uint8Array(0);

/** Where Body.rewrite puts what a Replacer gives: one buffer for every stream, reused (the host copies it at once). */
const REWRITTEN = new Output();
/** Where Body.rewrite joins held-back bytes with the next chunk, reused likewise. */
const JOINED = new Output();

/** The rules' bytes as the scan reads them: per rule its find and replacement, pointer and length. */
const FIND_PTR = 0, FIND_LEN = 1, REPLACE_PTR = 2, REPLACE_LEN = 3, RULE_WORDS = 4;

/**
 * Find → replace rules applied to a stream of chunks in one pass, each byte looked at once.
 * A match may straddle two chunks: push() holds back the last bytes of a chunk that could
 * start one (fewer than the longest `find`) and puts them in front of the next. At each
 * position the first rule that matches wins, and the scan goes on after it.
 *
 * The scan is the hot path of a rewriting filter: it runs on raw memory with the rules
 * flattened into words (the compiler does not inline array getters at the release options),
 * skips 8 bytes at a time when every rule begins with the same byte, and tries at a position
 * only the rules that begin with its byte, in their order.
 */
export class Replacer {
  private finds: Uint8Array[] = [];
  private replacements: Uint8Array[] = [];
  private longest: i32 = 0;
  /** Per byte: 1 + the first rule that begins with it, 0 for none. */
  private firstRule: StaticArray<i32> = new StaticArray<i32>(256);
  /** Per rule: 1 + the next rule that begins with the same byte, 0 for none. */
  private nextRule: StaticArray<i32> = new StaticArray<i32>(0);
  /** RULE_WORDS words per rule (the arrays above keep the bytes alive). */
  private rules: StaticArray<usize> = new StaticArray<usize>(0);
  /** The byte every rule begins with, or -1 when they begin with different bytes. */
  private onlyStart: i32 = -1;
  private held: Uint8Array = NOTHING;
  /** Replacements made so far. */
  count: u32 = 0;

  /** Adds a rule (text as UTF-8); an empty `find` is refused (it would match everywhere). */
  add(find: string, replace: string): Replacer {
    return this.addBytes(utf8Bytes(find), utf8Bytes(replace));
  }

  addBytes(find: Uint8Array, replace: Uint8Array): Replacer {
    assert(find.length > 0, "Replacer: an empty find matches everywhere");
    const index = this.finds.length;
    this.finds.push(find);
    this.replacements.push(replace);
    if (find.length > this.longest) this.longest = find.length;
    const rules = new StaticArray<usize>((index + 1) * RULE_WORDS);
    const next = new StaticArray<i32>(index + 1);
    for (let i = 0; i < index * RULE_WORDS; i++) rules[i] = this.rules[i];
    for (let i = 0; i < index; i++) next[i] = this.nextRule[i];
    rules[index * RULE_WORDS + FIND_PTR] = find.dataStart;
    rules[index * RULE_WORDS + FIND_LEN] = <usize>find.length;
    rules[index * RULE_WORDS + REPLACE_PTR] = replace.dataStart;
    rules[index * RULE_WORDS + REPLACE_LEN] = <usize>replace.length;
    // Last in its byte's chain, so rules are tried in the order they were added.
    const first = <i32>find[0];
    if (this.firstRule[first] == 0) this.firstRule[first] = index + 1;
    else {
      let r = this.firstRule[first] - 1;
      while (next[r] != 0) r = next[r] - 1;
      next[r] = index + 1;
    }
    this.rules = rules;
    this.nextRule = next;
    this.onlyStart = index == 0 || this.onlyStart == first ? first : -1;
    return this;
  }

  /** A new replacer with the same rules and nothing held: one per stream. */
  fresh(): Replacer {
    const r = new Replacer();
    r.finds = this.finds;
    r.replacements = this.replacements;
    r.longest = this.longest;
    r.firstRule = this.firstRule;
    r.nextRule = this.nextRule;
    r.rules = this.rules;
    r.onlyStart = this.onlyStart;
    return r;
  }

  /** Whether a match could start at data[at] (as far as the data goes): the next push decides. */
  private startsMatch(data: usize, size: i32, at: i32): bool {
    const rest = size - at;
    for (let r = 0; r < this.finds.length; r++) {
      const find = unchecked(this.finds[r]);
      if (memory.compare(data + <usize>at, find.dataStart, <usize>min(rest, find.length)) == 0) return true;
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
    this.pushAt(chunk.dataStart, chunk.length, end);
    if (this.readyStart == chunk.dataStart) return this.readyLength == chunk.length ? chunk : chunk.subarray(0, this.readyLength);
    // Ready in a buffer the next call reuses: a copy the caller may keep.
    const out = new Uint8Array(this.readyLength);
    memory.copy(out.dataStart, this.readyStart, <usize>this.readyLength);
    return out;
  }

  /**
   * push() on a body chunk in the module's memory (`size` bytes at `start`, such as the block
   * the host handed over): what is ready is left in `readyStart`/`readyLength`, in that
   * block, or in a buffer shared by every replacer and valid until the next call. Answers
   * false when what is ready is the chunk itself, unchanged.
   */
  pushAt(start: usize, size: i32, end: bool): bool {
    let data = start, length = size;
    const held = this.held;
    if (held.length) {
      JOINED.reset(held.length + size);
      JOINED.write(held.dataStart, held.length);
      JOINED.write(start, size);
      data = JOINED.buffer.dataStart;
      length = JOINED.length;
      this.held = NOTHING;
    }
    REWRITTEN.reset(0);
    const through = this.scan(data, length, end, REWRITTEN);
    if (REWRITTEN.active) {
      this.readyStart = REWRITTEN.buffer.dataStart;
      this.readyLength = REWRITTEN.length;
      return true;
    }
    this.readyStart = data;
    this.readyLength = through;
    return data != start || through != length;
  }

  /** Where pushAt() left the bytes ready to go on. */
  readyStart: usize = 0;
  readyLength: i32 = 0;

  /**
   * The scan over `size` bytes at `data` (what was held back already in front): writes to
   * `out` from the first match on (`out.active`), holds back the tail that could start a
   * match (unless `end`), and answers how many bytes are ready (without a match, the first
   * ones of `data` as they are).
   */
  private scan(data: usize, size: i32, end: bool, out: Output): i32 {
    // A match must start before `limit` to be sure it is whole: past it, bytes wait for more.
    const limit = end ? size : max(0, size - this.longest + 1);
    const firstRule = changetype<usize>(this.firstRule);
    const nextRule = changetype<usize>(this.nextRule);
    const rules = changetype<usize>(this.rules);
    const only = this.onlyStart;
    // The one start byte in every lane: a lane equal to it is a zero lane of `word ^ pattern`.
    const pattern: u64 = only >= 0 ? <u64>only * 0x0101010101010101 : 0;
    let copied = 0, i = 0;
    while (i < limit) {
      // Skip to the next byte some rule begins with.
      if (only >= 0) {
        // 16 bytes a turn (a loop turn also pays the deadline's tick), then 8.
        while (i + 16 <= limit) {
          const x = load<u64>(data + <usize>i) ^ pattern;
          const y = load<u64>(data + <usize>i, 8) ^ pattern;
          const zx = (x - 0x0101010101010101) & ~x & 0x8080808080808080;
          const zy = (y - 0x0101010101010101) & ~y & 0x8080808080808080;
          if ((zx | zy) != 0) break;
          i += 16;
        }
        while (i + 8 <= limit) {
          const x = load<u64>(data + <usize>i) ^ pattern;
          const zeros = (x - 0x0101010101010101) & ~x & 0x8080808080808080;
          if (zeros != 0) {
            i += <i32>(ctz(zeros) >> 3); // the lowest flagged lane is exact
            break;
          }
          i += 8;
        }
        if (i >= limit) break;
      }
      const byte = <usize>load<u8>(data + <usize>i);
      let r = load<i32>(firstRule + (byte << 2)) - 1;
      if (r < 0) {
        i++;
        continue;
      }
      // The rules beginning with this byte, in order: the first whose find is here wins.
      let matched = -1;
      while (r >= 0) {
        const rule = rules + (<usize>r * RULE_WORDS << alignof<usize>());
        const find = load<usize>(rule, FIND_PTR << alignof<usize>());
        const n = <i32>load<usize>(rule, FIND_LEN << alignof<usize>());
        if (i + n <= size && sameBytes(data + <usize>i, find, n)) {
          matched = r;
          break;
        }
        r = load<i32>(nextRule + (<usize>r << 2)) - 1;
      }
      if (matched < 0) {
        i++;
        continue;
      }
      if (!out.active) {
        out.reset(size + 64);
        out.active = true;
      }
      const rule = rules + (<usize>matched * RULE_WORDS << alignof<usize>());
      out.write(data + <usize>copied, i - copied);
      out.write(load<usize>(rule, REPLACE_PTR << alignof<usize>()), <i32>load<usize>(rule, REPLACE_LEN << alignof<usize>()));
      i += <i32>load<usize>(rule, FIND_LEN << alignof<usize>());
      copied = i;
      this.count++;
    }
    // Of the last bytes, hold back only from the first that could start a match.
    let through = max(i, limit);
    while (through < size && !this.startsMatch(data, size, through)) through++;
    if (through < size) {
      const held = new Uint8Array(size - through);
      memory.copy(held.dataStart, data + <usize>through, <usize>(size - through));
      this.held = held;
    }
    if (out.active) out.write(data + <usize>copied, through - copied);
    return through;
  }
}

/**
 * A stream of chunks cut into records at a delimiter (a line at each "\n", an event at each
 * "\n\n"): push() each chunk, then next() steps through the records complete so far. A record
 * or a delimiter split across chunks is joined: the bytes after the last delimiter wait for
 * the next push, and with `end` they are the last record. Records are views, valid until the
 * next push; what waits is kept in one buffer that grows by doubling, so a long record costs
 * linear copying however many chunks it spans.
 */
export class Splitter {
  private delimiter: Uint8Array;
  /** This round's bytes: what waited, then the chunk (the chunk itself when nothing waited). */
  private data: Uint8Array = NOTHING;
  /** Where the next record starts in `data`. */
  private cursor: i32 = 0;
  /** No delimiter starts in `data` before here. */
  private searched: i32 = 0;
  private end: bool = false;
  /** Where `data` starts in the stream. */
  private base: u64 = 0;
  /** The bytes that waited, joined with the next chunk; `data` is a view of it when inUse. */
  private waiting: Output = new Output();
  private inUse: bool = false;

  /** The current record, without its delimiter (a view: copy it to keep it past the next push). */
  record: Uint8Array = NOTHING;
  /** Where the current record starts in the stream: bytes pushed before it. */
  offset: u64 = 0;
  /** Whether the current record ended at a delimiter (false for the stream's last record when no delimiter ended it). */
  delimited: bool = false;
  /** Records given so far. */
  count: u32 = 0;

  /** Cuts at `delimiter` (text as UTF-8; `bytes`, when given, instead); an empty one is refused. */
  constructor(delimiter: string, bytes: Uint8Array | null = null) {
    this.delimiter = bytes != null ? bytes : utf8Bytes(delimiter);
    assert(this.delimiter.length > 0, "Splitter: an empty delimiter cuts nowhere");
  }

  /** Cuts at `delimiter`'s bytes. */
  static bytes(delimiter: Uint8Array): Splitter {
    return new Splitter("", delimiter);
  }

  /** A new splitter with the same delimiter and nothing pushed: one per stream. */
  fresh(): Splitter {
    return Splitter.bytes(this.delimiter);
  }

  /** Bytes pushed but not yet given as a record: a record still waiting for its delimiter. */
  get holding(): i32 {
    return this.data.length - this.cursor;
  }

  /** Adds the next chunk (`end`: the stream's last); records next() had not reached are kept. */
  push(chunk: Uint8Array, end: bool): void {
    const rest = this.data.length - this.cursor;
    const delimiter = this.delimiter.length;
    this.base += <u64>this.cursor;
    if (rest == 0) {
      this.data = chunk;
      this.searched = 0;
      this.inUse = false;
    } else {
      // The waiting bytes to the front of the buffer (they may already be in it), then the chunk.
      const waiting = this.waiting;
      const from = this.data.dataStart + <usize>this.cursor;
      if (this.inUse) {
        memory.copy(waiting.buffer.dataStart, from, <usize>rest);
        waiting.length = rest;
      } else {
        waiting.reset(rest + chunk.length);
        waiting.write(from, rest);
      }
      waiting.write(chunk.dataStart, chunk.length);
      this.data = waiting.take();
      // The waiting bytes held no whole delimiter: only one that ends in the chunk is new.
      this.searched = max(0, min(this.searched - this.cursor, rest - delimiter + 1));
      this.inUse = true;
    }
    this.cursor = 0;
    this.end = end;
  }

  /** Steps to the next complete record (`record`, `offset`, `delimited`); false when none is complete yet. */
  next(): bool {
    const data = this.data;
    const cursor = this.cursor;
    const at = indexOf(data, this.delimiter, max(cursor, this.searched));
    if (at >= 0) {
      this.give(cursor, at, true);
      this.cursor = at + this.delimiter.length;
      this.searched = this.cursor;
      return true;
    }
    this.searched = max(cursor, data.length - this.delimiter.length + 1);
    if (this.end && cursor < data.length) {
      this.give(cursor, data.length, false);
      this.cursor = data.length;
      return true;
    }
    this.record = NOTHING;
    return false;
  }

  private give(start: i32, end: i32, delimited: bool): void {
    this.record = this.data.subarray(start, end);
    this.offset = this.base + <u64>start;
    this.delimited = delimited;
    this.count++;
  }
}
