// Random bytes from the host's WASI `random_get` (Envoy and this host supply it, from the
// operating system's cryptographic source). Only a module that calls these imports it.
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "random_get")
declare function random_get(buf: usize, len: usize): u16;

const WORD: usize = memory.data(8, 8);

function fill(ptr: usize, length: usize): void {
  if (length == 0) return;
  const errno = random_get(ptr, length);
  // Zeros passed off as randomness would be worse than a failed stream: fail loudly.
  if (errno != 0) throw new Error(`random_get failed with WASI errno ${errno}`);
}

export namespace random {
  /** `length` cryptographically random bytes. Traps (failing the stream) if the host cannot give them. */
  export function bytes(length: i32): ArrayBuffer {
    const out = new ArrayBuffer(length);
    fill(changetype<usize>(out), <usize>length);
    return out;
  }
  export function uint32(): u32 {
    fill(WORD, 4);
    return load<u32>(WORD);
  }
  export function uint64(): u64 {
    fill(WORD, 8);
    return load<u64>(WORD);
  }
}
