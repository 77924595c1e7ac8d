// Properties: proxy_get_property, proxy_set_property. The stream answers what it knows
// (request.*, response.*, …); the plugin answers plugin_* and values set by the module.
import type { AbiHost, HostFunctions } from "./host.ts";
import { readPath } from "./memory-args.ts";
import { Status } from "./types.ts";

export function propertyFunctions(host: AbiHost, setValues: Map<string, Uint8Array>): HostFunctions {
  const { vm } = host;
  return {
    proxy_get_property(pathPtr: number, pathLen: number, valuePtrPtr: number, valueLenPtr: number): number {
      const path = readPath(vm, pathPtr, pathLen);
      if (path === null) return Status.InvalidMemoryAccess;
      const key = path.join("\0");
      const value = setValues.get(key) ?? host.current?.property(path) ?? host.pluginProperty(path);
      if (value === undefined || value === null) return Status.NotFound;
      return vm.giveOut(value, valuePtrPtr, valueLenPtr) ? Status.Ok : Status.InvalidMemoryAccess;
    },
    proxy_set_property(pathPtr: number, pathLen: number, valuePtr: number, valueLen: number): number {
      const path = readPath(vm, pathPtr, pathLen);
      const value = vm.bytes(valuePtr, valueLen);
      if (path === null || value === null) return Status.InvalidMemoryAccess;
      setValues.set(path.join("\0"), value.slice());
      return Status.Ok;
    },
  };
}
