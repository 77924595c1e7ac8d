// Short texts decoded from a module's memory, remembered by where they were. A filter hands
// the host the same header names and values on every stream (its own constants, at the same
// addresses), and decoding UTF-8 through Buffer costs a call into C++ (~90 ns even for ten
// bytes), where comparing a few bytes with the ones decoded last time costs a few. One slot
// per hash of (pointer, length), no map to churn: a hit is the same bytes at the same place,
// checked byte by byte; anything else is decoded and takes the slot.

const SLOTS = 64;
/** Longer texts are decoded every time (the comparison would cost what decoding saves). */
const MAX_LENGTH = 64;

export class TextCache {
  private readonly pointers = new Int32Array(SLOTS).fill(-1);
  private readonly bytes: Uint8Array[] = Array.from({ length: SLOTS }, () => new Uint8Array(0));
  private readonly texts: string[] = new Array<string>(SLOTS).fill("");

  /** The UTF-8 text of `length` bytes at `ptr` of `memory` (in bounds). */
  decode(memory: Buffer, ptr: number, length: number): string {
    if (length > MAX_LENGTH) return memory.toString("utf8", ptr, ptr + length);
    const slot = ((ptr >>> 2) ^ (ptr >>> 8) ^ length) & (SLOTS - 1);
    const seen = this.bytes[slot];
    if (this.pointers[slot] === ptr && seen.length === length) {
      let i = 0;
      while (i < length && memory[ptr + i] === seen[i]) i++;
      if (i === length) return this.texts[slot];
    }
    const text = memory.toString("utf8", ptr, ptr + length);
    this.pointers[slot] = ptr;
    this.bytes[slot] = Uint8Array.prototype.slice.call(memory, ptr, ptr + length);
    this.texts[slot] = text;
    return text;
  }
}
