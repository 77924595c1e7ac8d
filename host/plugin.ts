// One plugin: its configuration, its root context in the VM it runs in (host/vm-group.ts: a VM
// of its own, or one it shares with the plugins of the same vm_id and code), its ticks, its
// callouts and queues, and its streams and end.
import { readFile } from "node:fs/promises";
import { type ImportState, hostFunctionNames } from "./abi/index.ts";
import type { DeferOwner } from "./abi/host.ts";
import { LOG_LEVEL_NAMES, LogLevel, type LogLevelName } from "./abi/types.ts";
import { MetricRegistry } from "./state/metrics.ts";
import { type CalloutSender, type GrpcSender, OutboundCalls } from "./upstream/outbound.ts";
import { DEFAULT_FOREIGN_FUNCTIONS, type ForeignFunction } from "./abi/foreign.ts";
import { SharedState } from "./state/shared.ts";
import { type Clock, type Timer, wallClock } from "./clock.ts";
import { ModuleError, WasmTrap, type WasmVm, checkModule } from "./vm/vm.ts";
import { DEFAULT_DEADLINE_MS } from "./vm/deadline.ts";
import { VmGroup } from "./vm-group.ts";
import type { StreamFilter } from "./stream-filter.ts";

/** Envoy's host caps a VM's memory at 1 GiB. */
export const DEFAULT_MEMORY_LIMIT_BYTES = 1 << 30;

export interface PluginConfig {
  /** The module's file when it is given as bytes read from one: its map (traps → source) is looked for beside it. */
  modulePath?: string;
  /** The plugin's name (Envoy's `config.name`), for logs and the plugin_name property. */
  name?: string;
  rootId?: string;
  vmId?: string;
  configuration?: string | Uint8Array;
  vmConfiguration?: string | Uint8Array;
  /** When the module fails, let streams pass as if the filter were absent (instead of a 503). */
  failOpen?: boolean;
  logLevel?: LogLevelName;
  environment?: Record<string, string>;
  /** Where the plugin's metrics live: a proxy shares one registry among its plugins. */
  metrics?: MetricRegistry;
  /** Shared data and queues: a proxy shares one among its plugins. */
  shared?: SharedState;
  /**
   * True in a running proxy: onTick fires on a timer and a failed VM is re-created in the
   * background. False (tests, the default): ticks run when tick() is called, and a failed VM
   * is re-created when the next stream starts.
   */
  live?: boolean;
  /**
   * The time the plugin sees (the time host function, WASI's clocks, request.time and
   * request.duration) and the clock its onTick timer runs on. Default: the wall clock, whose
   * timer drives onTick only in a live plugin (elsewhere tick() does). Any other clock (a
   * test's ManualClock) drives onTick live or not.
   */
  clock?: Clock;
  /** The bootstrap's node (node.id, node.cluster properties). */
  node?: { id: string; cluster: string; metadata: Record<string, unknown> };
  /** Foreign functions by name, added to (or replacing) the defaults (compress, uncompress). */
  foreignFunctions?: Record<string, ForeignFunction>;
  /** Where gRPC calls go (the proxy's clusters over HTTP/2, or the harness's recorder); none: refused. */
  grpc?: GrpcSender;
  /** Where HTTP callouts go (the proxy's clusters, or the harness's recorder); none: every callout is refused. */
  callouts?: CalloutSender;
  /**
   * The deadline of each call into the module, in ms of wall clock (default 1000; 0: none).
   * A call past it ends as a trap of the VM (host/vm/deadline.ts).
   */
  deadlineMs?: number;
  /** The most bytes the VM's linear memory may grow to (default 1 GiB, as Envoy's host): memory.grow answers -1 past it. */
  memoryLimitBytes?: number;
  /** Wraps the host functions of each VM the plugin builds (the proxy's inspector, when on, observes them). */
  observeImports?: ImportState["observe"];
}

export interface LogEntry {
  level: LogLevelName;
  message: string;
  contextId: number;
  plugin: string;
}

export type LogSink = (entry: LogEntry) => void;

/** A plugin that could not start; the message names the cause and quotes the module's errors. */
export class PluginStartError extends Error {
  override name = "PluginStartError";
}

const bytesOf = (value: string | Uint8Array | undefined) =>
  value === undefined ? new Uint8Array(0) : typeof value === "string" ? new TextEncoder().encode(value) : value;

export async function readModule(source: string | Uint8Array): Promise<Uint8Array> {
  if (typeof source !== "string") return source;
  try {
    return await readFile(source);
  } catch (e) {
    throw new ModuleError(`cannot read module ${source}: ${(e as Error).message}`);
  }
}

