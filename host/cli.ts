// The command line: `proxy-wasm-as run envoy.yaml` or `proxy-wasm-as run --wasm … --upstream …`.
import { parseArgs } from "node:util";
import { LOG_LEVEL_NAMES, type LogLevelName } from "./abi/types.ts";
import { ConfigError, loadConfigFile, shorthandConfig } from "./config/index.ts";
import type { ProxyConfig, WasmFilterConfig } from "./config/model.ts";
import { Logger } from "./log.ts";
import { PluginStartError } from "./plugin.ts";
import { Proxy } from "./server/proxy.ts";
import { ModuleError } from "./vm/vm.ts";
import { DEFAULT_LIMITS, type InspectLimits } from "./inspect/trace.ts";

const USAGE = `usage:
  proxy-wasm-as run envoy.yaml [--log-level info] [--admin PORT] [--watch] [--inspect] [--deadline-ms [NAME=]MS] [--memory-limit-mb [NAME=]MB]
  proxy-wasm-as run --wasm build/filter.wasm [--root-id ID] [--config TEXT] [--fail-open]
                    [--wasm … for a chain] --upstream http://127.0.0.1:8080 [--listen 10000] [--admin PORT] [--watch]
                    (--upstream tcp://HOST:PORT runs network filters on a TCP listener)
--held-stream-ms N: log a stream a filter has held (stopped, not continued) for N ms, once (default 5000)
--watch: reload a module when its file changes (new streams take it; streams under way finish on the old one)
--deadline-ms MS: the deadline of each call into every module (default 1000; 0: none);
--deadline-ms NAME=MS: for the wasm filter named NAME only (repeatable)
--memory-limit-mb [NAME=]MB: the most memory a module may grow to (default 1024), likewise
--inspect: the live inspector on the admin port (/inspector; admin on an ephemeral port when none is set): every
           exchange and connection through the filters, callback by callback; keeps the last N (--inspect-exchanges,
           default ${DEFAULT_LIMITS.exchanges}) with bodies cut at --inspect-body-bytes (default ${DEFAULT_LIMITS.bodyBytes})
log levels: ${LOG_LEVEL_NAMES.join(", ")}`;

export interface RunningProxy {
  proxy: Proxy;
  config: ProxyConfig;
  /** The inspector's page, when --inspect is on. */
  inspectorUrl: string | null;
}

export interface RunHooks {
  /** Runs once the configuration is read, before any module is loaded (the toolchain builds them here). */
  beforeStart?: (config: ProxyConfig, watch: boolean) => Promise<void>;
}

