// One instance of a Proxy-Wasm module: loading and checking it, calling its exports with
// traps contained, and bounds-checked access to its memory.
import { disallowedImport } from "../abi/allowed-imports.ts";
import { hostFunctionType } from "../abi/signatures.ts";
import type { AbiVersion } from "../abi/types.ts";
import { type FunctionType, capMemory, formatType, moduleTypes } from "./wasm-types.ts";
import { type Frame, ModuleSymbols, authorFrame, formatFrame } from "./symbols.ts";
import { DeadlineExceeded, GUARD_MODULE, TICKS_PER_CHECK, instrumentForDeadlines } from "./deadline.ts";
import { TextCache } from "./text-cache.ts";

const ABI_EXPORTS: [string, AbiVersion][] = [
  ["proxy_abi_version_0_2_1", "0.2.1"], ["proxy_abi_version_0_2_0", "0.2.0"], ["proxy_abi_version_0_1_0", "0.1.0"],
];

/** The types of the callbacks a host calls ([i32 parameter count, i32 result count]); a module exporting one of another type is refused. */
function callbackShapes(abi: AbiVersion): Record<string, [params: number, results: number]> {
  const eos = abi === "0.1.0" ? 0 : 1; // 0.1.0 headers callbacks have no end_of_stream
  return {
    proxy_on_context_create: [2, 0], proxy_on_vm_start: [2, 1], proxy_on_configure: [2, 1], proxy_on_tick: [1, 0],
    proxy_on_queue_ready: [2, 0], proxy_on_done: [1, 1], proxy_on_log: [1, 0], proxy_on_delete: [1, 0],
    proxy_on_request_headers: [2 + eos, 1], proxy_on_request_body: [3, 1], proxy_on_request_trailers: [2, 1],
    proxy_on_response_headers: [2 + eos, 1], proxy_on_response_body: [3, 1], proxy_on_response_trailers: [2, 1],
    proxy_on_new_connection: [1, 1], proxy_on_downstream_data: [3, 1], proxy_on_upstream_data: [3, 1],
    proxy_on_downstream_connection_close: [2, 0], proxy_on_upstream_connection_close: [2, 0],
    proxy_on_http_call_response: [5, 0], proxy_on_grpc_receive_initial_metadata: [3, 0], proxy_on_grpc_receive: [3, 0],
    proxy_on_grpc_receive_trailing_metadata: [3, 0], proxy_on_grpc_close: [3, 0], proxy_on_foreign_function: [3, 0],
    proxy_on_memory_allocate: [1, 1], malloc: [1, 1],
  };
}

const i32s = (n: number): FunctionType["params"] => Array.from({ length: n }, () => "i32");
const sameType = (a: FunctionType, b: FunctionType) =>
  a.params.join() === b.params.join() && a.results.join() === b.results.join();

/** A call whose deadline its first fuel check sets. */
const UNTIMED = -1;

/** A module the host refuses to load; the message names the cause. */
export class ModuleError extends Error {
  override name = "ModuleError";
}

/**
 * A trap (or host-side exception) inside a call into the module. Its message names the
 * author's frame (`… trapped in assembly/index.ts:32:16 (Filter#onRequestHeaders): unreachable`)
 * where the module's map or name section allows; wasmStack lists every wasm frame.
 */