export class Plugin {
  readonly name: string;
  readonly rootId: string;
  readonly failOpen: boolean;
  readonly configuration: Uint8Array;
  logLevel: LogLevel;
  /** The VM the plugin runs in (shared with the other plugins of its vm_id and code, when the proxy groups them). */
  group: VmGroup;
  /** Its root context's id in that VM. */
  rootContextId: number;
  /** The VM's restarts when its root context was made there: a root context the VM no longer has is failed. */
  generation = -1;
  /** The tick period the module asked for (0: none). */
  tickPeriodMs = 0;
  /** HTTP callouts and gRPC calls the module makes, and what their answers let it read. */
  readonly outbound: OutboundCalls;
  private readonly node: NonNullable<PluginConfig["node"]>;
  /** Whether onTick runs on the clock's timer; when not, only tick() runs it. */
  private readonly timedTicks: boolean;
  /** The next onTick, while a period is set and ticks are timed. */
  private tickTimer: Timer | null = null;
  /** close() was called: no timer runs for it any more. */
  private closed = false;
  private readonly startCollectors: LogSink[] = [];

  private constructor(group: VmGroup, config: PluginConfig, private readonly sink: LogSink) {
    this.group = group;
    this.rootContextId = group.allocateContextId();
    this.name = config.name ?? config.rootId ?? "plugin";
    this.rootId = config.rootId ?? "";
    this.failOpen = config.failOpen ?? false;
    this.configuration = bytesOf(config.configuration);
    this.timedTicks = group.settings.live || group.clock !== wallClock;
    this.outbound = new OutboundCalls(this, config.callouts ?? null, config.grpc ?? null);
    this.node = config.node ?? { id: "", cluster: "", metadata: {} };
    this.logLevel = LOG_LEVEL_NAMES.indexOf(config.logLevel ?? "info") as LogLevel;
  }

  /**
   * Loads a module (path or bytes) and starts the plugin: a ModuleError or PluginStartError
   * names the cause. With `share` (a VM of plugins with the same vm_id, VM configuration and
   * code), the plugin runs in that VM, as Envoy runs it: it is first started in a VM of its own
   * that is then thrown away, so that a configuration it refuses never touches the shared one.
   */
  static async load(source: string | Uint8Array, config: PluginConfig, sink: LogSink, share: VmGroup | null = null): Promise<Plugin> {
    const deadlineMs = config.deadlineMs ?? DEFAULT_DEADLINE_MS;
    if (!Number.isFinite(deadlineMs) || deadlineMs < 0) throw new RangeError(`deadlineMs: expected a number of ms >= 0, found ${deadlineMs}`);
    const memoryLimitBytes = config.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES;
    const path = typeof source === "string" ? source : config.modulePath ?? null;
    const joining = share?.joinable ? share : null;
    const checked = joining?.settings.checked ?? await checkModule(await readModule(source), hostFunctionNames, { deadlines: deadlineMs > 0, memoryLimitBytes, path });
    const own = new VmGroup({
      checked, moduleName: path ?? "inline module", deadlineMs: checked.deadlines ? deadlineMs : 0,
      vmId: config.vmId ?? "", vmConfiguration: bytesOf(config.vmConfiguration), environment: config.environment ?? {},
      clock: config.clock ?? wallClock, metrics: config.metrics ?? new MetricRegistry(), shared: config.shared ?? new SharedState(),
      foreign: { ...DEFAULT_FOREIGN_FUNCTIONS, ...config.foreignFunctions }, observeImports: config.observeImports, live: config.live ?? false,
    });
    const plugin = new Plugin(own, config, sink);
    if (checked.deadlinesOff && joining === null) plugin.log(LogLevel.Warn, `no deadline on calls into ${plugin.moduleName}: ${checked.deadlinesOff}`);
    try {
      plugin.start(true);
      if (joining !== null) plugin.moveTo(joining);
    } catch (e) {
      plugin.discard(); // no retry in the background, no queue left pointing at it
      throw e;
    }
    return plugin;
  }

  /** Leaves the VM it was checked in (which goes) for the shared one, and starts its root context there. */
  private moveTo(group: VmGroup): void {
    this.group.leave(this);
    this.group = group;
    this.rootContextId = group.allocateContextId();
    try {
      this.start(false);
    } catch (e) {
      // Unlikely (the same start passed in the copy), but a trap here is the shared VM's failure.
      if (group.failed) group.lost(null);
      throw e;
    }
  }

