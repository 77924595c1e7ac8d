// The pairs encoding of whole header maps: u32 count, a (u32 name length, u32 value length)
// per pair, then each name and value followed by NUL. Serialized in one pass into one buffer.
import type { HeaderList } from "./types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function serializePairs(pairs: HeaderList): Uint8Array {
  let size = 4 + pairs.length * 8;
  const encoded: Uint8Array[] = new Array(pairs.length * 2);
  for (let i = 0; i < pairs.length; i++) {
    const name = encoder.encode(pairs[i][0]);
    const value = encoder.encode(pairs[i][1]);
    encoded[2 * i] = name;
    encoded[2 * i + 1] = value;
    size += name.length + value.length + 2;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, pairs.length, true);
  let at = 4 + pairs.length * 8;
  for (let i = 0; i < pairs.length; i++) {
    const name = encoded[2 * i], value = encoded[2 * i + 1];
    view.setUint32(4 + i * 8, name.length, true);
    view.setUint32(8 + i * 8, value.length, true);
    out.set(name, at);
    at += name.length + 1; // NUL already 0
    out.set(value, at);
    at += value.length + 1;
  }
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
