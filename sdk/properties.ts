// Properties: values the host knows about the stream, the connection and the plugin
// (`request.path`, `source.address`, `plugin_root_id`, …). A path's segments travel joined by NUL.
import { proxy_get_property } from "./abi/imports";
import { Status } from "./abi/types";
import { OUT_LEN, OUT_PTR, clearOut, takeBytes } from "./abi/memory";

function encodePath(path: string[]): ArrayBuffer {
  return String.UTF8.encode(path.join("\0"));
}

export namespace properties {
  /** The raw value at `path` (e.g. ["request", "path"]), or null when the host has none. */
  export function getBytes(path: string[]): ArrayBuffer | null {
    const key = encodePath(path);
    clearOut();
    if (proxy_get_property(changetype<usize>(key), key.byteLength, OUT_PTR, OUT_LEN) != Status.Ok) return null;
    return takeBytes();
  }

  /** The value at `path` as UTF-8 text, or null when the host has none. */
  export function getString(path: string[]): string | null {
    const bytes = getBytes(path);
    return bytes == null ? null : String.UTF8.decode(bytes);
  }
}