  // What is the VM's.
  get vm(): WasmVm {
    return this.group.vm;
  }
  get abiVersion() {
    return this.group.settings.checked.abiVersion;
  }
  get moduleName(): string {
    return this.group.settings.moduleName;
  }
  get deadlineMs(): number {
    return this.group.settings.deadlineMs;
  }
  get vmId(): string {
    return this.group.vmId;
  }
  get metrics(): MetricRegistry {
    return this.group.settings.metrics;
  }
  get shared(): SharedState {
    return this.group.settings.shared;
  }
  get clock(): Clock {
    return this.group.clock;
  }
  /** How many times its VM was re-created after a failure. */
  get restarts(): number {
    return this.group.restarts;
  }
  /** The stream context of the callback under way in its VM, or null. */
  get current(): StreamFilter | null {
    return this.group.current;
  }
  get tokens() {
    return this.group.tokens;
  }

  /** Its VM failed, or was re-created without its root context (a plugin replaced by a reload is not started again). */
  get failed(): boolean {
    return this.group.failed || this.generation !== this.group.restarts;
  }

  /**
   * Starts its root context (context create, on_vm_start, on_configure) in its VM, creating
   * the VM first when `createVm`; throws PluginStartError with what the module logged.
   */
  start(createVm: boolean): void {
    const errors: string[] = [];
    const collect: LogSink = (entry) => {
      if (entry.level === "error" || entry.level === "critical") errors.push(entry.message);
    };
    const fail = (what: string): never => {
      const quoted = errors.length ? `; it logged: ${errors.join(" | ")}` : "";
      // One line, whatever the module logged.
      throw new PluginStartError(`plugin ${this.name} (${this.moduleName}): ${what}${quoted}`.replace(/\r?\n/g, " | "));
    };
    this.startCollectors.push(collect);
    try {
      this.setTickPeriod(0);
      if (createVm) this.group.create(this);
      const refused = this.group.startRoot(this);
      if (refused !== null) fail(refused);
    } catch (e) {
      if (e instanceof WasmTrap) fail(`${e.message} while starting`);
      throw e;
    } finally {
      this.startCollectors.splice(this.startCollectors.indexOf(collect), 1);
    }
  }

  /** Before a stream: a dead VM is re-created (see VmGroup.prepareStream). */
  prepareStream(): void {
    this.group.prepareStream();
  }

  /** A callback on the root context (a missing export counts as true / no-op). */
  callRoot(name: string, a = 0, b = 0, c = 0, d = 0, e = 0): number | undefined {
    return this.group.run(this, null, this.rootContextId, name, a, b, c, d, e);
  }

  /** A new stream context of this plugin, registered so the module may make it effective. */
  openContext(context: StreamFilter): void {
    this.group.openContext(context);
  }

  /** A stream's end: on_done, on_log, on_delete, then what they deferred. */
  endContext(context: StreamFilter): void {
    if (this.failed || this.released) return;
    this.group.endContext(context);
  }

  allocateContextId(): number {
    return this.group.allocateContextId();
  }

  /** A callback on a stream context; throws WasmTrap when the module traps. */
  callStream(context: StreamFilter, name: string, a = 0, b = 0, c = 0): number | undefined {
    return this.group.run(this, context, context.contextId, name, a, b, c, 0, 0);
  }

  /** Runs what host functions deferred during the last call into its VM. */
  runDeferred(): void {
    this.group.runDeferred();
  }

  defer(action: () => void, owner?: DeferOwner): void {
    this.group.defer(action, owner);
  }

  /**
   * A root callback from the host's own event (a tick, a queue item, a callout or gRPC
   * answer, …): a trap is the VM's failure (already logged); any other error is logged; none
   * escapes to the event loop.
   */
  callRootGuarded(what: string, name: string, a = 0, b = 0, c = 0, d = 0, e = 0): void {
    if (this.failed) return;
    try {
      this.callRoot(name, a, b, c, d, e);
    } catch (error) {
      if (!(error instanceof WasmTrap)) this.log(LogLevel.Error, `internal error delivering ${what}: ${(error as Error).message}`);
    }
  }

  /** Calls the root context's onTick now (what the timer does; tests call it directly). */
  tick(): void {
    if (this.released) return;
    this.callRootGuarded("a tick", "proxy_on_tick", this.rootContextId);
  }

  /** Stops the plugin's timer (and its VM's re-creation, once every plugin in it is closed); the plugin takes no further ticks. */
  close(): void {
    this.closed = true;
    this.setTickPeriod(0);
    if (this.group.plugins.every((p) => p.closed)) this.group.stopRecovery();
  }