export class WasmTrap extends Error {
  override name = "WasmTrap";
  /** The wasm frames, innermost first, mapped to the source where the module's map reaches. */
  readonly frames: Frame[];
  constructor(readonly exportName: string, readonly cause: unknown, symbols: ModuleSymbols | null = null) {
    // A trap in a call the host made from inside another (malloc during a callback) is the outer call's.
    const inner = cause instanceof WasmTrap ? cause : null;
    const reason = inner ? inner.cause : cause;
    const what = inner ? `${exportName} (in ${inner.exportName})` : exportName;
    const frames = inner ? inner.frames : symbols && reason instanceof Error && reason.stack ? symbols.frames(reason.stack) : [];
    const author = authorFrame(frames);
    const where = author ? ` in ${formatFrame(author)}` : "";
    super(reason instanceof DeadlineExceeded || reason instanceof HostCallRefused
      ? `${what} ${reason.message}${where && ` (at ${formatFrame(author!)})`}`
      : `${what} trapped${where}: ${reason instanceof Error ? reason.message : String(reason)}`);
    this.frames = frames;
  }
  /** The wasm frames of the trap, one `at …` line each, when the engine reported them. */
  get wasmStack(): string {
    return this.frames.map((f) => `    at ${formatFrame(f)}`).join("\n");
  }
}

/** A host function called where hosts do not allow it (a start section, start, a host-made malloc). */
export class HostCallRefused extends Error {
  override name = "HostCallRefused";
  constructor(readonly fn: string, readonly where: string) {
    super(where === "the start section"
      ? `called ${fn}: a start section may call no host function (Envoy cannot instantiate such a module)`
      : `called ${fn}, which hosts do not allow during ${where} (only logging, clocks, random and WASI)`);
  }
}

/** Thrown by WASI proc_exit to unwind the module. */
export class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`the module called proc_exit(${code})`);
  }
}

/** A compiled module with its ABI version, checked against what the host provides. */
export interface CheckedModule {
  module: WebAssembly.Module;
  abiVersion: AbiVersion;
  /** What maps its traps to the source. */
  symbols: ModuleSymbols;
  /** The module was instrumented for deadlines (its calls end past their deadline). */
  deadlines: boolean;
  /** Why deadlines could not be put on this module, if they could not. */
  deadlinesOff?: string;
}

export interface CheckOptions {
  /** Instrument the module so calls into it can be ended at a deadline (host/vm/deadline.ts). */
  deadlines?: boolean;
  /** The most bytes its linear memory may grow to (memory.grow answers -1 past it); none: the engine's 4 GiB. */
  memoryLimitBytes?: number;
  /** The module's file: its map (traps → source) is looked for beside it. */
  path?: string | null;
}

/** Compiles and checks a module: its ABI version, its imports against `provided`, its callbacks' shapes. */
export async function checkModule(bytes: Uint8Array, provided: (abi: AbiVersion) => Set<string>, options: CheckOptions = {}): Promise<CheckedModule> {
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new ModuleError(`not a valid WebAssembly module: ${(e as Error).message}`);
  }
  const exports = WebAssembly.Module.exports(module);
  const names = new Set(exports.map((e) => e.name));
  const found = ABI_EXPORTS.find(([name]) => names.has(name));
  if (!found) {
    const other = exports.find((e) => e.name.startsWith("proxy_abi_version_"));
    throw new ModuleError(other
      ? `unsupported Proxy-Wasm ABI version: the module exports ${other.name}; this host runs 0.1.0, 0.2.0 and 0.2.1`
      : "missing Proxy-Wasm ABI version: the module exports none of proxy_abi_version_0_2_1, _0_2_0, _0_1_0");
  }
  const abiVersion = found[1];
  const known = provided(abiVersion);
  const unknown = WebAssembly.Module.imports(module)
    .filter((i) => i.kind !== "function" || disallowedImport(i.module, i.name) !== null || (i.module === "env" && !known.has(i.name)))
    .map((i) => `${i.module}.${i.name}`);
  if (unknown.length) throw new ModuleError(`unknown import${unknown.length > 1 ? "s" : ""} (not provided by a Proxy-Wasm ${abiVersion} host): ${unknown.join(", ")}`);
  if (!names.has("memory")) throw new ModuleError("missing export: memory");
  if (!names.has("malloc") && !names.has("proxy_on_memory_allocate")) {
    throw new ModuleError("missing export: malloc or proxy_on_memory_allocate (the host needs one to hand the module values)");
  }
  const memory = exports.find((e) => e.name === "memory")!;
  if (memory.kind !== "memory") throw new ModuleError(`export memory is a ${memory.kind}, not a memory`);
  checkTypes(bytes, abiVersion, exports);
  const symbols = new ModuleSymbols(bytes, options.path ?? null);
  let capped = bytes;
  if (options.memoryLimitBytes !== undefined) {
    try {
      capped = capMemory(bytes, options.memoryLimitBytes);
    } catch (e) {
      throw new ModuleError((e as Error).message);
    }
    if (capped !== bytes) {
      module = await WebAssembly.compile(capped as Uint8Array<ArrayBuffer>);
      symbols.runs(capped);
    }
  }
  if (!options.deadlines) return { module, abiVersion, deadlines: false, symbols };
  try {
    const instrumented = instrumentForDeadlines(capped);
    symbols.runs(capped, instrumented.offsets);
    return { module: await WebAssembly.compile(instrumented.bytes as Uint8Array<ArrayBuffer>), abiVersion, deadlines: true, symbols };
  } catch (e) {
    return { module, abiVersion, deadlines: false, deadlinesOff: (e as Error).message, symbols };
  }
}

