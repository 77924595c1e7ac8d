// One plugin: its configuration, its VM (created once, reused by every stream, re-created
// after a trap), its root context, and the calls into the module with the current context set.
import { readFile } from "node:fs/promises";
import { type ImportState, buildImports, hostFunctionNames } from "./abi/index.ts";
import type { AbiHost, DeferOwner, StreamContext } from "./abi/host.ts";
import { LOG_LEVEL_NAMES, LogLevel, type LogLevelName } from "./abi/types.ts";
import { IdTable } from "./id-table.ts";
import { MetricRegistry } from "./state/metrics.ts";
import { type CalloutSender, type GrpcSender, OutboundCalls } from "./upstream/outbound.ts";
import { DEFAULT_FOREIGN_FUNCTIONS, type ForeignFunction } from "./abi/foreign.ts";
import { SharedState } from "./state/shared.ts";
import { type Clock, type Timer, wallClock } from "./clock.ts";
import { type CheckedModule, ModuleError, WasmTrap, WasmVm, checkModule } from "./vm/vm.ts";
import { DEFAULT_DEADLINE_MS } from "./vm/deadline.ts";

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

const ROOT_CONTEXT_ID = 1;

export class Plugin implements AbiHost {
  readonly name: string;
  readonly rootId: string;
  readonly vmId: string;
  readonly failOpen: boolean;
  readonly configuration: Uint8Array;
  readonly vmConfiguration: Uint8Array;
  readonly environment: Record<string, string>;
  readonly rootContextId = ROOT_CONTEXT_ID;
  logLevel: LogLevel;
  vm!: WasmVm;
  current: StreamContext | null = null;
  phase: AbiHost["phase"] = "start";
  /** How many times the VM was re-created after a failure. */
  restarts = 0;

  private nextContextId = ROOT_CONTEXT_ID + 1;
  private readonly contexts = new IdTable<StreamContext>();
  private deferred: { action: () => void; owner: DeferOwner | undefined }[] = [];
  private depth = 0;
  private logContext = 0;
  private readonly properties = new Map<string, Uint8Array>();
  readonly metrics: MetricRegistry;
  readonly shared: SharedState;
  /** The tick period the module asked for (0: none). */
  tickPeriodMs = 0;
  private readonly live: boolean;
  private recovery: NodeJS.Timeout | null = null;
  private recoveryDelayMs = 0;
  private readonly foreign: Record<string, ForeignFunction>;
  private readonly observeImports: ImportState["observe"];
  /** HTTP callouts and gRPC calls the module makes, and what their answers let it read. */
  readonly outbound: OutboundCalls;
  private readonly node: NonNullable<PluginConfig["node"]>;
  readonly clock: Clock;
  /** Whether onTick runs on the clock's timer; when not, only tick() runs it. */
  private readonly timedTicks: boolean;
  /** The next onTick, while a period is set and ticks are timed. */
  private tickTimer: Timer | null = null;
  /** The deadline of each call into the module (ms; 0: none). */
  readonly deadlineMs: number;
  /** The module, as errors name it: its file, or "inline module". */
  readonly moduleName: string;

  private constructor(private readonly checked: CheckedModule, config: PluginConfig, private readonly sink: LogSink, moduleName: string) {
    this.deadlineMs = checked.deadlines ? config.deadlineMs ?? DEFAULT_DEADLINE_MS : 0;
    this.moduleName = moduleName;
    this.name = config.name ?? config.rootId ?? "plugin";
    this.rootId = config.rootId ?? "";
    this.vmId = config.vmId ?? "";
    this.failOpen = config.failOpen ?? false;
    this.configuration = bytesOf(config.configuration);
    this.vmConfiguration = bytesOf(config.vmConfiguration);
    this.environment = config.environment ?? {};
    this.metrics = config.metrics ?? new MetricRegistry();
    this.shared = config.shared ?? new SharedState();
    this.live = config.live ?? false;
    this.clock = config.clock ?? wallClock;
    this.timedTicks = this.live || this.clock !== wallClock;
    this.outbound = new OutboundCalls(this, config.callouts ?? null, config.grpc ?? null);
    this.foreign = { ...DEFAULT_FOREIGN_FUNCTIONS, ...config.foreignFunctions };
    this.observeImports = config.observeImports;
    this.node = config.node ?? { id: "", cluster: "", metadata: {} };
    this.logLevel = LOG_LEVEL_NAMES.indexOf(config.logLevel ?? "info") as LogLevel;
  }

