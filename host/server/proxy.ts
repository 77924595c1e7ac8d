// The running proxy: plugins loaded once per configured wasm filter (the filters of one vm_id,
// VM configuration and code sharing one VM, as in Envoy; reused by every stream), clusters,
// HTTP and TCP listeners and the admin endpoint, from one validated model.
// A module file can be reloaded while the proxy runs (reloadModule, watchModules): new streams
// take the new plugin, streams under way finish on the old one.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { LOG_LEVEL_NAMES } from "../abi/types.ts";
import { Cluster } from "../upstream/cluster.ts";
import { MetricRegistry } from "../state/metrics.ts";
import { SharedState } from "../state/shared.ts";
import type { HttpListenerConfig, ListenerConfig, ProxyConfig, WasmFilterConfig, WasmServiceConfig } from "../config/model.ts";
import type { Logger } from "../log.ts";
import { Plugin, readModule } from "../plugin.ts";
import type { VmGroup } from "../vm-group.ts";
import type { CalloutSender, GrpcSender } from "../upstream/outbound.ts";
import { startAdmin } from "./admin.ts";
import { clusterCallouts } from "./callouts.ts";
import { clusterGrpc } from "./grpc.ts";
import { Exchange } from "./exchange.ts";
import { type StatScope, Stats } from "./stats.ts";
import { TcpListener } from "./tcp-listener.ts";
import { ModuleWatcher } from "./watch.ts";
import { DEFAULT_HELD_STREAM_MS, HeldStreams } from "./held-streams.ts";
import { Inspector } from "../inspect/inspector.ts";
import { tuneGarbageCollector } from "./gc-tuning.ts";
import type { InspectLimits } from "../inspect/trace.ts";


/** How the proxy runs, beyond its configuration. */
export interface ProxyOptions {
  /** Trace exchanges and connections for the inspector (/inspector on the admin port), keeping this much; absent: off. */
  inspect?: Partial<InspectLimits> | null;
}

/**
 * A listener's wasm filters as new streams take them: a stream binds its filters to these
 * plugins when it begins and keeps them to its end. A reload puts a new array here (one a
 * stream was given is never changed).
 */
export class FilterChain {
  constructor(public plugins: Plugin[]) {}
}

/**
 * One configured wasm filter of one listener (the plugin its new streams get), or one
 * WasmService of bootstrap_extensions (chain null: no streams); and its reloads.
 */
class FilterSlot {
  /** The absolute path of the module file, or null for inline code (never reloaded). */
  readonly file: string | null;
  /** The sha-256 of the module the current plugin runs: the same bytes again are not reloaded. */
  codeHash = "";
  reloads = 0;
  reloadFailures = 0;
  /** VM failures of the plugins this one replaced (the counter never goes back). */
  pastVmFailures = 0;

  constructor(readonly filter: WasmFilterConfig, readonly chain: FilterChain | null, readonly index: number, public plugin: Plugin) {
    this.file = "filename" in filter.code ? resolve(filter.code.filename) : null;
  }
}

