// Configuration handed to the module: the VM's (`vm_config.configuration`, readable during
// onVmStart) and the plugin's (`configuration`, readable during onConfigure), as text, bytes,
// or a class parsed from JSON by json-as.
import { JSON } from "json-as";
import { proxy_get_buffer_bytes } from "./abi/imports";
import { BufferType, Status } from "./abi/types";
import { OUT_LEN, OUT_PTR, clearOut, takeBytes } from "./abi/memory";
import { checkJson } from "./json-check";
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
   * `json` parsed into T (a class marked `@json`, or an array or map of such). Malformed
   * JSON logs an error saying what was expected where, and gives null: return false from
   * onConfigure then, and the host refuses to start the plugin.
   */
  export function parse<T>(json: string): T | null {
    let problem = checkJson(json);
    if (problem == null && !isArray<T>() && !isString<T>() && isReference<T>() && !json.trimStart().startsWith("{")) {
      problem = "expected a JSON object";
    }
    if (problem != null) {
      log.error("configuration is not valid JSON: " + problem);
      return null;
    }
    return JSON.parse<T>(json);
  }
}
