// Header callbacks through the in-process harness: the add-header example against a module
// whose callbacks do nothing, interleaved round by round so both see the same machine.
// Also bytes the host allocates per callback (run in a child with a young generation large
// enough that no collection happens while measuring, so the heap's growth is the allocation).
import { Harness } from "../host/testing/index.ts";

export const REQUEST_HEADERS: [string, string][] = [
  [":method", "GET"], [":path", "/api/v1/items?page=2"], [":authority", "shop.example.com"], [":scheme", "https"],
  ...Array.from({ length: 16 }, (_, i): [string, string] => [`x-header-${i}`, `value-${i}-${"v".repeat(i)}`]),
];
const RESPONSE_HEADERS: [string, string][] = [[":status", "200"], ["content-type", "application/json"], ["content-length", "42"]];
export const CALLBACKS_PER_STREAM = 2; // request headers + response headers

export async function loadSubjects(noop: Uint8Array, addHeader: string, wat?: Uint8Array) {
  const configuration = JSON.stringify({ request: { "x-added-by": "proxy-wasm-as" }, response: { "x-frame-options": "DENY" } });
  return {
    noop: await Harness.load(noop, { logLevel: "info" }),
    ...(wat ? { wat: await Harness.load(wat, { logLevel: "info" }) } : {}),
    addHeader: await Harness.load(addHeader, { rootId: "add_header", configuration, logLevel: "info" }),
  };
}

export function runStreams(h: Harness, count: number): void {
  for (let i = 0; i < count; i++) {
    const s = h.http();
    s.sendRequestHeaders(REQUEST_HEADERS, true);
    s.sendResponseHeaders(RESPONSE_HEADERS, true);
    s.complete();
  }
}

/**
 * µs per stream of each subject in each of `rounds` interleaved rounds, after a warm-up; with
 * `alternate`, the subjects' order reversed every other round (the one run second ran faster).
 */
function timeRounds(subjects: Record<string, Harness>, rounds: number, streams: number, alternate: boolean): Record<string, number[]> {
  const entries = Object.entries(subjects);
  const samples: Record<string, number[]> = Object.fromEntries(entries.map(([k]) => [k, []]));
  for (const [, h] of entries) runStreams(h, streams); // warm up
  for (let r = 0; r < rounds; r++) {
    for (const [name, h] of alternate && r % 2 ? [...entries].reverse() : entries) {
      const start = process.hrtime.bigint();
      runStreams(h, streams);
      samples[name].push(Number(process.hrtime.bigint() - start) / 1e3 / streams);
    }
  }
  return samples;
}

/** Callbacks per second from µs per stream. */
export const callbacksPerSecond = (microsPerStream: number) => (CALLBACKS_PER_STREAM * 1e6) / microsPerStream;

/** Callbacks per second of each subject: the median of `rounds` interleaved rounds. */
export function measureThroughput(subjects: Record<string, Harness>, rounds: number, streams: number) {
  const samples = timeRounds(subjects, rounds, streams, false);
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, callbacksPerSecond(median(v))]));
}

/**
 * µs per stream of each subject (noop, wat, addHeader), and the SDK's cost above the host's
 * floor (no-op) as a multiple of the WAT module's: many short rounds (a round's subjects run
 * within a few ms of each other, so they share whatever the machine was doing), the order
 * alternating, the multiple taken within each round and its median kept, so that a slow
 * stretch of the machine moves a few rounds, not the result.
 */
export function measureStreamMicros(subjects: Record<string, Harness>, rounds: number, streams: number) {
  const samples = timeRounds(subjects, rounds, streams, true);
  const multiples = samples.addHeader.map((a, r) => (a - samples.noop[r]) / (samples.wat[r] - samples.noop[r]));
  const us = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  // ratio: the issue's own measure (add-header's µs over the WAT module's, the host's work in both).
  return { us, multiple: median(multiples), ratio: roundRatios(samples.addHeader, samples.wat).median };
}

/** Bytes allocated on the JS heap per callback; needs --expose-gc and a big young generation. */
export function measureAllocation(h: Harness, streams: number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("measureAllocation needs node --expose-gc");
  runStreams(h, streams * 5); // warm up: let the JIT settle so its code objects are not counted
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    gc();
    const before = process.memoryUsage().heapUsed;
    runStreams(h, streams);
    rounds.push((process.memoryUsage().heapUsed - before) / (streams * CALLBACKS_PER_STREAM));
  }
  return median(rounds);
}

/** A ratio taken within each round: the median of the rounds' ratios, and their middle half (quartiles). */
export interface Ratio { median: number; low: number; high: number }

/**
 * a[r] / b[r] over the rounds, so that a slow stretch of the machine moves rounds, not the
 * result; a round with a reading missing (null) on either side is left out.
 */
export function roundRatios(a: (number | null)[], b: (number | null)[]): Ratio {
  const ratios = a.flatMap((x, r) => (x !== null && b[r] != null ? [x / b[r]!] : []));
  if (ratios.length === 0) return { median: NaN, low: NaN, high: NaN };
  return { median: median(ratios), low: quantile(ratios, 0.25), high: quantile(ratios, 0.75) };
}

export function median(values: number[]): number {
  return quantile(values, 0.5);
}

/** The q-quantile of `values` (0.5: the median), interpolated between the two nearest. */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q, below = Math.floor(at);
  return below + 1 < sorted.length ? sorted[below] + (sorted[below + 1] - sorted[below]) * (at - below) : sorted[below];
}