/** What a reload did for one plugin loaded from the file. */
export interface ReloadOutcome {
  plugin: string;
  outcome: "reloaded" | "unchanged" | "failed";
  /** Why it failed (the old plugin keeps serving). */
  error?: string;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/**
 * The VM a filter runs in, as Envoy keys it (vm_id, VM configuration, the code's hash), plus
 * what this host sets per VM (environment, call deadline, memory limit): filters with the
 * same key share one VM.
 */
const vmKey = (filter: WasmFilterConfig, codeHash: string) =>
  JSON.stringify([filter.vmId, filter.vmConfiguration, codeHash, filter.environment, filter.deadlineMs ?? null, filter.memoryLimitBytes ?? null]);

export class Proxy {
  readonly stats = new Stats();
  /** Metrics the filters define: one registry for the process, as in Envoy. */
  readonly metrics = new MetricRegistry();
  /** Shared data and queues of every plugin, per vm_id. */
  readonly shared = new SharedState();
  /** Every plugin alive: those serving new streams, and replaced ones still finishing theirs. */
  private readonly plugins: Plugin[] = [];
  /** The VMs the listeners' filters run in, by vmKey (a VM goes with its last plugin). */
  private readonly vms = new Map<string, VmGroup>();
  /** Each WasmService, then each configured wasm filter in listener order. */
  private readonly slots: FilterSlot[] = [];
  /** bootstrap_extensions' WasmServices as they run now: plugins with no streams (ticks, callouts, shared data and queues). */
  get services(): Plugin[] {
    return this.slots.flatMap((s) => (s.chain === null ? [s.plugin] : []));
  }
  /** The reload under way per module file: the next one for the same file waits for it. */
  private readonly reloading = new Map<string, Promise<ReloadOutcome[]>>();
  private watcher: ModuleWatcher | null = null;
  private stopping = false;
  private readonly callouts: CalloutSender;
  private readonly grpc: GrpcSender & { close(): void };
  readonly clusters = new Map<string, Cluster>();
  /** Each cluster's stats (`cluster.<name>.…`), resolved once. */
  readonly clusterStats = new Map<string, StatScope>();
  private readonly servers: Server[] = [];
  private readonly tcpListeners: TcpListener[] = [];
  private admin: Server | null = null;
  /** The ports the listeners (and admin) are bound to, in configuration order. */
  readonly ports: number[] = [];
  adminPort: number | null = null;
  /** Streams a filter holds, logged once past config.heldStreamMs. */
  readonly heldStreams: HeldStreams;
  /** The live inspector, or null when it is off (then no stream is traced and nothing is kept). */
  readonly inspector: Inspector | null;

  private constructor(readonly config: ProxyConfig, readonly logger: Logger, options: ProxyOptions) {
    this.heldStreams = new HeldStreams(config.heldStreamMs ?? DEFAULT_HELD_STREAM_MS, logger);
    this.inspector = options.inspect ? new Inspector(options.inspect) : null;
    for (const c of config.clusters) {
      this.clusters.set(c.name, new Cluster(c));
      this.clusterStats.set(c.name, this.stats.scope(`cluster.${c.name}`));
    }
    this.stats.filterMetrics = this.metrics;
    this.callouts = clusterCallouts(this.clusters);
    this.grpc = clusterGrpc(this.clusters);
  }

  /** Loads every plugin, then binds every listener; a plugin that cannot start stops it all, named. */
  static async start(config: ProxyConfig, logger: Logger, options: ProxyOptions = {}): Promise<Proxy> {
    tuneGarbageCollector();
    const proxy = new Proxy(config, logger, options);
    try {
      // Services first, as Envoy creates bootstrap extensions before the listeners.
      for (const service of config.services) await proxy.startService(service);
      for (const listener of config.listeners) {
        const codes = await Promise.all(listener.wasmFilters.map((f) => ("filename" in f.code ? readModule(f.code.filename) : f.code.bytes)));
        const hashes = codes.map(sha256);
        const plugins: Plugin[] = [];
        // One at a time: a filter joins the VM an earlier one of the same key made.
        for (let i = 0; i < codes.length; i++) plugins.push(await proxy.loadPlugin(listener.wasmFilters[i], codes[i], hashes[i]));
        const chain = new FilterChain(plugins);
        for (let i = 0; i < plugins.length; i++) {
          const slot = new FilterSlot(listener.wasmFilters[i], chain, i, plugins[i]);
          if (slot.file) slot.codeHash = hashes[i];
          proxy.addSlot(slot);
        }
        await proxy.listen(listener, chain);
      }
      if (config.admin) {
        proxy.admin = await startAdmin(proxy, config.admin);
        proxy.adminPort = (proxy.admin.address() as AddressInfo).port;
      }
    } catch (e) {
      await proxy.stop();
      throw e;
    }
    return proxy;
  }

