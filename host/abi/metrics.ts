// Metrics: proxy_define_metric, proxy_increment_metric, proxy_record_metric, proxy_get_metric.
import type { MetricRegistry } from "../state/metrics.ts";
import type { AbiHost, HostFunctions } from "./host.ts";
import { LogLevel, Status } from "./types.ts";

const STATUS = { ok: Status.Ok, "not-found": Status.NotFound, "bad-argument": Status.BadArgument } as const;

/** The status for an outcome, logged at debug when it is a refusal. */
function answer(host: AbiHost, call: string, id: number, outcome: keyof typeof STATUS): number {
  if (outcome !== "ok") host.log(LogLevel.Debug, `${call}: metric ${id} ${outcome === "not-found" ? "is not defined" : "does not take that change"}`);
  return STATUS[outcome];
}

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
      return answer(host, "proxy_increment_metric", id >>> 0, metrics.increment(id >>> 0, BigInt.asIntN(64, delta)));
    },
    proxy_record_metric(id: number, value: bigint): number {
      return answer(host, "proxy_record_metric", id >>> 0, metrics.record(id >>> 0, BigInt.asUintN(64, value)));
    },
    proxy_get_metric(id: number, valuePtr: number): number {
      const value = metrics.get(id >>> 0);
      if (value === null) return answer(host, "proxy_get_metric", id >>> 0, "not-found");
      if (value === "histogram") return answer(host, "proxy_get_metric", id >>> 0, "bad-argument");
      return vm.setU64(valuePtr, BigInt.asUintN(64, value)) ? Status.Ok : Status.InvalidMemoryAccess;
    },
  };
}
