// Base64 (RFC 4648 §4) and base64url (§5). Encoding writes the string directly (no table is
// built at start: the alphabets are string literals in static data). Decoding is strict, so
// that one value has one spelling (what a signature check over a token needs): a character
// outside the alphabet, misplaced or missing padding, or leftover bits that are not zero all
// give null.
import { utf8 } from "./abi/memory";

// @ts-ignore: decorator
@lazy const STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
// @ts-ignore: decorator
@lazy const URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function encodeWith(data: ArrayBuffer, alphabet: string, pad: bool): string {
  const n = data.byteLength;
  const full = n / 3 * 3;
  const rest = n - full;
  const length = n / 3 * 4 + (rest == 0 ? 0 : pad ? 4 : rest + 1);
  // @ts-ignore: AssemblyScript runtime builtin
  const out = changetype<usize>(__new(<usize>length << 1, idof<string>()));
  const src = changetype<usize>(data);
  const abc = changetype<usize>(alphabet);
  let o = out;
  for (let i = 0; i < full; i += 3) {
    const v = (<u32>load<u8>(src + i) << 16) | (<u32>load<u8>(src + i + 1) << 8) | <u32>load<u8>(src + i + 2);
    store<u16>(o, load<u16>(abc + ((v >> 18) << 1)));
    store<u16>(o + 2, load<u16>(abc + (((v >> 12) & 63) << 1)));
    store<u16>(o + 4, load<u16>(abc + (((v >> 6) & 63) << 1)));
    store<u16>(o + 6, load<u16>(abc + ((v & 63) << 1)));
    o += 8;
  }
  if (rest > 0) {
    const v = (<u32>load<u8>(src + full) << 16) | (rest == 2 ? <u32>load<u8>(src + full + 1) << 8 : 0);
    store<u16>(o, load<u16>(abc + ((v >> 18) << 1)));
    store<u16>(o + 2, load<u16>(abc + (((v >> 12) & 63) << 1)));
    if (rest == 2) store<u16>(o + 4, load<u16>(abc + (((v >> 6) & 63) << 1)));
    else if (pad) store<u16>(o + 4, 0x3d);
    if (pad) store<u16>(o + 6, 0x3d);
  }
  return changetype<string>(out);
}

// The value of one character (0..63), or -1 when it is not in the alphabet.
// @ts-ignore: decorator
@inline function sextet(c: u32, urlSafe: bool): i32 {
  if (c - 0x41 < 26) return <i32>c - 0x41; // A-Z
  if (c - 0x61 < 26) return <i32>c - 0x47; // a-z
  if (c - 0x30 < 10) return <i32>c + 4; // 0-9
  if (c == (urlSafe ? 0x2d : 0x2b)) return 62; // - or +
  if (c == (urlSafe ? 0x5f : 0x2f)) return 63; // _ or /
  return -1;
}

function decodeWith(text: string, urlSafe: bool, padRequired: bool): ArrayBuffer | null {
  let n = text.length;
  let pads = 0;
  while (pads < 2 && n > 0 && text.charCodeAt(n - 1) == 0x3d) { n--; pads++; }
  // With padding the whole is a multiple of 4; without, a lone character can't be.
  if (pads > 0 || padRequired) {
    if ((n + pads) % 4 != 0) return null;
    if (pads > 0 && n % 4 + pads != 4) return null; // "=" only to complete the last group
  }
  if (n % 4 == 1) return null;
  const out = new ArrayBuffer(n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1));
  const dst = changetype<usize>(out);
  const src = changetype<usize>(text);
  let o: usize = 0;
  let acc: u32 = 0;
  for (let i = 0; i < n; i++) {
    const v = sextet(<u32>load<u16>(src + (<usize>i << 1)), urlSafe);
    if (v < 0) return null;
    acc = (acc << 6) | <u32>v;
    if ((i & 3) == 3) {
      store<u8>(dst + o, <u8>(acc >> 16));
      store<u8>(dst + o + 1, <u8>(acc >> 8));
      store<u8>(dst + o + 2, <u8>acc);
      o += 3;
      acc = 0;
    }
  }
  const tail = n % 4;
  if (tail == 2) {
    if ((acc & 0xf) != 0) return null; // bits past the last byte must be zero
    store<u8>(dst + o, <u8>(acc >> 4));
  } else if (tail == 3) {
    if ((acc & 0x3) != 0) return null;
    store<u8>(dst + o, <u8>(acc >> 10));
    store<u8>(dst + o + 1, <u8>(acc >> 2));
  }
  return out;
}

export namespace base64 {
  /** `data` in base64 with padding ("" for no bytes). */
  export function encode(data: ArrayBuffer): string { return encodeWith(data, STANDARD, true); }
  /** The UTF-8 bytes of `text` in base64. */
  export function encodeText(text: string): string { return encode(utf8(text)); }
  /** The bytes `text` spells in base64 (padding required), or null when it is not canonical base64. */
  export function decode(text: string): ArrayBuffer | null { return decodeWith(text, false, true); }
  /** decode, then the bytes as UTF-8 text (invalid sequences become U+FFFD); null as decode. */
  export function decodeText(text: string): string | null {
    const bytes = decode(text);
    return bytes == null ? null : String.UTF8.decode(bytes);
  }
}

export namespace base64url {
  /** `data` in base64url without padding, as JWTs and most URLs carry it. */
  export function encode(data: ArrayBuffer): string { return encodeWith(data, URL_SAFE, false); }
  export function encodeText(text: string): string { return encode(utf8(text)); }
  /** The bytes `text` spells in base64url (padding optional, but correct if present), or null. */
  export function decode(text: string): ArrayBuffer | null { return decodeWith(text, true, false); }
  export function decodeText(text: string): string | null {
    const bytes = decode(text);
    return bytes == null ? null : String.UTF8.decode(bytes);
  }
}