  /**
   * Starts a plugin for `filter` from its module's bytes (with the proxy's shared state,
   * metrics and clusters). A listener's filter (given the code's hash) runs in the VM of the
   * filters with its vmKey, made by the first of them; a WasmService runs in a VM of its own,
   * as Envoy runs bootstrap extensions on the main thread, apart from the workers' VMs.
   */
  private async loadPlugin(filter: WasmFilterConfig, source: Uint8Array, codeHash: string | null = null): Promise<Plugin> {
    const { inspector } = this;
    const key = codeHash === null ? null : vmKey(filter, codeHash);
    let loaded: Plugin | null = null; // what the inspector's wrappers ask which stream is current
    const plugin = await Plugin.load(source, {
      name: filter.name, modulePath: "filename" in filter.code ? filter.code.filename : undefined, rootId: filter.rootId, vmId: filter.vmId, configuration: filter.configuration,
      vmConfiguration: filter.vmConfiguration, failOpen: filter.failOpen, environment: filter.environment,
      logLevel: "trace", metrics: this.metrics, shared: this.shared, live: true, node: this.config.node,
      callouts: inspector ? inspector.callouts(this.callouts, () => loaded) : this.callouts,
      grpc: inspector ? inspector.grpc(this.grpc, () => loaded) : this.grpc,
      observeImports: inspector ? (host, env, metrics) => inspector.observe(host, env, metrics) : undefined,
      deadlineMs: filter.deadlineMs, memoryLimitBytes: filter.memoryLimitBytes,
    }, (entry) => this.logger.wasm(entry), key === null ? null : this.vms.get(key) ?? null);
    loaded = plugin;
    if (key !== null && this.vms.get(key) !== plugin.group) this.keepVm(key, plugin.group);
    plugin.logLevel = LOG_LEVEL_NAMES.indexOf(this.logger.level);
    this.plugins.push(plugin);
    return plugin;
  }

  /** The filters of `key` now start in `vm` (a new one: the one before failed, or went). */
  private keepVm(key: string, vm: VmGroup): void {
    this.vms.set(key, vm);
    vm.onEmpty = () => {
      if (this.vms.get(key) === vm) this.vms.delete(key);
    };
  }

  /** A WasmService: its plugin runs (root context, timer, callouts) with the proxy's shared state, metrics and clusters. */
  private async startService(service: WasmServiceConfig): Promise<void> {
    const code = "filename" in service.code ? await readModule(service.code.filename) : service.code.bytes;
    const slot = new FilterSlot(service, null, 0, await this.loadPlugin(service, code));
    if (slot.file) slot.codeHash = sha256(code);
    this.addSlot(slot);
    this.logger.log("info", "main", `WasmService ${service.name} started (vm_id "${service.vmId}", root_id "${service.rootId}")`);
  }

  private addSlot(slot: FilterSlot): void {
    this.slots.push(slot);
    const name = `${slot.chain ? "wasm_filter" : "wasm_service"}.${slot.filter.name}`;
    // Each trap kills the VM (as in Envoy); the next stream gets a fresh one. Reloads and
    // the reloads that failed (the old module kept serving) are counted too.
    this.stats.addSource(() => ({
      [`${name}.vm_failures`]: slot.pastVmFailures + slot.plugin.restarts + (slot.plugin.failed ? 1 : 0),
      [`${name}.reloads`]: slot.reloads,
      [`${name}.reload_failures`]: slot.reloadFailures,
    }));
  }

  /** Changes the log level of the proxy and of every plugin (what a module asks with proxy_get_log_level). */
  setLogLevel(level: Parameters<Logger["setLevel"]>[0]): void {
    this.logger.setLevel(level);
    for (const plugin of this.plugins) plugin.logLevel = LOG_LEVEL_NAMES.indexOf(level);
  }

  /** The module files the configuration loads (absolute paths, each once); inline code has none. */
  get moduleFiles(): string[] {
    return [...new Set(this.slots.flatMap((s) => (s.file ? [s.file] : [])))];
  }

