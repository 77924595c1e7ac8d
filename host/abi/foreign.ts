// Foreign functions: proxy_call_foreign_function calls a function the host registered by
// name (Envoy offers compress and uncompress, among others; tests may register their own).
import { deflateSync, inflateSync } from "node:zlib";
import type { AbiHost, HostFunctions } from "./host.ts";
import { Status } from "./types.ts";

export type ForeignFunction = (args: Uint8Array) => Uint8Array;

/** What every plugin can call unless its configuration replaces it: zlib, as Envoy's. */
export const DEFAULT_FOREIGN_FUNCTIONS: Record<string, ForeignFunction> = {
  compress: (args) => new Uint8Array(deflateSync(args)),
  uncompress: (args) => new Uint8Array(inflateSync(args)),
};

export function foreignFunctions(host: AbiHost, registry: Record<string, ForeignFunction>): HostFunctions {
  const { vm } = host;
  return {
    proxy_call_foreign_function(namePtr: number, nameLen: number, argsPtr: number, argsLen: number, resultPtrPtr: number, resultLenPtr: number): number {
      const name = vm.string(namePtr, nameLen);
      const args = vm.bytes(argsPtr, argsLen);
      if (name === null || args === null) return Status.InvalidMemoryAccess;
      const fn = Object.hasOwn(registry, name) ? registry[name] : undefined;
      if (!fn) return Status.NotFound;
      let result: Uint8Array;
      try {
        result = fn(args.slice());
      } catch (e) {
        host.log(1, `foreign function ${name} failed: ${(e as Error).message}`);
        return Status.SerializationFailure;
      }
      return vm.giveOut(result, resultPtrPtr, resultLenPtr) ? Status.Ok : Status.InvalidMemoryAccess;
    },
  };
}
