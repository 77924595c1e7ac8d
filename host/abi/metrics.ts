// Metrics: proxy_define_metric, proxy_increment_metric, proxy_record_metric, proxy_get_metric.
import type { MetricRegistry } from "../metrics.ts";
import type { AbiHost, HostFunctions } from "./host.ts";
import { Status } from "./types.ts";

const STATUS = { ok: Status.Ok, "not-found": Status.NotFound, "bad-argument": Status.BadArgument } as const;

export function metricFunctions(host: AbiHost, metrics: MetricRegistry): HostFunctions {
  const { vm } = host;
  return {
    proxy_define_metric(type: number, namePtr: number, nameLen: number, idPtr: number): number {
      const name = vm.string(namePtr, nameLen);
      if (name === null) return Status.InvalidMemoryAccess;
      if (type > 2 || name.length === 0) return Status.BadArgument;
      const id = metrics.define(type, name);
      if (id === null) return Status.BadArgument; // the name is taken by a metric of another type
      return vm.setU32(idPtr, id) ? Status.Ok : Status.InvalidMemoryAccess;
    },
    proxy_increment_metric(id: number, delta: bigint): number {
      return STATUS[metrics.increment(id >>> 0, BigInt.asIntN(64, delta))];
    },
    proxy_record_metric(id: number, value: bigint): number {
      return STATUS[metrics.record(id >>> 0, BigInt.asUintN(64, value))];
    },
    proxy_get_metric(id: number, valuePtr: number): number {
      const value = metrics.get(id >>> 0);
      if (value === null) return Status.NotFound;
      if (value === "histogram") return Status.BadArgument;
      return vm.setU64(valuePtr, BigInt.asUintN(64, value)) ? Status.Ok : Status.InvalidMemoryAccess;
    },
  };
}
