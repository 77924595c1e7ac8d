// The pairs encoding of whole header maps: u32 count, a (u32 name length, u32 value length)
// per pair, then each name and value followed by NUL. Serialized in one pass into one buffer.
import type { HeaderList } from "./types.ts";

const decoder = new TextDecoder();

/** Bytes the pairs encoding of `pairs` takes. */
export function pairsSize(pairs: HeaderList): number {
  let size = 4 + pairs.length * 10; // count; two lengths and two NULs per pair
  for (let i = 0; i < pairs.length; i++) size += Buffer.byteLength(pairs[i][0]) + Buffer.byteLength(pairs[i][1]);
  return size;
}

/** Writes the pairs encoding of `pairs` at `at` in `out` (which has room for pairsSize bytes), in one pass. */
export function writePairs(pairs: HeaderList, out: Buffer, at: number): void {
  out.writeUInt32LE(pairs.length, at);
  let lengths = at + 4;
  let text = lengths + pairs.length * 8;
  for (let i = 0; i < pairs.length; i++) {
    const name = out.write(pairs[i][0], text);
    out[text += name] = 0;
    const value = out.write(pairs[i][1], ++text);
    out[text += value] = 0;
    text++;
    out.writeUInt32LE(name, lengths);
    out.writeUInt32LE(value, lengths + 4);
    lengths += 8;
  }
}

export function serializePairs(pairs: HeaderList): Uint8Array {
  const out = new Uint8Array(pairsSize(pairs));
  writePairs(pairs, Buffer.from(out.buffer), 0);
  return out;
}

/** The pairs in `bytes`, or null when the encoding is inconsistent. */
export function deserializePairs(bytes: Uint8Array): HeaderList | null {
  if (bytes.length === 0) return [];
  if (bytes.length < 4) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  let at = 4 + count * 8;
  if (at > bytes.length) return null;
  const pairs: HeaderList = [];
  for (let i = 0; i < count; i++) {
    const nameLen = view.getUint32(4 + i * 8, true);
    const valueLen = view.getUint32(8 + i * 8, true);
    if (at + nameLen + valueLen + 2 > bytes.length) return null;
    const name = decoder.decode(bytes.subarray(at, at + nameLen));
    at += nameLen + 1;
    const value = decoder.decode(bytes.subarray(at, at + valueLen));
    at += valueLen + 1;
    pairs.push([name, value]);
  }
  return pairs;
}

const FORBIDDEN_IN_HEADERS = /[\r\n\0]/;

/**
 * Texts already found fit for the wire. A filter sets the same names and values on every
 * stream, and the host's text cache hands back the same string each time, whose hash V8
 * keeps: a look-up here costs less than the test. Cleared when full (texts of any size come by).
 */
const FIT = new Set<string>();
const FIT_LIMIT = 1024;

function fitForWire(text: string): boolean {
  if (FIT.has(text)) return true;
  if (FORBIDDEN_IN_HEADERS.test(text)) return false;
  if (FIT.size >= FIT_LIMIT) FIT.clear();
  if (text.length <= 256) FIT.add(text);
  return true;
}

/** Why a header a module sets cannot go on the wire (CR, LF or NUL in its name or value), or null. */
export function invalidHeader(name: string, value: string): string | null {
  if (fitForWire(name) && fitForWire(value)) return null;
  return `header ${JSON.stringify(name)}: ${JSON.stringify(value)} contains CR, LF or NUL`;
}

/** The first invalid pair's reason, or null. */
export function invalidPairs(pairs: HeaderList): string | null {
  for (let i = 0; i < pairs.length; i++) {
    const reason = invalidHeader(pairs[i][0], pairs[i][1]);
    if (reason !== null) return reason;
  }
  return null;
}

/** The pairs with lowercase names, as header maps keep them. */
export function lowercaseNames(pairs: HeaderList): HeaderList {
  return pairs.map(([n, v]): [string, string] => [n.toLowerCase(), v]);
}
