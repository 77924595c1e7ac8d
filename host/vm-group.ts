// One VM and every plugin running in it. As in Envoy, plugins with the same vm_id, VM
// configuration and code share one VM (its globals and memory), each with a root context of
// its own; context ids are the VM's, a trap fails the VM (so every plugin in it), and the VM is
// re-created with each plugin started again. This holds what is the VM's: the instance, the
// contexts, the call under way and what it deferred, the failure and the re-creation; the host
// functions act on it, asking the plugin whose context is current for what is the plugin's.
import { buildImports } from "./abi/index.ts";
import type { AbiHost, DeferOwner } from "./abi/host.ts";
import { LogLevel } from "./abi/types.ts";
import type { ForeignFunction } from "./abi/foreign.ts";
import type { ImportState } from "./abi/index.ts";
import { IdTable } from "./id-table.ts";
import type { Clock } from "./clock.ts";
import type { MetricRegistry } from "./state/metrics.ts";
import type { SharedState } from "./state/shared.ts";
import { CalloutTokens } from "./upstream/outbound.ts";
import { type CheckedModule, WasmTrap, WasmVm } from "./vm/vm.ts";
import type { Plugin } from "./plugin.ts";
import type { StreamFilter } from "./stream-filter.ts";

/** What every plugin of one VM has in common (Envoy's vm key, and this host's per-VM settings). */
export interface VmSettings {
  readonly checked: CheckedModule;
  /** The module, as errors name it: its file, or "inline module". */
  readonly moduleName: string;
  /** The deadline of each call into the module (ms; 0: none). */
  readonly deadlineMs: number;
  readonly vmId: string;
  readonly vmConfiguration: Uint8Array;
  readonly environment: Record<string, string>;
  readonly clock: Clock;
  readonly metrics: MetricRegistry;
  readonly shared: SharedState;
  readonly foreign: Record<string, ForeignFunction>;
  readonly observeImports: ImportState["observe"];
  /** A live proxy re-creates a failed VM in the background; elsewhere the next stream does. */
  readonly live: boolean;
}

export class VmGroup implements AbiHost {
  vm!: WasmVm;
  /** The plugins running in this VM, in the order they joined (retiring ones until released). */
  readonly plugins: Plugin[] = [];
  /** The plugin whose context is current (the one whose callback runs, or that is starting). */
  active!: Plugin;
  current: StreamFilter | null = null;
  phase: AbiHost["phase"] = "start";
  /** How many times the VM was re-created after a failure: a stream stays with the VM it began in. */
  restarts = 0;
  /** Callout and gRPC tokens, numbered per VM as proxy-wasm-cpp-host numbers them. */
  readonly tokens = new CalloutTokens();
  /** The context the module's log lines are attributed to. */
  logContext = 0;
  /** Called once the last plugin has left (the proxy forgets the VM then). */
  onEmpty: (() => void) | null = null;

  /** A re-creation that failed without a trap (a plugin refused its configuration again): the VM is failed all the same. */
  private broken: Error | null = null;
  private nextContextId = 1;
  private readonly contexts = new IdTable<StreamFilter>();
  private deferred: { action: () => void; owner: DeferOwner | undefined }[] = [];
  private depth = 0;
  /** Values the module stored with proxy_set_property outside a stream. */
  private readonly properties = new Map<string, Uint8Array>();
  private recovery: NodeJS.Timeout | null = null;
  private recoveryDelayMs = 0;

  constructor(readonly settings: VmSettings) {}

  get vmId(): string {
    return this.settings.vmId;
  }
  get vmConfiguration(): Uint8Array {
    return this.settings.vmConfiguration;
  }
  get environment(): Record<string, string> {
    return this.settings.environment;
  }
  get clock(): Clock {
    return this.settings.clock;
  }

  get failed(): boolean {
    return this.vm.failure !== null || this.broken !== null;
  }

  /** Why the VM failed (its trap's message), or null. */
  get failure(): string | null {
    return this.vm.failure?.message ?? this.broken?.message ?? null;
  }

  allocateContextId(): number {
    return this.nextContextId++;
  }

  /** A fresh instance of the module, its start and _initialize run (throws WasmTrap); no root context yet. */
  create(first: Plugin): void {
    this.vm = new WasmVm(this.settings.checked, this.settings.deadlineMs);
    this.broken = null;
    this.properties.clear();
    this.tokens.reset();
    this.active = first;
    const { metrics, shared, foreign, observeImports } = this.settings;
    this.vm.instantiate(buildImports(this, { properties: this.properties, metrics, shared, foreign, observe: observeImports }));
    this.phase = "start";
    try {
      this.vm.start();
    } finally {
      this.phase = "running";
    }
  }