/** Parses `run` arguments and starts the proxy; throws ConfigError (and the load errors) on bad input. */
export async function run(argv: string[], logger = new Logger(), hooks: RunHooks = {}): Promise<RunningProxy> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      wasm: { type: "string", multiple: true }, "root-id": { type: "string", multiple: true }, config: { type: "string", multiple: true },
      "fail-open": { type: "boolean" }, upstream: { type: "string" }, listen: { type: "string" }, admin: { type: "string" },
      "log-level": { type: "string" }, watch: { type: "boolean" }, "held-stream-ms": { type: "string" },
      "deadline-ms": { type: "string", multiple: true }, "memory-limit-mb": { type: "string", multiple: true },
      inspect: { type: "boolean" }, "inspect-exchanges": { type: "string" }, "inspect-body-bytes": { type: "string" },
    },
  });
  const level = values["log-level"] ?? "info";
  if (!LOG_LEVEL_NAMES.includes(level as LogLevelName)) throw new ConfigError(`the command line: --log-level: expected one of ${LOG_LEVEL_NAMES.join(", ")}, found ${level}`);
  logger.setLevel(level as LogLevelName);
  const port = (name: string, value: string | undefined, fallback: number | null) => {
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) > 65535) throw new ConfigError(`the command line: --${name}: expected a port number, found ${value}`);
    return Number(value);
  };
  let config: ProxyConfig;
  if (positionals.length > 1) throw new ConfigError(`the command line: expected one configuration file, found ${positionals.length}`);
  if (positionals.length === 1) {
    if (values.wasm || values.upstream) throw new ConfigError("the command line: give either a configuration file or --wasm/--upstream, not both");
    const parsed = await loadConfigFile(positionals[0]);
    for (const w of parsed.warnings) logger.log("warn", "config", w);
    config = parsed.config;
    const admin = port("admin", values.admin, null);
    if (admin !== null) config.admin = { address: "127.0.0.1", port: admin };
  } else {
    if (!values.upstream) throw new ConfigError(`the command line: expected a configuration file, or --wasm and --upstream\n${USAGE}`);
    config = shorthandConfig({
      wasm: values.wasm ?? [], rootId: values["root-id"] ?? [], config: values.config ?? [], failOpen: values["fail-open"] ?? false,
      upstream: values.upstream, listen: port("listen", values.listen, 10000)!, admin: port("admin", values.admin, null),
    });
  }
  perFilter(config, "deadline-ms", values["deadline-ms"] ?? [], (f, ms) => (f.deadlineMs = ms));
  perFilter(config, "memory-limit-mb", values["memory-limit-mb"] ?? [], (f, mb) => (f.memoryLimitBytes = mb * 1024 * 1024));
  const held = values["held-stream-ms"];
  if (held !== undefined) {
    if (!/^\d+$/.test(held)) throw new ConfigError(`the command line: --held-stream-ms: expected a number of milliseconds, found ${held}`);
    config.heldStreamMs = Number(held);
  }
  let inspect: Partial<InspectLimits> | null = null;
  if (values.inspect) {
    const count = (name: string, value: string | undefined, min: number) => {
      if (value === undefined) return undefined;
      if (!/^\d+$/.test(value) || Number(value) < min) throw new ConfigError(`the command line: --${name}: expected a whole number of at least ${min}, found ${value}`);
      return Number(value);
    };
    inspect = { exchanges: count("inspect-exchanges", values["inspect-exchanges"], 1), bodyBytes: count("inspect-body-bytes", values["inspect-body-bytes"], 0) };
    for (const key of ["exchanges", "bodyBytes"] as const) if (inspect[key] === undefined) delete inspect[key];
    // The inspector lives on the admin port: without one configured, on an ephemeral one.
    config.admin ??= { address: "127.0.0.1", port: 0 };
  } else if (values["inspect-exchanges"] !== undefined || values["inspect-body-bytes"] !== undefined) {
    throw new ConfigError("the command line: --inspect-exchanges and --inspect-body-bytes go with --inspect");
  }
  await hooks.beforeStart?.(config, values.watch ?? false);
  const proxy = await Proxy.start(config, logger, { inspect });
  if (values.watch) {
    const watched = proxy.watchModules();
    if (watched) logger.log("info", "main", `watching ${watched} module file(s); a change reloads the plugins loaded from it`);
    else logger.log("warn", "main", "--watch: no module is loaded from a file (inline code is not watched)");
  }
  const host = config.admin?.address === "0.0.0.0" ? "127.0.0.1" : config.admin?.address;
  const inspectorUrl = proxy.inspector && proxy.adminPort !== null ? `http://${host}:${proxy.adminPort}/inspector` : null;
  return { proxy, config, inspectorUrl };
}

/** `--flag N` for every wasm filter, `--flag NAME=N` for the one named NAME (later ones win). */
function perFilter(config: ProxyConfig, flag: string, args: string[], set: (filter: WasmFilterConfig, value: number) => void): void {
  const filters = config.listeners.flatMap((l) => l.wasmFilters);
  for (const arg of args) {
    const m = /^(?:(.+)=)?(\d+)$/.exec(arg);
    if (!m) throw new ConfigError(`the command line: --${flag}: expected N or NAME=N (a whole number), found ${arg}`);
    const [, name, value] = m;
    const chosen = name === undefined ? filters : filters.filter((f) => f.name === name);
    if (!chosen.length) throw new ConfigError(`the command line: --${flag}: no wasm filter named ${name} (there are: ${filters.map((f) => f.name).join(", ") || "none"})`);
    for (const f of chosen) set(f, Number(value));
  }
}

/** Runs until SIGINT/SIGTERM, then drains in-flight requests and exits; resolves once the proxy runs. */
export async function main(argv: string[], hooks: RunHooks = {}): Promise<RunningProxy> {
  const [command, ...rest] = argv;
  if (command !== "run") {
    process.stderr.write(`${USAGE}\n`);
    process.exit(command === undefined || command === "--help" || command === "help" ? 0 : 2);
  }
  const logger = new Logger();
  let running: RunningProxy;
  try {
    running = await run(rest, logger, hooks);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof ModuleError || e instanceof PluginStartError || (e as Error).message?.includes("cannot listen")) {
      process.stderr.write(`proxy-wasm-as: ${(e as Error).message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const { proxy } = running;
  logger.log("info", "main", `ready${proxy.adminPort !== null ? `; admin on 127.0.0.1:${proxy.adminPort}` : ""}`);
  if (running.inspectorUrl) logger.log("info", "main", `inspector: ${running.inspectorUrl}`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log("info", "main", `${signal}: draining in-flight requests`);
    await proxy.stop();
    logger.log("info", "main", "stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  return running;
}