  // Streams and the plugin's end. A plugin replaced by a reload serves the streams that began
  // on it until the last one ends, and is released then, as Envoy lets a replaced plugin's
  // streams finish before the plugin goes.

  /** Streams begun on this plugin and not finished yet. */
  activeStreams = 0;
  /** Replaced: no new stream comes here; released when the last one ends. */
  retiring = false;
  /** Released: nothing reaches the module any more. */
  released = false;
  private onReleased: (() => void) | null = null;

  /** A stream took this plugin (one of its filters is this plugin's). */
  streamStarted(): void {
    this.activeStreams++;
  }

  /** A stream that took this plugin has finished. */
  streamEnded(): void {
    if (--this.activeStreams === 0 && this.retiring) this.release();
  }

  /** Another plugin takes the new streams: this one is released once its last stream ends (at once when none is open). */
  retire(onReleased?: () => void): void {
    this.retiring = true;
    this.onReleased = onReleased ?? null;
    if (this.activeStreams <= 0) this.release();
  }

  /**
   * The plugin goes, as Envoy removes one: its timer stops, its root context gets on_done
   * (and on_delete when on_done agrees; one that answers false is not waited for, as
   * proxy_done here does not wait), its queues return to their previous owners, and callout
   * or gRPC answers still to come are dropped. Its VM goes with its last plugin.
   */
  release(): void {
    if (this.released) return;
    this.retiring = true; // no recovery of a dead VM for it from now on
    this.close();
    if (!this.failed) {
      try {
        if (this.callRoot("proxy_on_done", this.rootContextId) !== 0) this.callRoot("proxy_on_delete", this.rootContextId);
      } catch (e) {
        if (!(e instanceof WasmTrap)) throw e; // logged by run(); the plugin goes all the same
      }
    }
    this.discard();
    const done = this.onReleased;
    this.onReleased = null;
    done?.();
  }

  /** Nothing reaches the module from this plugin any more: no timer, no queue notification, no answer to a call it made. */
  private discard(): void {
    this.released = true;
    this.retiring = true;
    this.close();
    this.shared.queues.disown(this);
    this.outbound.close();
    this.group.leave(this);
  }

  // What the host functions ask of the plugin whose context is current (VmGroup forwards).

  queueReady(token: number): void {
    // Inside a call into its VM (it enqueued on its own queue): once the call returns.
    const deliver = () => {
      if (!this.released) this.callRootGuarded("a queue item", "proxy_on_queue_ready", this.rootContextId, token);
    };
    if (this.group.busy) this.group.defer(deliver);
    else deliver();
  }

  /**
   * As Envoy: a new period while ticks are running takes effect from the next tick (the tick
   * already scheduled keeps its time); 0 stops them.
   */
  setTickPeriod(ms: number): void {
    this.tickPeriodMs = ms;
    if (ms === 0) {
      this.tickTimer?.cancel();
      this.tickTimer = null;
    } else if (this.timedTicks && this.tickTimer === null) {
      this.scheduleTick();
    }
  }

  /** The next onTick one period from now; after it runs, the one after (unless onTick set a period itself, or stopped). */
  private scheduleTick(): void {
    this.tickTimer = this.clock.setTimer(this.tickPeriodMs, () => {
      this.tickTimer = null;
      this.tick();
      if (this.tickPeriodMs > 0 && this.tickTimer === null) this.scheduleTick();
    });
  }

  log(level: LogLevel, message: string): void {
    const entry: LogEntry = { level: LOG_LEVEL_NAMES[level], message, contextId: this.group.logContext, plugin: this.name };
    for (const collect of this.startCollectors) collect(entry);
    this.sink(entry);
  }

  pluginProperty(path: string[]): Uint8Array | undefined {
    if (path[0] === "node" && path.length >= 2) {
      if (path[1] === "id") return Buffer.from(this.node.id);
      if (path[1] === "cluster") return Buffer.from(this.node.cluster);
      const value = path[1] === "metadata" && path.length === 3 ? this.node.metadata[path[2]] : undefined;
      return typeof value === "string" ? Buffer.from(value) : undefined;
    }
    if (path.length !== 1) return undefined;
    switch (path[0]) {
      case "plugin_name": return Buffer.from(this.name);
      case "plugin_root_id": return Buffer.from(this.rootId);
      case "plugin_vm_id": return Buffer.from(this.vmId);
      default: return undefined;
    }
  }
}