  /**
   * Makes `plugin`'s root context in the VM: context create, on_vm_start, on_configure. The
   * refusal, if the module refused (a trap is thrown as it is).
   */
  startRoot(plugin: Plugin): string | null {
    if (!this.plugins.includes(plugin)) this.plugins.push(plugin);
    plugin.generation = this.restarts;
    const root = plugin.rootContextId;
    try {
      this.phase = "start";
      this.run(plugin, null, root, "proxy_on_context_create", root, 0, 0, 0, 0);
      this.phase = "vm_start";
      if (this.run(plugin, null, root, "proxy_on_vm_start", root, this.vmConfiguration.length, 0, 0, 0) === 0) return "proxy_on_vm_start returned false";
      this.phase = "configure";
      if (this.run(plugin, null, root, "proxy_on_configure", root, plugin.configuration.length, 0, 0, 0) === 0) {
        return "proxy_on_configure returned false (the configuration was refused)";
      }
      return null;
    } finally {
      this.phase = "running";
    }
  }

  /** `plugin` goes: the VM goes with its last plugin. */
  leave(plugin: Plugin): void {
    const at = this.plugins.indexOf(plugin);
    if (at >= 0) this.plugins.splice(at, 1);
    if (this.plugins.length > 0) {
      const its: StreamFilter[] = [];
      this.contexts.forEach((context) => context.plugin === plugin && its.push(context));
      for (const context of its) this.contexts.delete(context.contextId);
      return;
    }
    this.stopRecovery();
    this.contexts.clear();
    this.deferred = [];
    const empty = this.onEmpty;
    this.onEmpty = null;
    empty?.();
  }

  /** The plugins new streams may still take (not replaced by a reload). */
  private get serving(): Plugin[] {
    return this.plugins.filter((p) => !p.retiring);
  }

  /** Whether another plugin may join: the VM is alive and serves streams. */
  get joinable(): boolean {
    return !this.failed && this.plugins.some((p) => !p.retiring);
  }

  /**
   * The VM died (a trap once a plugin runs, or while one joined): every stream context held
   * waiting on it (any plugin's) fails now, but `except`, whose own callback trapped and which
   * fails through its stream, rather than hanging until an event that may never come; a live
   * proxy re-creates the VM in the background.
   */
  lost(except: StreamFilter | null): void {
    const held: StreamFilter[] = [];
    this.contexts.forEach((context) => context !== except && held.push(context));
    for (const context of held) context.vmFailed();
    if (this.settings.live) this.scheduleRecovery();
  }

  // Re-creation after a failure.

  /**
   * In a live proxy a dead VM is re-created in the background, as Envoy's reload policy
   * does (retrying with a growing delay while it fails); streams meanwhile get each plugin's
   * fail-open or fail-closed answer.
   */
  private scheduleRecovery(): void {
    if (this.recovery) return;
    this.recovery = setTimeout(() => {
      this.recovery = null;
      if (this.recoverIfFailed()) this.recoveryDelayMs = 0;
      else if (this.serving.length > 0) {
        this.recoveryDelayMs = Math.min(10_000, Math.max(100, this.recoveryDelayMs * 2));
        this.scheduleRecovery();
      }
    }, this.recoveryDelayMs);
    this.recovery.unref();
  }

  stopRecovery(): void {
    if (this.recovery) clearTimeout(this.recovery);
    this.recovery = null;
  }

  /**
   * Before a stream: a dead VM is re-created now, so the stream runs on a fresh one (a live
   * proxy also re-creates it in the background; whichever comes first makes it). Once a
   * re-creation has failed, a live proxy waits for its back-off timer instead of trying per stream.
   */
  prepareStream(): void {
    if (!this.failed) return;
    if (!this.settings.live) {
      this.recoverIfFailed();
      return;
    }
    if (this.recoveryDelayMs > 0) return;
    const recovered = this.recoverIfFailed();
    this.stopRecovery();
    if (!recovered) {
      this.recoveryDelayMs = 100;
      this.scheduleRecovery();
    }
  }

