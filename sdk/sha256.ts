// SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), for checking signed tokens and the like.
// No maintained AssemblyScript library fits (the npm ones ship compiled wasm for JavaScript,
// or target a 2021 compiler): this is checked against the FIPS 180-4 examples, RFC 4231's
// vectors and Node's crypto (tests/batteries.test.ts). The round constants live in static
// data and the message schedule in a static block: nothing is set up at start, and a module
// that hashes nothing links none of it.
import { utf8 } from "./abi/memory";

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
// @ts-ignore: decorator
@lazy const K: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
// §5.3.3: the initial hash value.
// @ts-ignore: decorator
@lazy const IV: usize = memory.data<u32>([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
// §5.1.1: what ends a message (as much of it as the block needs): a 1 bit, then zeros.
// @ts-ignore: decorator
@lazy const PADDING: usize = memory.data<u64>([0x80, 0, 0, 0, 0, 0, 0, 0]);
// @ts-ignore: decorator
@lazy const W: usize = memory.data(64 * 4, 4); // the message schedule of the block being compressed

/** An incremental SHA-256: update() with the message in any pieces, then digest() once. */
export class Sha256 {
  // The hash value (8 words) in the first 32 bytes, the block being filled in the other 64.
  private state: StaticArray<u8> = new StaticArray<u8>(96);
  private filled: i32 = 0;
  private total: u64 = 0;

  constructor() {
    memory.copy(changetype<usize>(this.state), IV, 32);
  }

  update(data: ArrayBuffer): Sha256 {
    return this.updateRaw(changetype<usize>(data), data.byteLength);
  }

  updateText(text: string): Sha256 {
    return this.update(utf8(text));
  }

  private updateRaw(ptr: usize, length: i32): Sha256 {
    this.total += <u64>length;
    const block = changetype<usize>(this.state) + 32;
    let i = 0;
    while (i < length) {
      const take = min(64 - this.filled, length - i);
      memory.copy(block + <usize>this.filled, ptr + <usize>i, <usize>take);
      this.filled += take;
      i += take;
      if (this.filled == 64) {
        this.compress(block);
        this.filled = 0;
      }
    }
    return this;
  }

  /** The 32-byte digest. The object is spent afterwards. */
  digest(): ArrayBuffer {
    const state = changetype<usize>(this.state);
    const bits = this.total * 8;
    // §5.1.1: a 1 bit and zeros up to 56 bytes into a block, then the length in bits as a 64-bit big-endian number.
    this.updateRaw(PADDING, ((119 - this.filled) & 63) + 1);
    store<u64>(state + 32 + 56, bswap<u64>(bits));
    this.compress(state + 32);
    const out = new ArrayBuffer(32);
    for (let i: usize = 0; i < 32; i += 4) store<u32>(changetype<usize>(out) + i, bswap<u32>(load<u32>(state + i)));
    return out;
  }

  // §6.2.2: one 512-bit block.
  private compress(block: usize): void {
    for (let t: usize = 0; t < 16; t++) store<u32>(W + (t << 2), bswap<u32>(load<u32>(block + (t << 2))));
    for (let t: usize = 16; t < 64; t++) {
      const w15 = load<u32>(W + ((t - 15) << 2));
      const w2 = load<u32>(W + ((t - 2) << 2));
      const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
      store<u32>(W + (t << 2), load<u32>(W + ((t - 16) << 2)) + s0 + load<u32>(W + ((t - 7) << 2)) + s1);
    }
    const state = changetype<usize>(this.state);
    let a = load<u32>(state), b = load<u32>(state, 4), c = load<u32>(state, 8), d = load<u32>(state, 12);
    let e = load<u32>(state, 16), f = load<u32>(state, 20), g = load<u32>(state, 24), h = load<u32>(state, 28);
    for (let t: usize = 0; t < 64; t++) {
      const t1 = h + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)) + ((e & f) ^ (~e & g)) + load<u32>(K + (t << 2)) + load<u32>(W + (t << 2));
      const t2 = (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    store<u32>(state, load<u32>(state) + a); store<u32>(state, load<u32>(state, 4) + b, 4);
    store<u32>(state, load<u32>(state, 8) + c, 8); store<u32>(state, load<u32>(state, 12) + d, 12);
    store<u32>(state, load<u32>(state, 16) + e, 16); store<u32>(state, load<u32>(state, 20) + f, 20);
    store<u32>(state, load<u32>(state, 24) + g, 24); store<u32>(state, load<u32>(state, 28) + h, 28);
  }
}

/** The SHA-256 digest (32 bytes) of `data`. */
export function sha256(data: ArrayBuffer): ArrayBuffer {
  return new Sha256().update(data).digest();
}

/** HMAC-SHA-256 (RFC 2104) of `data` under `key` (32 bytes). A key longer than 64 bytes is hashed first. */
export function hmacSha256(key: ArrayBuffer, data: ArrayBuffer): ArrayBuffer {
  const k = key.byteLength > 64 ? sha256(key) : key;
  const inner = new ArrayBuffer(64);
  const outer = new ArrayBuffer(64);
  for (let i = 0; i < 64; i++) {
    const byte: u8 = i < k.byteLength ? load<u8>(changetype<usize>(k) + i) : 0;
    store<u8>(changetype<usize>(inner) + i, byte ^ 0x36);
    store<u8>(changetype<usize>(outer) + i, byte ^ 0x5c);
  }
  const innerDigest = new Sha256().update(inner).update(data).digest();
  return new Sha256().update(outer).update(innerDigest).digest();
}

/**
 * Whether `a` and `b` hold the same bytes, taking as long whatever bytes differ (only the
 * lengths may show): compare a received signature with this, not with a loop that stops early.
 */
export function constantTimeEqual(a: ArrayBuffer, b: ArrayBuffer): bool {
  if (a.byteLength != b.byteLength) return false;
  let diff: u32 = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= load<u8>(changetype<usize>(a) + i) ^ load<u8>(changetype<usize>(b) + i);
  return diff == 0;
}
