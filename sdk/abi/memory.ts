// Moving bytes across the ABI: memory the host fills (allocated here, copied out, freed) and
// out-parameters. Area helpers use these; authors never see a pointer.

/** Two out-parameter words (pointer, length) the host writes; read them right after the call. */
export const OUT_PTR: usize = memory.data(8, 8);
export const OUT_LEN: usize = OUT_PTR + 4;

/** The allocator the host calls to hand the module a value (`malloc` / `proxy_on_memory_allocate`). */
export function allocateForHost(size: usize): usize {
  // A raw block the collector never moves or reuses until freed below.
  return heap.alloc(size);
}

/** The bytes the host handed over at OUT_PTR/OUT_LEN, copied into a managed buffer; the block is freed. */
export function takeBytes(): ArrayBuffer {
  const ptr = load<usize>(OUT_PTR);
  const len = load<u32>(OUT_LEN);
  const bytes = new ArrayBuffer(len);
  if (ptr != 0) {
    memory.copy(changetype<usize>(bytes), ptr, len);
    heap.free(ptr);
  }
  return bytes;
}

/** The UTF-8 text the host handed over at OUT_PTR/OUT_LEN; the block is freed. */
export function takeString(): string {
  const ptr = load<usize>(OUT_PTR);
  const len = load<u32>(OUT_LEN);
  if (ptr == 0) return "";
  const text = String.UTF8.decodeUnsafe(ptr, len);
  heap.free(ptr);
  return text;
}

/** Clears the out-parameters so a host that answers without writing them reads as empty. */
export function clearOut(): void {
  store<u64>(OUT_PTR, 0);
}

/** UTF-8 bytes of `text` for passing to the host. */
@inline
export function utf8(text: string): ArrayBuffer {
  return String.UTF8.encode(text);
}