  /** After a trap the VM is dead (as in Envoy); this makes a fresh one and starts every plugin still serving in it. */
  recoverIfFailed(): boolean {
    const plugins = this.serving;
    if (plugins.length === 0) return false;
    if (!this.failed) return true;
    const cause = this.failure;
    this.contexts.clear();
    this.restarts++;
    for (const plugin of plugins) plugin.log(LogLevel.Warn, `re-creating the VM after: ${cause}`);
    try {
      plugins.forEach((plugin, i) => plugin.start(i === 0));
      return true;
    } catch (e) {
      if (this.vm.failure === null) this.broken = e as Error;
      for (const plugin of plugins) plugin.log(LogLevel.Error, `could not re-create the VM: ${(e as Error).message}`);
      return false;
    }
  }

  // Calls into the module.

  /** A new stream context, registered so the module may make it effective. */
  openContext(context: StreamFilter): void {
    this.contexts.set(context.contextId, context);
    this.run(context.plugin, context, context.contextId, "proxy_on_context_create", context.contextId, context.plugin.rootContextId, 0, 0, 0);
  }

  /** A stream's end: on_done, on_log, on_delete (a trap there is logged and the end goes on), then what they deferred. */
  endContext(context: StreamFilter): void {
    const id = context.contextId;
    try {
      this.run(context.plugin, context, id, "proxy_on_done", id, 0, 0, 0, 0);
      this.run(context.plugin, context, id, "proxy_on_log", id, 0, 0, 0, 0);
      this.run(context.plugin, context, id, "proxy_on_delete", id, 0, 0, 0, 0);
    } catch (e) {
      if (!(e instanceof WasmTrap)) throw e;
    } finally {
      this.contexts.delete(id);
    }
    this.runDeferred(); // e.g. onQueueReady for what onLog enqueued
  }

  /** A callback of `plugin`'s (on a stream context, or its root context when `context` is null); throws WasmTrap. */
  run(plugin: Plugin, context: StreamFilter | null, logContext: number, name: string, a: number, b: number, c: number, d: number, e: number): number | undefined {
    // A callback the module does not export (SDK modules leave out those no context overrides)
    // runs nothing: no context to make current, nothing deferred. A dead VM still answers with its failure.
    const fn = this.vm.exported(name);
    if (fn === undefined && this.vm.failure === null) return undefined;
    const savedActive = this.active, savedContext = this.current, savedLogContext = this.logContext;
    this.active = plugin;
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
        plugin.log(LogLevel.Error, `${e.message}${where}`);
      }
      throw e;
    } finally {
      this.depth--;
      this.active = savedActive;
      this.current = savedContext;
      this.logContext = savedLogContext;
      // Root callbacks act at once; a stream runs its filter's actions once it has taken
      // the callback's answer into account (see HttpDirection).
      if (this.depth === 0 && context === null) this.runDeferred();
      if (trapped && this.depth === 0) this.lost(context);
    }
  }

  /** Whether a call into the module is under way. */
  get busy(): boolean {
    return this.depth > 0;
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
        this.active.log(LogLevel.Error, `internal error acting on what the module asked: ${error.message}`);
        try {
          owner?.internalError(error);
        } catch (again) {
          this.active.log(LogLevel.Error, `internal error failing the stream: ${(again as Error).message}`);
        }
      }
    }
  }

  // AbiHost: what is the VM's is answered here, what is the plugin's by the plugin whose context is current.

  get name(): string {
    return this.active.name;
  }
  get rootContextId(): number {
    return this.active.rootContextId;
  }
  get configuration(): Uint8Array {
    return this.active.configuration;
  }
  get logLevel(): LogLevel {
    return this.active.logLevel;
  }
  get outbound(): Plugin["outbound"] {
    return this.active.outbound;
  }
  get queueOwner(): Plugin {
    return this.active;
  }

  log(level: LogLevel, message: string): void {
    this.active.log(level, message);
  }

  pluginProperty(path: string[]): Uint8Array | undefined {
    return this.active.pluginProperty(path);
  }

  setTickPeriod(ms: number): void {
    this.active.setTickPeriod(ms);
  }

  defer(action: () => void, owner?: DeferOwner): void {
    this.deferred.push({ action, owner });
  }

  setEffectiveContext(contextId: number): boolean {
    const context = this.contexts.get(contextId);
    if (context !== undefined) {
      this.current = context;
      this.active = context.plugin;
    } else {
      const root = this.plugins.find((p) => p.rootContextId === contextId && p.generation === this.restarts && !p.released);
      if (root === undefined) return false;
      this.current = null;
      this.active = root;
    }
    this.logContext = contextId;
    return true;
  }
}