  /**
   * Reloads every plugin loaded from `file` (as configured, or its absolute path) from the
   * file's bytes now: a new VM with the same configuration (start, on_vm_start, on_configure);
   * only once it has started does it take the new streams, while streams under way finish on
   * the old plugin, which is released after its last one. A module that cannot be read,
   * loaded or configured leaves the old plugin serving, logged at error level. Bytes the
   * plugin already runs are not reloaded. Never rejects; reloads of one file run one at a time.
   */
  reloadModule(file: string): Promise<ReloadOutcome[]> {
    const path = resolve(file);
    const previous = this.reloading.get(path) ?? Promise.resolve([]);
    const next = previous.then(() => this.reloadNow(path)).catch((e: Error) => {
      this.logger.log("error", "wasm", `reload of ${path} failed: internal error: ${e.stack ?? e.message}`);
      return [];
    });
    this.reloading.set(path, next);
    void next.finally(() => {
      if (this.reloading.get(path) === next) this.reloading.delete(path);
    });
    return next;
  }

  private async reloadNow(path: string): Promise<ReloadOutcome[]> {
    const slots = this.slots.filter((s) => s.file === path);
    if (slots.length === 0) {
      this.logger.log("warn", "wasm", `reload of ${path}: no wasm filter is loaded from it`);
      return [];
    }
    if (this.stopping) return [];
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (e) {
      return slots.map((slot) => this.reloadFailed(slot, path, `cannot read it: ${(e as Error).message}`));
    }
    const hash = sha256(bytes);
    const outcomes: ReloadOutcome[] = [];
    for (const slot of slots) {
      const name = slot.filter.name;
      if (slot.codeHash === hash) {
        this.logger.log("debug", "wasm", `${path} is the module ${name} already runs; not reloaded`);
        outcomes.push({ plugin: name, outcome: "unchanged" });
        continue;
      }
      let plugin: Plugin;
      try {
        plugin = await this.loadPlugin(slot.filter, bytes, slot.chain ? hash : null);
      } catch (e) {
        outcomes.push(this.reloadFailed(slot, path, (e as Error).message));
        continue;
      }
      if (this.stopping) {
        this.drop(plugin);
        plugin.release();
        continue;
      }
      this.swap(slot, plugin, hash);
      this.logger.log("info", "wasm", `reloaded ${name} from ${path}`);
      outcomes.push({ plugin: name, outcome: "reloaded" });
    }
    return outcomes;
  }

  private reloadFailed(slot: FilterSlot, path: string, cause: string): ReloadOutcome {
    slot.reloadFailures++;
    this.logger.log("error", "wasm", `reload of ${slot.filter.name} from ${path} failed, the old module keeps serving: ${cause}`);
    return { plugin: slot.filter.name, outcome: "failed", error: cause };
  }

  /** New streams take `plugin`; the slot's old plugin finishes the streams it has, then goes. */
  private swap(slot: FilterSlot, plugin: Plugin, hash: string): void {
    const old = slot.plugin;
    if (slot.chain) {
      const plugins = slot.chain.plugins.slice();
      plugins[slot.index] = plugin;
      slot.chain.plugins = plugins;
    }
    slot.plugin = plugin;
    slot.codeHash = hash;
    slot.reloads++;
    const failures = (p: Plugin) => p.restarts + (p.failed ? 1 : 0);
    const counted = failures(old);
    slot.pastVmFailures += counted;
    if (old.activeStreams > 0) this.logger.log("debug", "wasm", `the replaced ${slot.filter.name} finishes its ${old.activeStreams} stream(s)`);
    old.retire(() => {
      slot.pastVmFailures += failures(old) - counted; // a trap while it finished its streams
      this.drop(old);
    });
  }

  private drop(plugin: Plugin): void {
    const at = this.plugins.indexOf(plugin);
    if (at >= 0) this.plugins.splice(at, 1);
  }

  /**
   * Watches the module files (not inline code) and reloads a file's plugins once a burst of
   * changes to it has settled; the number of files watched.
   */
  watchModules(options: { debounceMs?: number } = {}): number {
    this.watcher?.close();
    const files = this.moduleFiles;
    this.watcher = new ModuleWatcher(files, (file) => void this.reloadModule(file), {
      debounceMs: options.debounceMs,
      onLost: (dir, why) => this.logger.log("warn", "wasm", `watching ${dir}: ${why}; its modules reload when it is back`),
    });
    return files.length;
  }

