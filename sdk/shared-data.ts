// Shared data: a key/value store every VM with the same vm_id sees, in Envoy and in this
// host. Each value carries a cas stamp; a set with a cas succeeds only if the value was not
// changed since it was read (read, compute, set with the cas, retry on CasMismatch).
import { proxy_get_shared_data, proxy_set_shared_data } from "./abi/imports";
import { Status } from "./abi/types";
import { OUT_LEN, OUT_PTR, clearOut, takeBytes, utf8 } from "./abi/memory";

const CAS_PTR: usize = memory.data(4, 4);

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
}