  /** Loads a module (path or bytes) and starts the plugin: a ModuleError or PluginStartError names the cause. */
  static async load(source: string | Uint8Array, config: PluginConfig, sink: LogSink): Promise<Plugin> {
    const deadlineMs = config.deadlineMs ?? DEFAULT_DEADLINE_MS;
    if (!Number.isFinite(deadlineMs) || deadlineMs < 0) throw new RangeError(`deadlineMs: expected a number of ms >= 0, found ${deadlineMs}`);
    const memoryLimitBytes = config.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES;
    const path = typeof source === "string" ? source : config.modulePath ?? null;
    const checked = await checkModule(await readModule(source), hostFunctionNames, { deadlines: deadlineMs > 0, memoryLimitBytes, path });
    const plugin = new Plugin(checked, config, sink, path ?? "inline module");
    if (checked.deadlinesOff) plugin.log(LogLevel.Warn, `no deadline on calls into ${plugin.moduleName}: ${checked.deadlinesOff}`);
    try {
      plugin.start();
    } catch (e) {
      plugin.discard(); // no retry in the background, no queue left pointing at it
      throw e;
    }
    return plugin;
  }

  get abiVersion() {
    return this.checked.abiVersion;
  }

  get failed(): boolean {
    return this.vm.failure !== null;
  }

