// Properties: proxy_get_property, proxy_set_property. The stream answers what it knows
// (request.*, response.*, …); the plugin answers plugin_* and node.*. A value the module sets
// from a stream context is kept for that stream only (Envoy keeps it in the stream's filter
// state); from the root context, for the plugin. A set value never shadows a built-in
// attribute: Envoy answers Ok to setting `request.path`, and reading it still gives the real path.
import type { AbiHost, HostFunctions } from "./host.ts";
import { readPath } from "./memory-args.ts";
import { LogLevel, Status } from "./types.ts";

/** The top-level names of Envoy's attributes: values set under them are never what a read answers. */
const BUILT_IN = new Set([
  "request", "response", "source", "destination", "connection", "upstream", "xds", "node", "metadata",
  "cluster_name", "cluster_metadata", "route_name", "route_metadata", "upstream_host_metadata", "listener_direction",
  "listener_metadata", "plugin_name", "plugin_root_id", "plugin_vm_id",
]);

export function propertyFunctions(host: AbiHost, pluginValues: Map<string, Uint8Array>): HostFunctions {
  const { vm } = host;
  return {
    proxy_get_property(pathPtr: number, pathLen: number, valuePtrPtr: number, valueLenPtr: number): number {
      const path = readPath(vm, pathPtr, pathLen);
      if (path === null) return Status.InvalidMemoryAccess;
      let value: Uint8Array | null | undefined;
      if (BUILT_IN.has(path[0])) value = host.current?.property(path) ?? host.pluginProperty(path);
      else {
        const key = path.join("\0");
        value = host.current?.storedProperty(key) ?? pluginValues.get(key);
      }
      if (value === undefined || value === null) return Status.NotFound;
      return vm.giveOut(value, valuePtrPtr, valueLenPtr) ? Status.Ok : Status.InvalidMemoryAccess;
    },
    proxy_set_property(pathPtr: number, pathLen: number, valuePtr: number, valueLen: number): number {
      const path = readPath(vm, pathPtr, pathLen);
      const value = vm.bytes(valuePtr, valueLen);
      if (path === null || value === null) return Status.InvalidMemoryAccess;
      if (BUILT_IN.has(path[0])) {
        // Envoy stores it apart (as filter state "wasm.<path>"), where no attribute read finds it.
        host.log(LogLevel.Debug, `proxy_set_property: ${path.join(".")} is a built-in attribute; reading it gives the real value`);
        return Status.Ok;
      }
      const key = path.join("\0");
      if (host.current) host.current.storeProperty(key, value.slice());
      else pluginValues.set(key, value.slice());
      return Status.Ok;
    },
  };
}
