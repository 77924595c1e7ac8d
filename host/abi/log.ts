// proxy_log, proxy_get_log_level.
import type { AbiHost, HostFunctions } from "./host.ts";
import { LogLevel, Status } from "./types.ts";

export function logFunctions(host: AbiHost): HostFunctions {
  return {
    proxy_log(level: number, ptr: number, len: number): number {
      const message = host.vm.string(ptr, len);
      if (message === null) return Status.InvalidMemoryAccess;
      if (level < LogLevel.Trace || level > LogLevel.Critical) return Status.BadArgument;
      if (level >= host.logLevel) host.log(level, message);
      return Status.Ok;
    },
    proxy_get_log_level(levelPtr: number): number {
      return host.vm.setU32(levelPtr, host.logLevel) ? Status.Ok : Status.InvalidMemoryAccess;
    },
  };
}
