// Header maps (request/response headers and trailers, and later callout and gRPC metadata),
// and the pairs encoding the ABI uses for whole maps: u32 count, then a (u32 name length,
// u32 value length) per pair, then each name and value followed by a NUL byte.
import {
  proxy_add_header_map_value, proxy_get_header_map_pairs, proxy_get_header_map_size, proxy_get_header_map_value,
  proxy_remove_header_map_value, proxy_replace_header_map_value, proxy_set_header_map_pairs,
} from "./abi/imports";
import { HeaderMapType, Status } from "./abi/types";
import { OUT_LEN, OUT_PTR, clearOut, scratchLength, takeBytes, takeString, toScratch, utf8 } from "./abi/memory";

/**
 * `text` with A-Z lowercased and every other character kept: how header names (ASCII) compare.
 * String#toLowerCase does the same for ASCII but links the Unicode case tables, about 5 KB.
 */
export function lowerAscii(text: string): string {
  const length = text.length;
  let i = 0;
  while (i < length && !isUpperAscii(text.charCodeAt(i))) i++;
  if (i == length) return text;
  // @ts-ignore: AssemblyScript runtime builtin
  const out = changetype<string>(__new(<usize>length << 1, idof<string>()));
  const from = changetype<usize>(text);
  const to = changetype<usize>(out);
  memory.copy(to, from, <usize>i << 1);
  for (; i < length; i++) {
    const c = load<u16>(from + (<usize>i << 1));
    store<u16>(to + (<usize>i << 1), isUpperAscii(c) ? c | 0x20 : c);
  }
  return out;
}

// @ts-ignore: decorator
@inline function isUpperAscii(c: i32): bool { return <u32>(c - 0x41) < 26; }

/**
 * `text` without the spaces and tabs around it: HTTP's optional whitespace (RFC 9110 §5.6.3).
 * String#trim takes Unicode's other spaces and line breaks too, in about 260 bytes of module.
 */
export function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  return text.substring(start, end);
}

// @ts-ignore: decorator
@inline function isOws(c: i32): bool { return c == 0x20 || c == 0x09; }

/**
 * The items of a comma-separated header value (RFC 9110 §5.6.1), each without the space
 * around it, empty ones left out: `a, b,,c ` → ["a", "b", "c"]. What String#split and trim
 * would give, in less module.
 */
export function listItems(value: string): string[] {
  const items = new Array<string>();
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(",", start);
    if (end < 0) end = value.length;
    const item = trimOws(value.substring(start, end));
    if (item.length > 0) items.push(item);
    start = end + 1;
  }
  return items;
}

export class Header {
  constructor(public name: string, public value: string) {}
}

/**
 * A header whose name and value are encoded (UTF-8) once, for a filter that sets the same
 * header on every stream: HeaderMap.addEncoded / replaceEncoded hand the bytes to the host
 * with no conversion per call.
 */
export class EncodedHeader {
  readonly name: ArrayBuffer;
  readonly value: ArrayBuffer;
  constructor(name: string, value: string) {
    this.name = utf8(name);
    this.value = utf8(value);
  }
}

/** Encodes pairs in the ABI's pairs format. */
export function serializePairs(pairs: Header[]): ArrayBuffer {
  const count = pairs.length;
  let size = 4 + count * 8;
  for (let i = 0; i < count; i++) {
    const pair = pairs[i];
    size += String.UTF8.byteLength(pair.name) + String.UTF8.byteLength(pair.value) + 2;
  }
  const out = new ArrayBuffer(size); // (zeroed: the NULs are there)
  const base = changetype<usize>(out);
  store<u32>(base, count);
  let data = base + 4 + <usize>count * 8;
  for (let i = 0; i < count; i++) {
    const pair = pairs[i];
    data = encodeAt(pair.name, base + 4 + <usize>i * 8, data) + 1;
    data = encodeAt(pair.value, base + 8 + <usize>i * 8, data) + 1;
  }
  return out;
}

/** Writes `text` in UTF-8 at `data` and its length in bytes at `lengthAt`; answers where it ends. */
function encodeAt(text: string, lengthAt: usize, data: usize): usize {
  const length = String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, data);
  store<u32>(lengthAt, <u32>length);
  return data + length;
}