/** Imports must have the types the host registers, callbacks the types the host calls (as in proxy-wasm-cpp-host). */
function checkTypes(bytes: Uint8Array, abi: AbiVersion, exports: WebAssembly.ModuleExportDescriptor[]): void {
  const types = moduleTypes(bytes);
  for (const [name, type] of types.imports) {
    const dot = name.indexOf(".");
    const expected = hostFunctionType(name.slice(0, dot), name.slice(dot + 1));
    if (expected && !sameType(type, expected)) {
      throw new ModuleError(`import ${name} has type ${formatType(type)}; hosts provide it as ${formatType(expected)}`);
    }
  }
  for (const [name, [params, results]] of Object.entries(callbackShapes(abi))) {
    const kind = exports.find((e) => e.name === name)?.kind;
    if (kind === undefined) continue;
    const type = types.exports.get(name);
    if (kind !== "function" || !type) throw new ModuleError(`export ${name} is a ${kind}, not a function`);
    const expected: FunctionType = { params: i32s(params), results: i32s(results) };
    if (!sameType(type, expected)) {
      throw new ModuleError(`export ${name} has type ${formatType(type)}; ABI ${abi} calls it as ${formatType(expected)}`);
    }
  }
}

export type ExportedFunction = (a: number, b: number, c: number, d: number, e: number) => number | undefined;

export class WasmVm {
  /** The module's function exports by name (a Map: a keyed load on the exports object cost more per call). */
  private functions = new Map<string, ExportedFunction>();
  private memory!: WebAssembly.Memory;
  private buffer!: ArrayBuffer;
  private u8 = new Uint8Array(0);
  /**
   * The same memory as a Buffer, for Node's UTF-8 coding (faster than TextEncoder/TextDecoder on
   * short strings). Never handed out by bytes(): a Buffer's slice() does not copy.
   */
  private buf!: Buffer;
  private view!: DataView;
  /** Texts the module hands over again and again (header names and values), decoded once. */
  private readonly texts = new TextCache();
  private allocatorName = "malloc";
  /** Set once a call trapped: the VM is dead and takes no further calls. */
  failure: WasmTrap | null = null;
  /** Calls into the module under way (a host function may call malloc inside a callback). */
  private depth = 0;
  /**
   * When the outermost call under way must have returned (performance.now() ms), or
   * UNTIMED: set by the call's first fuel check, not at its start, since reading the clock on
   * every call cost more than a short callback (the check comes within one refill's worth of
   * work of the start, so a call may run that much past its deadline at most, as at the end).
   */
  private deadlineAt = Infinity;
  /**
   * Where host functions are refused, or null (running): "the start section" refuses every
   * one; start and host-made malloc calls allow logging, clocks, random and WASI only.
   */
  restriction: string | null = null;

