// Shared data: a key/value store every VM with the same vm_id sees, in Envoy and in this
// host. Each value carries a cas stamp; a set with a cas succeeds only if the value was not
// changed since it was read (read, compute, set with the cas, retry on CasMismatch).
import { proxy_get_shared_data, proxy_set_shared_data } from "./abi/imports";
import { Status } from "./abi/types";
import { OUT_LEN, OUT_PTR, clearOut, takeBytes, utf8 } from "./abi/memory";

const CAS_PTR: usize = memory.data(4, 4);

/** What sharedData.increment answers when it could not count (see there). */
export const INCREMENT_FAILED: i64 = i64.MIN_VALUE;

// Attempts before increment gives up: each CasMismatch means another VM's write landed in
// between, so the loop makes progress; the bound only stops a host that always answers it.
const MAX_ATTEMPTS = 64;

export class SharedValue {
  constructor(public readonly bytes: ArrayBuffer, public readonly cas: u32) {}
  text(): string {
    return String.UTF8.decode(this.bytes);
  }
}

export namespace sharedData {
  /** The value at `key` with its cas, or null when there is none. */
  export function get(key: string): SharedValue | null {
    const name = utf8(key);
    clearOut();
    store<u32>(CAS_PTR, 0);
    if (proxy_get_shared_data(changetype<usize>(name), name.byteLength, OUT_PTR, OUT_LEN, CAS_PTR) != Status.Ok) return null;
    const cas = load<u32>(CAS_PTR);
    return new SharedValue(takeBytes(), cas);
  }

  /** Stores `value` at `key`: with cas 0 unconditionally, else only over the value read with that cas. */
  export function set(key: string, value: ArrayBuffer, cas: u32 = 0): Status {
    const name = utf8(key);
    return proxy_set_shared_data(changetype<usize>(name), name.byteLength, changetype<usize>(value), value.byteLength, cas);
  }

  export function setText(key: string, value: string, cas: u32 = 0): Status {
    return set(key, utf8(value), cas);
  }

  /** A counter's value: the 8-byte little-endian integer at `key` (as increment stores it), 0 when absent or of another size. */
  export function getInt(key: string): i64 {
    const current = get(key);
    return current != null && current.bytes.byteLength == 8 ? load<i64>(changetype<usize>(current.bytes)) : 0;
  }

  /**
   * Adds `delta` to the counter at `key` (an 8-byte little-endian integer, created at 0) and
   * answers the new value, retrying the compare-and-swap while other VMs with the same vm_id
   * write in between. INCREMENT_FAILED (i64.MIN_VALUE) when the key holds a value of another
   * size (it is left alone), the host refuses the write, or the swap kept failing.
   *
   * As in Envoy, a value's first write carries no cas to check: two VMs creating the same
   * key at the same moment may each start from 0 and one increment be lost. Once the key
   * exists, no increment is lost.
   */
  export function increment(key: string, delta: i64 = 1): i64 {
    const next = new ArrayBuffer(8);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = get(key);
      let value: i64 = 0;
      let cas: u32 = 0;
      if (current != null) {
        if (current.bytes.byteLength != 8) return INCREMENT_FAILED;
        value = load<i64>(changetype<usize>(current.bytes));
        cas = current.cas;
      }
      store<i64>(changetype<usize>(next), value + delta);
      const status = set(key, next, cas);
      if (status == Status.Ok) return value + delta;
      if (status != Status.CasMismatch) return INCREMENT_FAILED;
    }
    return INCREMENT_FAILED;
  }
}
