// Bytes a host function may read and edit: a body a filter holds, a TCP direction's data, a
// callout's body. Appending keeps the chunks as they came (no copy): a filter that buffers a
// body of n chunks costs no copying until the bytes are wanted whole, where one array of
// them all (the old way, a new array per chunk) copied the body n times over. A module reads
// a range straight from the chunks into its memory; an edit (Envoy's copyFrom) copies only
// the module's bytes. The host never writes into a chunk it holds.

const EMPTY = new Uint8Array(0);

/** A copy of `bytes` the host may keep (not zero-filled before the copy; small ones share a pool's slab). */
export function copyOf(bytes: Uint8Array): Uint8Array {
  const copy = Buffer.allocUnsafe(bytes.length);
  copy.set(bytes);
  return copy;
}

export class ByteBuffer {
  /** Every byte when `more` is null, else the first chunk. */
  private head: Uint8Array;
  /** Chunks appended after `head`, joined only when the bytes are wanted as one array. */
  private more: Uint8Array[] | null = null;
  /** Bytes held. */
  length: number;

  constructor(data: Uint8Array = EMPTY) {
    this.head = data;
    this.length = data.length;
  }

  /** Every byte as one array (the chunks joined once, then kept joined). */
  get data(): Uint8Array {
    if (this.more === null) return this.head;
    const joined = new Uint8Array(this.length);
    this.copyTo(joined, 0, 0, this.length);
    this.hold(joined);
    return joined;
  }

  /** Holds `data` alone (not copied: the caller gives it up). */
  private hold(data: Uint8Array): void {
    this.head = data;
    this.more = null;
    this.length = data.length;
  }

  /** Adds `data` at the end (not copied). */
  append(data: Uint8Array): void {
    if (data.length === 0) return;
    if (this.length === 0) this.head = data;
    else (this.more ??= []).push(data);
    this.length += data.length;
  }

  /** Every byte as one array, and the buffer emptied. */
  take(): Uint8Array {
    const data = this.data;
    this.hold(EMPTY);
    return data;
  }

  /** Copies bytes [start, end) into `out` at `at`. */
  copyTo(out: Uint8Array, at: number, start: number, end: number): void {
    if (this.more === null) {
      out.set(this.head.subarray(start, end), at);
      return;
    }
    let offset = 0; // where the current chunk starts in the buffer
    for (let i = -1; i < this.more.length && offset < end; i++) {
      const chunk = i < 0 ? this.head : this.more[i];
      const from = Math.max(start - offset, 0), to = Math.min(end - offset, chunk.length);
      if (from < to) {
        out.set(chunk.subarray(from, to), at);
        at += to - from;
      }
      offset += chunk.length;
    }
  }

  /**
   * Envoy's Buffer::copyFrom, as proxy_set_buffer_bytes does it: start 0 drains `length`
   * bytes, then prepends (so (0, 0) prepends and (0, ≥ size) replaces); start ≥ size
   * appends; anything else is refused (false). `data` is not copied.
   */
  edit(start: number, length: number, data: Uint8Array): boolean {
    if (start === 0) {
      if (length >= this.length) {
        this.hold(data);
        return true;
      }
      const rest = this.takeChunks();
      dropFront(rest, length);
      this.hold(data);
      for (const chunk of rest) this.append(chunk);
      return true;
    }
    if (start >= this.length) {
      this.append(data);
      return true;
    }
    return false;
  }

  /** The chunks held, the buffer emptied. */
  private takeChunks(): Uint8Array[] {
    const chunks = this.length === 0 ? [] : [this.head, ...(this.more ?? [])];
    this.hold(EMPTY);
    return chunks;
  }
}

/** Removes the first `count` bytes of `chunks` in place (the chunk it ends in becomes a view of its rest). */
function dropFront(chunks: Uint8Array[], count: number): void {
  while (count > 0 && chunks.length) {
    if (chunks[0].length <= count) count -= chunks.shift()!.length;
    else {
      chunks[0] = chunks[0].subarray(count);
      count = 0;
    }
  }
}
