// Byte buffers the host holds: request and response bodies (later TCP data and callout
// bodies). set_buffer_bytes is the one host call for all edits: (start 0, length 0) prepends,
// (0, length ≥ size) replaces, start ≥ size appends.
import { proxy_get_buffer_bytes, proxy_get_buffer_status, proxy_set_buffer_bytes } from "./abi/imports";
import { BufferType, Status } from "./abi/types";
import { OUT_LEN, OUT_PTR, clearOut, takeBytes, utf8 } from "./abi/memory";
import { Replacer, Splitter, indexOf, utf8Bytes } from "./bytes";

export class Body {
  constructor(private bufferType: BufferType) {}

  /** Bytes available now (for a buffered body: everything buffered so far). */
  size(): u32 {
    clearOut();
    return proxy_get_buffer_status(this.bufferType, OUT_PTR, OUT_LEN) == Status.Ok ? load<u32>(OUT_PTR) : 0;
  }

  /** `length` bytes from `start` (clamped to what exists); empty when there is no body. */
  get(start: u32 = 0, length: u32 = u32.MAX_VALUE): ArrayBuffer {
    clearOut();
    if (proxy_get_buffer_bytes(this.bufferType, start, length, OUT_PTR, OUT_LEN) != Status.Ok) return new ArrayBuffer(0);
    return takeBytes();
  }

  /** The same range as bytes (a view over the copy the host handed over: no further copy). */
  bytes(start: u32 = 0, length: u32 = u32.MAX_VALUE): Uint8Array {
    return Uint8Array.wrap(this.get(start, length));
  }

  /** Where `needle` (UTF-8 text) first occurs in the body at or after `from`, or -1; searched as bytes. */
  indexOf(needle: string, from: i32 = 0): i32 {
    return indexOf(this.bytes(), utf8Bytes(needle), from);
  }

  /**
   * Runs this chunk (or this whole buffered body) through `replacer` and puts back what it
   * gives: call it from each body callback with the callback's endOfStream, and a match that
   * straddles two chunks is still found (the replacer holds back the bytes that could start
   * one until the next chunk). Nothing is written back when nothing changed.
   */
  rewrite(replacer: Replacer, endOfStream: bool): void {
    // The chunk is rewritten where the host put it (no copy into a managed buffer first), and
    // what is ready goes back from there or from the replacer's shared output.
    clearOut();
    let start: usize = 0, size: i32 = 0;
    if (proxy_get_buffer_bytes(this.bufferType, 0, u32.MAX_VALUE, OUT_PTR, OUT_LEN) == Status.Ok) {
      start = load<usize>(OUT_PTR);
      size = <i32>load<u32>(OUT_LEN);
    }
    if (replacer.pushAt(start, size, endOfStream)) proxy_set_buffer_bytes(this.bufferType, 0, u32.MAX_VALUE, replacer.readyStart, replacer.readyLength);
    if (start != 0) heap.free(start);
  }

  /**
   * Pushes this chunk (or this whole buffered body) into `splitter` and answers it: call it
   * from each body callback with the callback's endOfStream, then step through the records
   * complete so far with next(). A record or delimiter split across chunks is joined.
   */
  split(splitter: Splitter, endOfStream: bool): Splitter {
    splitter.push(this.bytes(), endOfStream);
    return splitter;
  }

  /** The same range decoded as UTF-8. */
  getText(start: u32 = 0, length: u32 = u32.MAX_VALUE): string {
    return String.UTF8.decode(this.get(start, length));
  }

  replace(text: string): void { this.replaceBytes(utf8(text)); }
  replaceBytes(data: ArrayBuffer): void { this.set(0, u32.MAX_VALUE, data); }
  append(text: string): void { this.appendBytes(utf8(text)); }
  appendBytes(data: ArrayBuffer): void { this.set(u32.MAX_VALUE, 0, data); }
  prepend(text: string): void { this.prependBytes(utf8(text)); }
  prependBytes(data: ArrayBuffer): void { this.set(0, 0, data); }

  /** Replaces `length` bytes at `start` with `data`: the ABI's own edit, for anything else. */
  set(start: u32, length: u32, data: ArrayBuffer): bool {
    return proxy_set_buffer_bytes(this.bufferType, start, length, changetype<usize>(data), data.byteLength) == Status.Ok;
  }

  /** As set(), from a byte view (no copy into an ArrayBuffer first). */
  setBytes(start: u32, length: u32, data: Uint8Array): bool {
    return proxy_set_buffer_bytes(this.bufferType, start, length, data.dataStart, data.length) == Status.Ok;
  }
}