  private async listen(config: ListenerConfig, chain: FilterChain): Promise<void> {
    const port = config.kind === "http" ? await this.listenHttp(config, chain) : await this.listenTcp(config, chain);
    this.ports.push(port);
    this.logger.log("info", "main", `${config.kind.toUpperCase()} listener ${config.name} on ${config.address.address}:${port}, ${chain.plugins.length} wasm filter(s)`);
  }

  private async listenTcp(config: ListenerConfig & { kind: "tcp" }, chain: FilterChain): Promise<number> {
    const listener = new TcpListener(this, config, chain, this.clusters.get(config.cluster)!);
    const port = await listener.listen();
    this.tcpListeners.push(listener);
    return port;
  }

  private async listenHttp(config: HttpListenerConfig, chain: FilterChain): Promise<number> {
    const listenerStats = this.stats.scope(`http.${config.statPrefix}`);
    // requestTimeout 0: Envoy's request_timeout (disabled by default) is the exchange's, not node's 5 min cap on every upload.
    // max_request_headers_kb (Envoy's default 60); common_http_protocol_options.idle_timeout closes a connection with no stream (default 1 h).
    const server = createServer({
      maxHeaderSize: config.http.maxRequestHeadersKb * 1024, keepAliveTimeout: config.http.idleTimeoutMs, requestTimeout: 0,
    }, (req, res) => {
      new Exchange(this, config, chain.plugins, req, res, listenerStats).start();
    });
    server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
      listenerStats.counter("downstream_rq_rx_reset").add();
      this.logger.log("debug", "http", `malformed request on ${config.name}: ${err.code ?? err.message}`);
      if (!socket.writable) return socket.destroy();
      const overflow = err.code === "HPE_HEADER_OVERFLOW";
      const status = overflow ? "431 Request Header Fields Too Large" : "400 Bad Request";
      // The codec's refusal in the access log too, with Envoy's details.
      this.logger.log("info", "access", `"- - -" ${status.slice(0, 3)} ${overflow ? "http1.headers_too_large" : "http1.codec_error"} 0 0 0 "-" "-"`);
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    });
    server.on("connection", () => listenerStats.counter("downstream_cx_total").add());
    // Every header reaches the exchange, which answers 431 past max_headers_count as Envoy (node's own cap drops the rest silently).
    server.maxHeadersCount = 0;
    // CONNECT with no route for it: Envoy's 403 (upgrade_failed), not a silent close.
    server.on("connect", (req, socket) => {
      listenerStats.counter("downstream_rq_total").add();
      listenerStats.counter("downstream_rq_4xx").add();
      this.logger.log("info", "access", `"CONNECT ${req.url} HTTP/${req.httpVersion}" 403 upgrade_failed 0 0 0 "-" "-"`);
      socket.on("error", () => {});
      socket.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (e) => reject(new Error(`listener ${config.name} cannot listen on ${config.address.address}:${config.address.port}: ${e.message}`)));
      server.listen(config.address.port, config.address.address, () => resolve());
    });
    this.servers.push(server);
    return (server.address() as AddressInfo).port;
  }

  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes everything. */
  async stop(graceMs = 10_000): Promise<void> {
    this.heldStreams.close();
    this.stopping = true;
    this.watcher?.close();
    for (const plugin of this.plugins) plugin.close();
    this.grpc.close();
    const closing = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    // Keep-alive connections become idle as their requests finish: close each one then.
    const idle = setInterval(() => this.servers.forEach((s) => s.closeIdleConnections()), 50);
    this.servers.forEach((s) => s.closeIdleConnections());
    const grace = setTimeout(() => this.servers.forEach((s) => s.closeAllConnections()), graceMs);
    await Promise.all([...closing, ...this.tcpListeners.map((l) => l.close(graceMs))]);
    clearInterval(idle);
    clearTimeout(grace);
    // Every plugin goes as Envoy removes one at shutdown: its root context's on_done.
    for (const plugin of this.plugins.slice()) plugin.release();
    this.plugins.length = 0;
    this.inspector?.close(); // its pages' feeds would hold the admin server open
    if (this.admin) await new Promise<void>((resolve) => this.admin!.close(() => resolve()));
    this.admin?.closeAllConnections();
    await Promise.all([...this.clusters.values()].map((c) => c.close()));
  }
}
