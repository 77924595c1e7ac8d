// Properties: values the host knows about the stream, the connection and the plugin
// (`request.path`, `source.address`, `plugin_root_id`, …). A path's segments travel joined by NUL.
import { proxy_get_property, proxy_set_property } from "./abi/imports";
import { Status } from "./abi/types";
import { OUT_LEN, OUT_PTR, clearOut, takeBytes, utf8 } from "./abi/memory";

function encodePath(path: string[]): ArrayBuffer {
  return utf8(path.join("\0"));
}

export namespace properties {
  /** The raw value at `path` (e.g. ["request", "path"]), or null when the host has none. */
  export function getBytes(path: string[]): ArrayBuffer | null {
    const key = encodePath(path);
    clearOut();
    if (proxy_get_property(changetype<usize>(key), key.byteLength, OUT_PTR, OUT_LEN) != Status.Ok) return null;
    return takeBytes();
  }

  /** An integer attribute (8 bytes little-endian, as Envoy encodes them), or `fallback` when absent. */
  export function getInt(path: string[], fallback: i64 = 0): i64 {
    const bytes = getBytes(path);
    return bytes != null && bytes.byteLength == 8 ? load<i64>(changetype<usize>(bytes)) : fallback;
  }

  /** A boolean attribute (one byte), or `fallback` when absent. */
  export function getBool(path: string[], fallback: bool = false): bool {
    const bytes = getBytes(path);
    return bytes != null && bytes.byteLength == 1 ? load<u8>(changetype<usize>(bytes)) != 0 : fallback;
  }

  /** Stores a value a later callback (or another filter) can read back with get*. */
  export function set(path: string[], value: ArrayBuffer): bool {
    const key = encodePath(path);
    return proxy_set_property(changetype<usize>(key), key.byteLength, changetype<usize>(value), value.byteLength) == Status.Ok;
  }

  export function setString(path: string[], value: string): bool {
    return set(path, utf8(value));
  }

  /** The value at `path` as UTF-8 text, or null when the host has none. */
  export function getString(path: string[]): string | null {
    const bytes = getBytes(path);
    return bytes == null ? null : String.UTF8.decode(bytes);
  }
}
