// Counters and gauges in Envoy's naming (`http.<prefix>.downstream_rq_2xx`, `cluster.<name>.upstream_rq_total`, …),
// rendered in Envoy's text form and in Prometheus' exposition format, together with the
// metrics filters define (under `wasmcustom.`).
import type { MetricRegistry } from "../metrics.ts";

export class Stats {
  private readonly counters = new Map<string, number>();
  private readonly gauges = new Map<string, number>();
  /** Counters kept elsewhere (by the plugins), read when rendered. */
  private readonly sources: (() => Record<string, number>)[] = [];

  addSource(source: () => Record<string, number>): void {
    this.sources.push(source);
  }

  /** The metrics the proxy's filters define, shown with the proxy's own. */
  filterMetrics: MetricRegistry | null = null;

  private counterEntries(): [string, number][] {
    const entries = [...this.counters];
    for (const source of this.sources) entries.push(...Object.entries(source()));
    return entries;
  }

  inc(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  gauge(name: string, delta: number): void {
    this.gauges.set(name, (this.gauges.get(name) ?? 0) + delta);
  }

  get(name: string): number {
    return this.counterEntries().find(([k]) => k === name)?.[1] ?? this.gauges.get(name) ?? 0;
  }

  /** Envoy's /stats: `name: value`, sorted. */
  text(): string {
    const entries: [string, number | string][] = [...this.counterEntries(), ...this.gauges, ...(this.filterMetrics?.envoyText() ?? [])];
    return entries.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v}\n`).join("");
  }

  /** /stats/prometheus: `envoy_` prefix, dots as underscores. */
  prometheus(): string {
    const metric = (name: string) => "envoy_" + name.replace(/[^a-zA-Z0-9_]/g, "_");
    const lines: string[] = [];
    for (const [kind, entries] of [["counter", this.counterEntries()], ["gauge", [...this.gauges]]] as const) {
      for (const [name, value] of [...entries].sort(([a], [b]) => a.localeCompare(b))) {
        lines.push(`# TYPE ${metric(name)} ${kind}`, `${metric(name)} ${value}`);
      }
    }
    lines.push(...(this.filterMetrics?.prometheus() ?? []));
    return lines.join("\n") + "\n";
  }
}
