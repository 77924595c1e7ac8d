// Deadlines on calls into a module. At load, the host instruments its own in-memory copy of
// the module (the .wasm the author deploys is never changed): a fuel counter that every
// function entry and every loop iteration decrements; when it runs out, the code calls one
// host import, which compares the clock with the deadline of the call under way and throws
// past it (the throw unwinds the wasm as a trap), else refills the counter. So a module that
// loops, recurses or spins ends within its deadline plus one refill's worth of work.
// docs/isolation.md has the choice, the alternatives and the measured cost.
import { createHash } from "node:crypto";
import { Worker } from "node:worker_threads";

/** The import the instrumented code calls when its fuel runs out: () -> i32 (the next fuel). */
export const GUARD_MODULE = "proxy-wasm-as:guard";
/** Ticks (function entries and loop iterations) between two looks at the clock. */
export const TICKS_PER_CHECK = 10_000;
/** The default deadline of one call into a module, in ms (wall clock). */
export const DEFAULT_DEADLINE_MS = 1_000;

/** A call into the module ran past its deadline. */
export class DeadlineExceeded extends Error {
  override name = "DeadlineExceeded";
  constructor(readonly deadlineMs: number) {
    super(`ran past its deadline of ${deadlineMs} ms`);
  }
}

interface Job {
  bytes: Uint8Array;
  resolve: (bytes: Uint8Array) => void;
  reject: (e: Error) => void;
  /** Sent again once already (its worker ended under it). */
  retried: boolean;
}

/** One worker thread for the process, started on demand and ended when idle (binaryen holds tens of MB). */
class Instrumenter {
  private worker: Worker | null = null;
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;
  private idle: NodeJS.Timeout | null = null;

  run(bytes: Uint8Array): Promise<Uint8Array> {
    const worker = this.start();
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.jobs.set(id, { bytes, resolve, reject, retried: false });
      worker.postMessage({ id, bytes, ticksPerCheck: TICKS_PER_CHECK });
      worker.ref();
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // No loader hooks (execArgv empty): plain Node loads binaryen quickly.
    const worker = new Worker(new URL("./deadline-worker.mjs", import.meta.url), { execArgv: [], stdout: false, stderr: false });
    worker.on("message", (m: { id: number; bytes?: Uint8Array; error?: string }) => {
      const job = this.jobs.get(m.id);
      this.jobs.delete(m.id);
      if (m.error !== undefined) job?.reject(new Error(m.error));
      else job?.resolve(m.bytes!);
      this.settle();
    });
    worker.on("error", (e) => this.ended(worker, e));
    worker.on("exit", () => this.ended(worker, new Error("the instrumenting worker exited")));
    this.worker = worker;
    return worker;
  }

  private settle(): void {
    if (this.jobs.size || !this.worker) return;
    this.worker.unref();
    const worker = this.worker;
    this.idle = setTimeout(() => {
      if (this.worker === worker && !this.jobs.size) {
        this.worker = null;
        void worker.terminate();
      }
    }, 5_000);
    this.idle.unref();
  }

  /** The worker ended (it does after a module it could not read): jobs it still had go to a fresh one, once. */
  private ended(worker: Worker, e: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    const pending = [...this.jobs];
    if (!pending.length) return;
    for (const [id, job] of pending) {
      if (job.retried) {
        this.jobs.delete(id);
        job.reject(e);
      }
    }
    if (!this.jobs.size) return;
    const fresh = this.start();
    for (const [id, job] of this.jobs) {
      job.retried = true;
      fresh.postMessage({ id, bytes: job.bytes, ticksPerCheck: TICKS_PER_CHECK });
    }
  }
}

const instrumenter = new Instrumenter();
const cache = new Map<string, Promise<WebAssembly.Module>>();
const CACHE_SIZE = 32;

/** The module instrumented for deadlines and compiled, cached by its bytes (a harness loads one module many times). */
export function compileWithDeadlines(bytes: Uint8Array): Promise<WebAssembly.Module> {
  const key = createHash("sha256").update(bytes).digest("hex");
  let compiled = cache.get(key);
  if (!compiled) {
    compiled = instrumenter.run(bytes.slice()).then((out) => WebAssembly.compile(out as Uint8Array<ArrayBuffer>));
    compiled.catch(() => cache.delete(key));
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(key, compiled);
  }
  return compiled;
}