/** Decodes the pairs format; a truncated or inconsistent encoding yields the pairs read so far. */
export function deserializePairs(bytes: ArrayBuffer): Header[] {
  const pairs = new Array<Header>();
  const size = <usize>bytes.byteLength;
  if (size < 4) return pairs;
  const base = changetype<usize>(bytes);
  const count = <usize>load<u32>(base);
  const lengths: usize = 4 + count * 8;
  if (lengths > size) return pairs;
  let data = base + lengths;
  const end = base + size;
  for (let i: usize = 0; i < count; i++) {
    const nameLen = <usize>load<u32>(base + 4 + i * 8);
    const valueLen = <usize>load<u32>(base + 8 + i * 8);
    if (data + nameLen + valueLen + 2 > end) break;
    const name = String.UTF8.decodeUnsafe(data, nameLen);
    data += nameLen + 1;
    const value = String.UTF8.decodeUnsafe(data, valueLen);
    data += valueLen + 1;
    pairs.push(new Header(name, value));
  }
  return pairs;
}

/** One of the host's header maps, acting on the current stream. Names are case-insensitive. */
export class HeaderMap {
  constructor(private mapType: HeaderMapType) {}

  /** The value of `name` (several values joined as the host joins them), or null when absent. */
  get(name: string): string | null {
    return this.lookup(name) ? takeString() : null;
  }

  /** The value of `name` as the host holds it (UTF-8), not decoded, or null when absent: to compare or copy bytes. */
  getBytes(name: string): ArrayBuffer | null {
    return this.lookup(name) ? takeBytes() : null;
  }

  /** Whether the map holds `name`; its value is not decoded. */
  has(name: string): bool {
    if (!this.lookup(name)) return false;
    const ptr = load<usize>(OUT_PTR);
    if (ptr != 0) heap.free(ptr);
    return true;
  }

  /** Asks the host for `name`'s value: true when it handed one over (at OUT_PTR/OUT_LEN). */
  private lookup(name: string): bool {
    const key = toScratch(0, name), keyLen = scratchLength;
    clearOut();
    return proxy_get_header_map_value(this.mapType, key, keyLen, OUT_PTR, OUT_LEN) == Status.Ok;
  }

  /** Every pair, in order (a name may appear more than once). */
  getAll(): Header[] {
    clearOut();
    if (proxy_get_header_map_pairs(this.mapType, OUT_PTR, OUT_LEN) != Status.Ok) return [];
    return deserializePairs(takeBytes());
  }

  /** Adds a value, keeping any already there. */
  add(name: string, value: string): void {
    const key = toScratch(0, name), keyLen = scratchLength;
    const val = toScratch(1, value), valLen = scratchLength;
    proxy_add_header_map_value(this.mapType, key, keyLen, val, valLen);
  }

  /** Sets `name` to this one value, adding it when absent. */
  replace(name: string, value: string): void {
    const key = toScratch(0, name), keyLen = scratchLength;
    const val = toScratch(1, value), valLen = scratchLength;
    proxy_replace_header_map_value(this.mapType, key, keyLen, val, valLen);
  }

  /** add(), with the name and value encoded once beforehand. */
  addEncoded(header: EncodedHeader): void {
    proxy_add_header_map_value(this.mapType, changetype<usize>(header.name), header.name.byteLength, changetype<usize>(header.value), header.value.byteLength);
  }

  /** replace(), with the name and value encoded once beforehand. */
  replaceEncoded(header: EncodedHeader): void {
    proxy_replace_header_map_value(this.mapType, changetype<usize>(header.name), header.name.byteLength, changetype<usize>(header.value), header.value.byteLength);
  }

  /** Removes every value of `name`. */
  remove(name: string): void {
    const key = toScratch(0, name), keyLen = scratchLength;
    proxy_remove_header_map_value(this.mapType, key, keyLen);
  }

  /** Replaces the whole map with `pairs`. */
  setAll(pairs: Header[]): void {
    const bytes = serializePairs(pairs);
    proxy_set_header_map_pairs(this.mapType, changetype<usize>(bytes), bytes.byteLength);
  }

  /** How many pairs the map holds (a repeated name counts once per value); 0 when the map is not available now. */
  size(): u32 {
    clearOut();
    if (proxy_get_header_map_pairs(this.mapType, OUT_PTR, OUT_LEN) != Status.Ok) return 0;
    // Only the count at the head of the encoding is needed: read it and free the block undecoded.
    const ptr = load<usize>(OUT_PTR);
    if (ptr == 0) return 0;
    const count = load<u32>(OUT_LEN) >= 4 ? load<u32>(ptr) : 0;
    heap.free(ptr);
    return count;
  }

  /**
   * The bytes of every name and value in the map together, as Envoy's host answers
   * proxy_get_header_map_size (not a count of pairs: use size(), or the count a
   * headers callback receives). 0 when the map is not available now.
   */
  byteSize(): u32 {
    store<u32>(OUT_PTR, 0);
    return proxy_get_header_map_size(this.mapType, OUT_PTR) == Status.Ok ? load<u32>(OUT_PTR) : 0;
  }
}
