// Metrics a filter defines (proxy_define_metric and friends), kept for the whole process as
// Envoy keeps them: one value per name whichever plugin or VM defined it, under Envoy's
// `wasmcustom.` prefix. Histograms keep Envoy's default buckets, from which quantiles are
// estimated.

export const enum MetricType { Counter = 0, Gauge = 1, Histogram = 2 }

/** Envoy's default histogram bucket bounds. */
const BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
const QUANTILES = [0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1];

class Histogram {
  readonly counts = new Array<number>(BUCKETS.length + 1).fill(0);
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  record(value: number): void {
    let i = 0;
    while (i < BUCKETS.length && value > BUCKETS[i]) i++;
    this.counts[i]++;
    this.count++;
    this.sum += value;
    this.min = Math.min(this.min, value);
    this.max = Math.max(this.max, value);
  }

  /** The q-quantile, interpolated within its bucket and kept within the values seen. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = q * this.count;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      if (this.counts[i] === 0 || seen + this.counts[i] < rank) {
        seen += this.counts[i];
        continue;
      }
      const low = i === 0 ? this.min : BUCKETS[i - 1];
      const high = i < BUCKETS.length ? BUCKETS[i] : this.max;
      const estimate = low + (high - low) * ((rank - seen) / this.counts[i]);
      return Math.min(this.max, Math.max(this.min, estimate));
    }
    return this.max;
  }
}

interface Metric {
  name: string;
  type: MetricType;
  value: bigint;
  histogram: Histogram | null;
}

export type MetricView =
  | { type: "counter" | "gauge"; value: number }
  | { type: "histogram"; count: number; sum: number; quantiles: Record<string, number> };

const U64 = (1n << 64n) - 1n;

export class MetricRegistry {
  private readonly metrics: Metric[] = [];
  private readonly byName = new Map<string, number>();

  /** The id of `name` (defined now, or before with the same type); null when it exists with another type. */
  define(type: MetricType, name: string): number | null {
    const existing = this.byName.get(name);
    if (existing !== undefined) return this.metrics[existing].type === type ? this.idOf(existing) : null;
    this.metrics.push({ name, type, value: 0n, histogram: type === MetricType.Histogram ? new Histogram() : null });
    this.byName.set(name, this.metrics.length - 1);
    return this.idOf(this.metrics.length - 1);
  }

  // Ids carry the type in their low bits, as Envoy's do, so a wrong id is caught at once.
  private idOf(index: number): number {
    return ((index << 2) | this.metrics[index].type) >>> 0;
  }

  private metric(id: number): Metric | null {
    const m = this.metrics[id >>> 2];
    return m && m.type === (id & 3) ? m : null;
  }

  /** "ok", or why the change was refused (unknown id; a counter going down; a histogram). */
  increment(id: number, delta: bigint): "ok" | "not-found" | "bad-argument" {
    const m = this.metric(id);
    if (!m) return "not-found";
    if (m.type === MetricType.Histogram || (m.type === MetricType.Counter && delta < 0n)) return "bad-argument";
    m.value = m.type === MetricType.Counter ? (m.value + delta) & U64 : m.value + delta;
    return "ok";
  }

  record(id: number, value: bigint): "ok" | "not-found" {
    const m = this.metric(id);
    if (!m) return "not-found";
    if (m.type === MetricType.Histogram) m.histogram!.record(Number(value));
    else if (m.type === MetricType.Gauge) m.value = value;
    else if (value > m.value) m.value = value; // a counter only moves up
    return "ok";
  }

  /** The value of a counter or gauge; null for an unknown id, "histogram" for a histogram. */
  get(id: number): bigint | null | "histogram" {
    const m = this.metric(id);
    if (!m) return null;
    return m.type === MetricType.Histogram ? "histogram" : m.value;
  }

  /** A metric by the name the filter gave it, as a test or the admin endpoint reads it. */
  view(name: string): MetricView | undefined {
    const index = this.byName.get(name);
    if (index === undefined) return undefined;
    const m = this.metrics[index];
    if (m.histogram) {
      const h = m.histogram;
      return { type: "histogram", count: h.count, sum: h.sum, quantiles: Object.fromEntries(QUANTILES.map((q) => [`P${q * 100}`, h.quantile(q)])) };
    }
    return { type: m.type === MetricType.Counter ? "counter" : "gauge", value: Number(m.value) };
  }

  /** The name of the metric with this id, or null. */
  name(id: number): string | null {
    return this.metric(id)?.name ?? null;
  }

  names(): string[] {
    return this.metrics.map((m) => m.name);
  }

  /** Lines in Envoy's /stats text form, names under `wasmcustom.`. */
  envoyText(): [string, string][] {
    return this.metrics.map((m): [string, string] => {
      const name = `wasmcustom.${m.name}`;
      if (!m.histogram) return [name, String(m.value)];
      const h = m.histogram;
      const q = QUANTILES.map((x) => `P${x * 100}(${Number.isNaN(h.quantile(x)) ? "nan" : +h.quantile(x).toFixed(3)})`).join(" ");
      return [name, q];
    });
  }

  /** Lines in Prometheus' exposition form (envoy_wasmcustom_…), histograms with buckets. */
  prometheus(): string[] {
    const lines: string[] = [];
    for (const m of this.metrics) {
      const name = "envoy_wasmcustom_" + m.name.replace(/[^a-zA-Z0-9_]/g, "_");
      if (!m.histogram) {
        lines.push(`# TYPE ${name} ${m.type === MetricType.Counter ? "counter" : "gauge"}`, `${name} ${m.value}`);
        continue;
      }
      const h = m.histogram;
      lines.push(`# TYPE ${name} histogram`);
      let cumulative = 0;
      BUCKETS.forEach((bound, i) => {
        cumulative += h.counts[i];
        lines.push(`${name}_bucket{le="${bound}"} ${cumulative}`);
      });
      lines.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${h.sum}`, `${name}_count ${h.count}`);
    }
    return lines;
  }
}