  /** The VM exists before its instance so host functions can be bound to it; call instantiate next. */
  constructor(readonly checked: CheckedModule, readonly deadlineMs = 0) {}

  /** Answers the instrumented code when its fuel runs out: more fuel, or a throw past the deadline. */
  private readonly checkDeadline = (): number => {
    const now = performance.now();
    if (now <= this.deadlineAt) return TICKS_PER_CHECK;
    if (this.deadlineAt === UNTIMED) {
      this.deadlineAt = now + this.deadlineMs;
      return TICKS_PER_CHECK;
    }
    throw new DeadlineExceeded(this.deadlineMs);
  };

  instantiate(imports: WebAssembly.Imports): void {
    if (this.checked.deadlines) imports = { ...imports, [GUARD_MODULE]: { check: this.checkDeadline } };
    let instance: WebAssembly.Instance;
    this.restriction = "the start section";
    this.deadlineAt = this.deadlineMs > 0 ? performance.now() + this.deadlineMs : Infinity;
    try {
      instance = new WebAssembly.Instance(this.checked.module, imports);
    } catch (error) {
      // A start section that traps, runs past the deadline or calls the host.
      if (error instanceof WebAssembly.LinkError || error instanceof WebAssembly.CompileError) throw error;
      this.failure = new WasmTrap("the start section", error, this.checked.symbols);
      throw this.failure;
    } finally {
      this.restriction = null;
      this.deadlineAt = Infinity;
    }
    const exports = instance.exports as Record<string, unknown>;
    if (!(exports.memory instanceof WebAssembly.Memory)) throw new ModuleError("export memory is not a memory");
    this.functions = new Map(Object.entries(exports).filter((e): e is [string, ExportedFunction] => typeof e[1] === "function"));
    this.memory = exports.memory;
    this.refresh();
    this.allocatorName = typeof exports.malloc === "function" ? "malloc" : "proxy_on_memory_allocate";
  }

  get abiVersion(): AbiVersion {
    return this.checked.abiVersion;
  }

  has(name: string): boolean {
    return this.functions.has(name);
  }

  /** Runs the module's start: `_initialize` (then `main`/`__main_void`), else `_start`. */
  start(): void {
    this.restriction = "start";
    try {
      if (this.has("_initialize")) {
        this.call("_initialize");
        if (this.has("main")) this.call("main", 0, 0);
        else if (this.has("__main_void")) this.call("__main_void");
      } else if (this.has("_start")) {
        this.call("_start");
      }
    } finally {
      this.restriction = null;
    }
  }

  /**
   * Calls an export with up to five i32 arguments (extra ones are ignored by a function that
   * takes fewer; fixed arity keeps the hot path free of argument arrays). A trap marks the VM
   * failed and is thrown as WasmTrap. A missing export answers undefined.
   */
  call(name: string, a = 0, b = 0, c = 0, d = 0, e = 0): number | undefined {
    return this.invoke(name, this.functions.get(name), a, b, c, d, e);
  }

  /** Export `name` if it is a function (to call with invoke, looked up once). */
  exported(name: string): ExportedFunction | undefined {
    return this.functions.get(name);
  }

  /** Calls `fn`, export `name` as exported() answered it, as call() does. */
  invoke(name: string, fn: ExportedFunction | undefined, a = 0, b = 0, c = 0, d = 0, e = 0): number | undefined {
    if (this.failure) throw this.failure;
    if (fn === undefined) return undefined;
    if (this.depth++ === 0 && this.deadlineMs > 0) this.deadlineAt = UNTIMED;
    try {
      return fn(a, b, c, d, e);
    } catch (error) {
      if (error instanceof ProcExit && error.code === 0 && name === "_start") return undefined;
      this.failure = new WasmTrap(name, error, this.checked.symbols);
      throw this.failure;
    } finally {
      this.depth--;
    }
  }

