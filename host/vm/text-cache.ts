// Short texts decoded from a module's memory, remembered by where they were. A filter hands
// the host the same header names and values on every stream (its own constants, at the same
// addresses), and decoding UTF-8 through Buffer costs a call into C++ (~90 ns even for ten
// bytes), where comparing a few bytes with the ones decoded last time costs a few. A set of two
// slots per hash of (pointer, length), no map to churn: a hit is the same bytes at the same
// place, checked byte by byte; anything else is decoded and takes the set's older slot. Two
// ways, because several plugins in one VM hand over the same texts from several places: four
// add-header filters' sixteen constants thrashed a one-way table of 64 (docs/performance.md).

const SETS = 128;
/** Longer texts are decoded every time (the comparison would cost what decoding saves). */
const MAX_LENGTH = 64;

export class TextCache {
  /** Slot 2s and 2s+1 are set s's. */
  private readonly pointers = new Int32Array(2 * SETS).fill(-1);
  private readonly bytes: Uint8Array[] = Array.from({ length: 2 * SETS }, () => new Uint8Array(0));
  private readonly texts: string[] = new Array<string>(2 * SETS).fill("");
  /** Per set, the slot (0 or 1) a miss replaces: the one not hit last. */
  private readonly older = new Uint8Array(SETS);

  /** The UTF-8 text of `length` bytes at `ptr` of `memory` (in bounds). */
  decode(memory: Buffer, ptr: number, length: number): string {
    if (length > MAX_LENGTH) return memory.toString("utf8", ptr, ptr + length);
    const set = ((ptr >>> 2) ^ (ptr >>> 9) ^ length) & (SETS - 1);
    const first = 2 * set;
    if (this.matches(first, memory, ptr, length)) {
      this.older[set] = 1;
      return this.texts[first];
    }
    if (this.matches(first + 1, memory, ptr, length)) {
      this.older[set] = 0;
      return this.texts[first + 1];
    }
    const slot = first + this.older[set];
    this.older[set] ^= 1;
    const text = memory.toString("utf8", ptr, ptr + length);
    this.pointers[slot] = ptr;
    this.bytes[slot] = Uint8Array.prototype.slice.call(memory, ptr, ptr + length);
    this.texts[slot] = text;
    return text;
  }

  private matches(slot: number, memory: Buffer, ptr: number, length: number): boolean {
    const seen = this.bytes[slot];
    if (this.pointers[slot] !== ptr || seen.length !== length) return false;
    let i = 0;
    while (i < length && memory[ptr + i] === seen[i]) i++;
    return i === length;
  }
}
