// Configuration handed to the module: the VM's (`vm_config.configuration`, readable during
// onVmStart) and the plugin's (`configuration`, readable during onConfigure), as text, bytes,
// or a value of a declared type parsed from JSON (sdk/json.ts).
import { proxy_get_buffer_bytes } from "./abi/imports";
import { BufferType, Status } from "./abi/types";
import { OUT_LEN, OUT_PTR, clearOut, takeBytes } from "./abi/memory";
import { safeJson } from "./json";
import { log } from "./log";

function readAll(bufferType: BufferType): ArrayBuffer {
  clearOut();
  if (proxy_get_buffer_bytes(bufferType, 0, u32.MAX_VALUE, OUT_PTR, OUT_LEN) != Status.Ok) return new ArrayBuffer(0);
  return takeBytes();
}

export namespace config {
  /** The plugin configuration as text ("" when none); call it in onConfigure. */
  export function plugin(): string { return String.UTF8.decode(pluginBytes()); }
  export function pluginBytes(): ArrayBuffer { return readAll(BufferType.PluginConfiguration); }
  /** The VM configuration as text ("" when none); call it in onVmStart. */
  export function vm(): string { return String.UTF8.decode(vmBytes()); }
  export function vmBytes(): ArrayBuffer { return readAll(BufferType.VmConfiguration); }

  /**
   * `text` parsed into T (a class marked `@json`, or an array or map of such), checked first
   * against T's shape. Anything wrong (malformed JSON, a wrong type, a missing required field,
   * an unknown field) is logged as an error with its JSON path and position, e.g.
   * `configuration: $.limits[2].rate: expected an integer from -2147483648 to 2147483647,
   * found "three" at line 1 column 48`,
   * and gives null: return false from onConfigure then, and the host refuses to start the
   * plugin with that message. A field marked `@optional` may be absent and keeps its
   * initializer (its default); a nullable one may be absent or null.
   */
  export function parse<T>(text: string): T | null {
    const value = safeJson.tryParse<T>(text);
    if (value == null) log.error("configuration: " + safeJson.error());
    return value;
  }
}
