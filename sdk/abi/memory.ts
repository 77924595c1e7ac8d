// Moving bytes across the ABI: memory the host fills (allocated here, copied out, freed) and
// out-parameters. Area helpers use these; authors never see a pointer.

/** Two out-parameter words (pointer, length) the host writes; read them right after the call. */
export const OUT_PTR: usize = memory.data(8, 8);
export const OUT_LEN: usize = OUT_PTR + 4;

/** The allocator the host calls to hand the module a value (`malloc` / `proxy_on_memory_allocate`). */
export function allocateForHost(size: usize): usize {
  hostBytesSinceCollect += <u32>size;
  // A raw block the collector never moves or reuses until freed below.
  return heap.alloc(size);
}

/** Bytes handed in by the host since the last collection: most become garbage once read (sdk/collector.ts). */
export let hostBytesSinceCollect: u32 = 0;
export function resetHostBytes(): void { hostBytesSinceCollect = 0; }

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

/** UTF-8 bytes of `text` for passing to the host. (String.UTF8.encode does the same through a wrapper for its optional argument, about 200 bytes more in every module.) */
export function utf8(text: string): ArrayBuffer {
  const bytes = new ArrayBuffer(String.UTF8.byteLength(text));
  String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, changetype<usize>(bytes));
  return bytes;
}

// Two blocks reused to pass a name and a value to the host on hot paths (header maps): the
// host copies what it keeps before the call returns, so nothing is allocated per call for the
// collector to sweep later. Each grows to the longest text it has held.
const SCRATCH: usize = memory.data(16, 8); // per slot: u32 pointer, u32 capacity

/** Encodes `text` as UTF-8 into scratch slot 0 or 1 and answers its address; the length is in `scratchLength` right after. Valid until the slot is used again. */
export function toScratch(slot: usize, text: string): usize {
  const length = <usize>String.UTF8.byteLength(text);
  const entry = SCRATCH + slot * 8;
  let ptr = <usize>load<u32>(entry);
  if (<usize>load<u32>(entry, 4) < length || ptr == 0) {
    if (ptr != 0) heap.free(ptr);
    const capacity = max<usize>(length, 64);
    ptr = heap.alloc(capacity);
    store<u32>(entry, <u32>ptr);
    store<u32>(entry, <u32>capacity, 4);
  }
  scratchLength = String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, ptr);
  return ptr;
}

/** The UTF-8 length of what toScratch last encoded. */
export let scratchLength: usize = 0;
