// The import object for one VM: every host function of the module's ABI version, from the
// area files, plus WASI. A host function abi.md lists that no area implements yet answers
// Unimplemented, logged once per function, and never throws.
import type { AbiHost, HostFunctions } from "./host.ts";
import { logFunctions } from "./log.ts";
import { headerMapFunctions } from "./headers.ts";
import { bufferFunctions } from "./buffers.ts";
import { streamFunctions } from "./stream.ts";
import { propertyFunctions } from "./properties.ts";
import { metricFunctions } from "./metrics.ts";
import { sharedDataFunctions } from "./shared-data.ts";
import { timerFunctions } from "./timers.ts";
import { httpCallFunctions } from "./http-call.ts";
import { queueFunctions } from "./queues.ts";
import { grpcFunctions } from "./grpc.ts";
import { type ForeignFunction, foreignFunctions } from "./foreign.ts";
import type { MetricRegistry } from "../state/metrics.ts";
import type { SharedState } from "../state/shared.ts";
import { timeFunctions } from "./time.ts";
import { contextFunctions } from "./context.ts";
import { wasiFunctions } from "./wasi.ts";
import { LogLevel, Status, type AbiVersion } from "./types.ts";
import { WASI_MODULES } from "./allowed-imports.ts";
import { PROXY_SIGNATURES } from "./signatures.ts";
import { HostCallRefused } from "../vm/vm.ts";

/** What a module may call during start and host-made malloc calls, besides WASI (abi.md). */
const ALLOWED_DURING_START = new Set(["proxy_log", "proxy_get_log_level", "proxy_get_current_time_nanoseconds"]);

type AnyHostFunction = (a?: never, b?: never, c?: never, d?: never, e?: never, f?: never, g?: never, h?: never, i?: never, j?: never, k?: never, l?: never) => number;

/**
 * The host function as the module gets it: refused (a trap naming it) where hosts do not allow
 * it. Fixed arity (host functions take at most 12 arguments): no argument array per call.
 */
function gated(host: AbiHost, name: string, fn: AnyHostFunction, allowedDuringStart: boolean): AnyHostFunction {
  return (a, b, c, d, e, f, g, h, i, j, k, l) => {
    const restriction = host.vm.restriction;
    if (restriction !== null && (!allowedDuringStart || restriction === "the start section")) throw new HostCallRefused(name, restriction);
    return fn(a, b, c, d, e, f, g, h, i, j, k, l);
  };
}

const ONLY_0_1_0 = ["proxy_get_configuration", "proxy_continue_request", "proxy_continue_response", "proxy_clear_route_cache"];
/** Every host function of ABI 0.2.1 (abi.md); 0.2.0 and 0.1.0 differ as hostFunctionNames says. */
const ABI_0_2_1 = Object.keys(PROXY_SIGNATURES).filter((n) => !ONLY_0_1_0.includes(n));

export function hostFunctionNames(abi: AbiVersion): Set<string> {
  if (abi === "0.2.1") return new Set(ABI_0_2_1);
  if (abi === "0.2.0") return new Set(ABI_0_2_1.filter((n) => n !== "proxy_get_log_level"));
  return new Set([...ABI_0_2_1.filter((n) => !["proxy_get_log_level", "proxy_continue_stream", "proxy_close_stream"].includes(n)), ...ONLY_0_1_0]);
}

export interface ImportState {
  /** Values the module stored with proxy_set_property. */
  properties: Map<string, Uint8Array>;
  /** The process's metrics, shared by every plugin of a proxy. */
  metrics: MetricRegistry;
  /** Shared data and queues, shared by every plugin of a proxy. */
  shared: SharedState;
  /** Foreign functions the module may call by name. */
  foreign: Record<string, ForeignFunction>;
  /** Wraps host functions to watch what the module does (the inspector); absent, they are left as they are. */
  observe?: (host: AbiHost, env: HostFunctions, metrics: MetricRegistry) => void;
}

export function buildImports(host: AbiHost, state: ImportState): WebAssembly.Imports {
  const implemented: HostFunctions = {
    ...logFunctions(host), ...headerMapFunctions(host), ...bufferFunctions(host), ...streamFunctions(host),
    ...propertyFunctions(host, state.properties), ...timeFunctions(host), ...contextFunctions(host),
    ...metricFunctions(host, state.metrics), ...sharedDataFunctions(host, state.shared), ...timerFunctions(host),
    ...httpCallFunctions(host), ...queueFunctions(host, state.shared.queues),
    ...foreignFunctions(host, state.foreign), ...grpcFunctions(host),
    // ABI 0.1.0: Envoy answers the plugin configuration while configuring, else the VM's.
    proxy_get_configuration(ptrPtr: number, lenPtr: number): number {
      const value = host.phase === "configure" ? host.configuration : host.vmConfiguration;
      return host.vm.giveOut(value, ptrPtr, lenPtr) ? Status.Ok : Status.InvalidMemoryAccess;
    },
  };
  const env: HostFunctions = {};
  const reported = new Set<string>();
  for (const name of hostFunctionNames(host.vm.abiVersion)) {
    const fn = implemented[name] ?? (() => {
      if (!reported.has(name)) {
        reported.add(name);
        host.log(LogLevel.Warn, `${name} is not implemented by this host yet; it answers Unimplemented`);
      }
      return Status.Unimplemented;
    });
    env[name] = gated(host, name, fn as AnyHostFunction, ALLOWED_DURING_START.has(name));
  }
  state.observe?.(host, env, state.metrics);
  const wasi: HostFunctions = {};
  for (const [name, fn] of Object.entries(wasiFunctions(host))) wasi[name] = gated(host, name, fn as AnyHostFunction, true);
  return { env, ...Object.fromEntries(WASI_MODULES.map((m) => [m, wasi])) };
}