  /**
   * Views are rebuilt only when the memory's buffer changed: a grow detaches the old one,
   * whose views then read as empty (so the memory's buffer getter, a call into C++, is
   * asked only then, or while the memory is empty).
   */
  private refresh(): void {
    if (this.u8.length === 0 && this.memory.buffer !== this.buffer) {
      this.buffer = this.memory.buffer;
      this.u8 = new Uint8Array(this.buffer);
      this.buf = Buffer.from(this.buffer);
      this.view = new DataView(this.buffer);
    }
  }

  private inBounds(ptr: number, len: number): boolean {
    this.refresh();
    return ptr + len <= this.u8.length;
  }

  /** A view of `len` bytes at `ptr` (valid until the module runs again), or null when out of bounds. */
  bytes(ptr: number, len: number): Uint8Array | null {
    ptr >>>= 0;
    len >>>= 0;
    return this.inBounds(ptr, len) ? this.u8.subarray(ptr, ptr + len) : null;
  }

  /** UTF-8 text at (ptr, len) (invalid sequences become U+FFFD), or null when out of bounds. */
  string(ptr: number, len: number): string | null {
    ptr >>>= 0;
    len >>>= 0;
    if (!this.inBounds(ptr, len)) return null;
    return len === 0 ? "" : this.texts.decode(this.buf, ptr, len);
  }

  u32(ptr: number): number | null {
    ptr >>>= 0;
    return this.inBounds(ptr, 4) ? this.view.getUint32(ptr, true) : null;
  }

  setU32(ptr: number, value: number): boolean {
    ptr >>>= 0;
    if (!this.inBounds(ptr, 4)) return false;
    this.view.setUint32(ptr, value, true);
    return true;
  }

  setU64(ptr: number, value: bigint): boolean {
    ptr >>>= 0;
    if (!this.inBounds(ptr, 8)) return false;
    this.view.setBigUint64(ptr, value, true);
    return true;
  }

  /**
   * Allocates `size` bytes through the module's allocator and writes (address, size) to the
   * out-parameters; answers the address (0 for size 0), or -1 when an out-parameter is out of
   * bounds or the allocator gave no usable block (the caller answers InvalidMemoryAccess, as
   * proxy-wasm-cpp-host does). Write the value with `memory` right after.
   */
  reserveOut(size: number, ptrPtr: number, lenPtr: number): number {
    ptrPtr >>>= 0;
    lenPtr >>>= 0;
    if (!this.inBounds(ptrPtr, 4) || !this.inBounds(lenPtr, 4)) return -1;
    let ptr = 0;
    if (size > 0) {
      const restriction = this.restriction;
      this.restriction = "a host-made malloc";
      try {
        ptr = (this.call(this.allocatorName, size) ?? 0) >>> 0;
      } finally {
        this.restriction = restriction;
      }
      if (ptr === 0 || !this.inBounds(ptr, size)) return -1;
    }
    this.view.setUint32(ptrPtr, ptr, true);
    this.view.setUint32(lenPtr, size, true);
    return ptr;
  }

  /** The whole memory as it stands (after a reserveOut, which may have grown it). */
  get memoryBytes(): Buffer {
    this.refresh();
    return this.buf;
  }

  /** Hands `data` to the module through the out-parameters (ptr at ptrPtr, length at lenPtr). */
  giveOut(data: Uint8Array, ptrPtr: number, lenPtr: number): boolean {
    const ptr = this.reserveOut(data.length, ptrPtr, lenPtr);
    if (ptr < 0) return false;
    if (data.length) this.u8.set(data, ptr);
    return true;
  }

  /** Hands `text` (as UTF-8) to the module through the out-parameters, encoded straight into its memory. */
  giveStringOut(text: string, ptrPtr: number, lenPtr: number): boolean {
    const size = text.length === 0 ? 0 : Buffer.byteLength(text, "utf8");
    const ptr = this.reserveOut(size, ptrPtr, lenPtr);
    if (ptr < 0) return false;
    if (size) this.buf.write(text, ptr, size, "utf8");
    return true;
  }
}
