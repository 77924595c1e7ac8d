// The running proxy: plugins loaded once per configured wasm filter (one VM each, reused by
// every stream), clusters, HTTP and TCP listeners and the admin endpoint, from one validated model.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { LOG_LEVEL_NAMES } from "../abi/types.ts";
import { Cluster } from "../cluster.ts";
import { MetricRegistry } from "../metrics.ts";
import { SharedState } from "../shared.ts";
import type { HttpListenerConfig, ListenerConfig, ProxyConfig, WasmFilterConfig } from "../config/model.ts";
import type { Logger } from "../log.ts";
import { Plugin } from "../plugin.ts";
import type { CalloutSender, GrpcSender } from "../outbound.ts";
import { startAdmin } from "./admin.ts";
import { clusterCallouts } from "./callouts.ts";
import { clusterGrpc } from "./grpc.ts";
import { Exchange } from "./exchange.ts";
import { type StatScope, Stats } from "./stats.ts";
import { TcpListener } from "./tcp-listener.ts";

const MAX_HEADER_BYTES = 60 * 1024; // Envoy's max_request_headers_kb default

export class Proxy {
  readonly stats = new Stats();
  /** Metrics the filters define: one registry for the process, as in Envoy. */
  readonly metrics = new MetricRegistry();
  /** Shared data and queues of every plugin, per vm_id. */
  readonly shared = new SharedState();
  private readonly plugins: Plugin[] = [];
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

  private constructor(readonly config: ProxyConfig, readonly logger: Logger) {
    for (const c of config.clusters) {
      this.clusters.set(c.name, new Cluster(c));
      this.clusterStats.set(c.name, this.stats.scope(`cluster.${c.name}`));
    }
    this.stats.filterMetrics = this.metrics;
    this.callouts = clusterCallouts(this.clusters);
    this.grpc = clusterGrpc(this.clusters);
  }

  /** Loads every plugin, then binds every listener; a plugin that cannot start stops it all, named. */
  static async start(config: ProxyConfig, logger: Logger): Promise<Proxy> {
    const proxy = new Proxy(config, logger);
    try {
      for (const listener of config.listeners) {
        const plugins = await Promise.all(listener.wasmFilters.map((f) => proxy.loadPlugin(f)));
        await proxy.listen(listener, plugins);
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

  private async loadPlugin(filter: WasmFilterConfig): Promise<Plugin> {
    const source = "filename" in filter.code ? filter.code.filename : filter.code.bytes;
    const plugin = await Plugin.load(source, {
      name: filter.name, rootId: filter.rootId, vmId: filter.vmId, configuration: filter.configuration,
      vmConfiguration: filter.vmConfiguration, failOpen: filter.failOpen, environment: filter.environment,
      logLevel: "trace", metrics: this.metrics, shared: this.shared, live: true, callouts: this.callouts, grpc: this.grpc, node: this.config.node,
      deadlineMs: filter.deadlineMs, memoryLimitBytes: filter.memoryLimitBytes,
    }, (entry) => this.logger.wasm(entry));
    this.plugins.push(plugin);
    // Each trap kills the VM (as in Envoy); the next stream gets a fresh one.
    this.stats.addSource(() => ({ [`wasm_filter.${filter.name}.vm_failures`]: plugin.restarts + (plugin.failed ? 1 : 0) }));
    const sync = () => (plugin.logLevel = LOG_LEVEL_NAMES.indexOf(this.logger.level));
    sync();
    this.levelWatchers.push(sync);
    return plugin;
  }

  private readonly levelWatchers: (() => void)[] = [];

  /** Changes the log level of the proxy and of every plugin (what a module asks with proxy_get_log_level). */
  setLogLevel(level: Parameters<Logger["setLevel"]>[0]): void {
    this.logger.setLevel(level);
    for (const watch of this.levelWatchers) watch();
  }

  private async listen(config: ListenerConfig, plugins: Plugin[]): Promise<void> {
    const port = config.kind === "http" ? await this.listenHttp(config, plugins) : await this.listenTcp(config, plugins);
    this.ports.push(port);
    this.logger.log("info", "main", `${config.kind.toUpperCase()} listener ${config.name} on ${config.address.address}:${port}, ${plugins.length} wasm filter(s)`);
  }

  private async listenTcp(config: ListenerConfig & { kind: "tcp" }, plugins: Plugin[]): Promise<number> {
    const listener = new TcpListener(this, config, plugins, this.clusters.get(config.cluster)!);
    const port = await listener.listen();
    this.tcpListeners.push(listener);
    return port;
  }

  private async listenHttp(config: HttpListenerConfig, plugins: Plugin[]): Promise<number> {
    const listenerStats = this.stats.scope(`http.${config.statPrefix}`);
    const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, keepAliveTimeout: 60_000 }, (req, res) => {
      new Exchange(this, config, plugins, req, res, listenerStats).start();
    });
    server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
      listenerStats.counter("downstream_rq_rx_reset").add();
      this.logger.log("debug", "http", `malformed request on ${config.name}: ${err.code ?? err.message}`);
      if (!socket.writable) return socket.destroy();
      const status = err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    });
    server.on("connection", () => listenerStats.counter("downstream_cx_total").add());
    await new Promise<void>((resolve, reject) => {
      server.once("error", (e) => reject(new Error(`listener ${config.name} cannot listen on ${config.address.address}:${config.address.port}: ${e.message}`)));
      server.listen(config.address.port, config.address.address, () => resolve());
    });
    this.servers.push(server);
    return (server.address() as AddressInfo).port;
  }

  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes everything. */
  async stop(graceMs = 10_000): Promise<void> {
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
    if (this.admin) await new Promise<void>((resolve) => this.admin!.close(() => resolve()));
    this.admin?.closeAllConnections();
    await Promise.all([...this.clusters.values()].map((c) => c.close()));
  }
}