  /** Instantiates the VM and runs start, on_vm_start and on_configure; throws PluginStartError. */
  private start(): void {
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
      this.vm = new WasmVm(this.checked, this.deadlineMs);
      this.properties.clear();
      this.setTickPeriod(0);
      this.vm.instantiate(buildImports(this, { properties: this.properties, metrics: this.metrics, shared: this.shared, foreign: this.foreign, observe: this.observeImports }));
      this.phase = "start";
      this.vm.start();
      this.callRoot("proxy_on_context_create", ROOT_CONTEXT_ID, 0);
      this.phase = "vm_start";
      if (this.callRoot("proxy_on_vm_start", ROOT_CONTEXT_ID, this.vmConfiguration.length) === 0) fail("proxy_on_vm_start returned false");
      this.phase = "configure";
      if (this.callRoot("proxy_on_configure", ROOT_CONTEXT_ID, this.configuration.length) === 0) {
        fail("proxy_on_configure returned false (the configuration was refused)");
      }
    } catch (e) {
      if (e instanceof WasmTrap) fail(`${e.message} while starting`);
      throw e;
    } finally {
      this.phase = "running";
      this.startCollectors.splice(this.startCollectors.indexOf(collect), 1);
    }
  }

  private readonly startCollectors: LogSink[] = [];

  /**
   * In a live proxy a dead VM is re-created in the background, as Envoy's reload policy
   * does (retrying with a growing delay while it fails); streams meanwhile get the plugin's
   * fail-open or fail-closed answer.
   */
  private scheduleRecovery(): void {
    if (this.recovery) return;
    this.recovery = setTimeout(() => {
      this.recovery = null;
      if (this.recoverIfFailed()) this.recoveryDelayMs = 0;
      else {
        this.recoveryDelayMs = Math.min(10_000, Math.max(100, this.recoveryDelayMs * 2));
        this.scheduleRecovery();
      }
    }, this.recoveryDelayMs);
    this.recovery.unref();
  }

  /**
   * Before a stream: a dead VM is re-created now, so the stream runs on a fresh one (a live
   * proxy also re-creates it in the background; whichever comes first makes it). Once a
   * re-creation has failed, a live proxy waits for its back-off timer instead of trying per stream.
   */
  prepareStream(): void {
    if (!this.failed) return;
    if (!this.live) {
      this.recoverIfFailed();
      return;
    }
    if (this.recoveryDelayMs > 0) return;
    const recovered = this.recoverIfFailed();
    if (this.recovery) clearTimeout(this.recovery);
    this.recovery = null;
    if (!recovered) {
      this.recoveryDelayMs = 100;
      this.scheduleRecovery();
    }
  }

  /** After a trap the VM is dead (as in Envoy); this makes a fresh one (not for a plugin replaced by a reload). */
  recoverIfFailed(): boolean {
    if (this.retiring) return false;
    if (!this.failed) return true;
    this.contexts.clear();
    this.restarts++;
    this.log(LogLevel.Warn, `re-creating the VM after: ${this.vm.failure!.message}`);
    try {
      this.start();
      return true;
    } catch (e) {
      this.log(LogLevel.Error, `could not re-create the VM: ${(e as Error).message}`);
      return false;
    }
  }

  /** A callback on the root context (a missing export counts as true / no-op). */
  callRoot(name: string, a = 0, b = 0, c = 0, d = 0, e = 0): number | undefined {
    return this.run(null, ROOT_CONTEXT_ID, name, a, b, c, d, e);
  }

  /** A new stream context id, registered so the module may make it effective. */
  openContext(context: StreamContext): void {
    this.contexts.set(context.contextId, context);
    this.callStream(context, "proxy_on_context_create", context.contextId, ROOT_CONTEXT_ID);
  }

  /** A stream's end: on_done, on_log, on_delete (a trap there is logged and the end goes on), then what they deferred. */
  endContext(context: StreamContext): void {
    if (this.failed || this.released) return;
    try {
      this.callStream(context, "proxy_on_done", context.contextId);
      this.callStream(context, "proxy_on_log", context.contextId);
      this.callStream(context, "proxy_on_delete", context.contextId);
    } catch (e) {
      if (!(e instanceof WasmTrap)) throw e;
    } finally {
      this.contexts.delete(context.contextId);
    }
    this.runDeferred(); // e.g. onQueueReady for what onLog enqueued
  }

  allocateContextId(): number {
    return this.nextContextId++;
  }

  /** A callback on a stream context; throws WasmTrap when the module traps. */
  callStream(context: StreamContext, name: string, a = 0, b = 0, c = 0): number | undefined {
    return this.run(context, context.contextId, name, a, b, c, 0, 0);
  }

  private run(context: StreamContext | null, logContext: number, name: string, a: number, b: number, c: number, d: number, e: number): number | undefined {
    // A callback the module does not export (SDK modules leave out those no context overrides)
    // runs nothing: no context to make current, nothing deferred. A dead VM still answers with its failure.
    const fn = this.vm.exported(name);
    if (fn === undefined && this.vm.failure === null) return undefined;
    const savedContext = this.current, savedLogContext = this.logContext;
    this.current = context;
    this.logContext = logContext;
    this.depth++;
    let trapped = false;
    try {
      return this.vm.invoke(name, fn, a, b, c, d, e);
    } catch (e) {
      // A trap while starting is the start's error (thrown, one line); later, the VM's failure, logged.
      if (e instanceof WasmTrap && this.phase === "running") {
        trapped = true;
        this.deferred = [];
        const where = e.wasmStack ? `\n${e.wasmStack}` : "";
        this.log(LogLevel.Error, `${e.message}${where}`);
        if (this.live) this.scheduleRecovery();
      }
      throw e;
    } finally {
      this.depth--;
      this.current = savedContext;
      this.logContext = savedLogContext;
      // Root callbacks act at once; a stream runs its filter's actions once it has taken
      // the callback's answer into account (see HttpDirection).
      if (this.depth === 0 && context === null) this.runDeferred();
      if (trapped && this.depth === 0) this.failHeldStreams(context);
    }
  }

  /**
   * The VM died: every other stream context held waiting on it fails now (the one whose
   * callback trapped fails through its own stream), rather than hanging until an event that
   * may never come.
   */
  private failHeldStreams(except: StreamContext | null): void {
    const held: StreamContext[] = [];
    this.contexts.forEach((context) => context !== except && held.push(context));
    for (const context of held) context.vmFailed?.();
  }

  /**
   * Runs what host functions deferred during the last call (continue, local reply, …). An
   * error while acting on one fails the stream it belongs to (or is logged), and never
   * escapes: these run from timers, callout answers and queue deliveries too.
   */
  runDeferred(): void {
    while (this.deferred.length && this.depth === 0) {
      const { action, owner } = this.deferred.shift()!;
      try {
        action();
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        this.log(LogLevel.Error, `internal error acting on what the module asked: ${error.message}`);
        try {
          owner?.internalError(error);
        } catch (again) {
          this.log(LogLevel.Error, `internal error failing the stream: ${(again as Error).message}`);
        }
      }
    }
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
    this.callRootGuarded("a tick", "proxy_on_tick", ROOT_CONTEXT_ID);
  }

  /** Stops the plugin's timer; the plugin takes no further ticks. */
  close(): void {
    this.setTickPeriod(0);
    if (this.recovery) clearTimeout(this.recovery);
    this.recovery = null;
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
   * or gRPC answers still to come are dropped.
   */
  release(): void {
    if (this.released) return;
    this.retiring = true; // no recovery of a dead VM from now on
    this.close();
    if (!this.failed) {
      try {
        if (this.callRoot("proxy_on_done", ROOT_CONTEXT_ID) !== 0) this.callRoot("proxy_on_delete", ROOT_CONTEXT_ID);
      } catch (e) {
        if (!(e instanceof WasmTrap)) throw e; // logged by run(); the plugin goes all the same
      }
    }
    this.discard();
    const done = this.onReleased;
    this.onReleased = null;
    done?.();
  }

  /** Nothing reaches the module any more: no timer, no queue notification, no answer to a call it made. */
  private discard(): void {
    this.released = true;
    this.retiring = true;
    this.close();
    this.shared.queues.disown(this);
    this.outbound.close();
    this.contexts.clear();
    this.deferred = [];
  }

  // AbiHost

  queueReady(token: number): void {
    // Inside a call into this module (it enqueued on its own queue): once the call returns.
    const deliver = () => {
      if (!this.released) this.callRootGuarded("a queue item", "proxy_on_queue_ready", ROOT_CONTEXT_ID, token);
    };
    if (this.depth > 0) this.defer(deliver);
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

  defer(action: () => void, owner?: DeferOwner): void {
    this.deferred.push({ action, owner });
  }

  setEffectiveContext(contextId: number): boolean {
    if (contextId === ROOT_CONTEXT_ID) {
      this.current = null;
      this.logContext = contextId;
      return true;
    }
    const context = this.contexts.get(contextId);
    if (!context) return false;
    this.current = context;
    this.logContext = contextId;
    return true;
  }

  log(level: LogLevel, message: string): void {
    const entry: LogEntry = { level: LOG_LEVEL_NAMES[level], message, contextId: this.logContext, plugin: this.name };
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
