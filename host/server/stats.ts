// Counters and gauges in Envoy's naming (`http.<prefix>.downstream_rq_2xx`, `cluster.<name>.upstream_rq_total`, …),
// rendered in Envoy's text form and in Prometheus' exposition format, together with the
// metrics filters define (under `wasmcustom.`).
import type { MetricRegistry } from "../state/metrics.ts";

/** One counter's or gauge's value, updated by whoever holds it: no name to build or hash per update. */
export class StatValue {
  value = 0;
  add(by = 1): void {
    this.value += by;
  }
}

/** The stats under one prefix (`http.ingress_http`, `cluster.upstream`), each name resolved once. */
export class StatScope {
  private readonly counters = new Map<string, StatValue>();
  private readonly gauges = new Map<string, StatValue>();

  constructor(private readonly stats: Stats, readonly prefix: string) {}

  counter(suffix: string): StatValue {
    let v = this.counters.get(suffix);
    if (!v) this.counters.set(suffix, (v = this.stats.counter(`${this.prefix}.${suffix}`)));
    return v;
  }

  gauge(suffix: string): StatValue {
    let v = this.gauges.get(suffix);
    if (!v) this.gauges.set(suffix, (v = this.stats.gaugeValue(`${this.prefix}.${suffix}`)));
    return v;
  }
}

/** `<prefix>_1xx` … `<prefix>_5xx` by status class, made once. */
export function statusClassNames(prefix: string): string[] {
  return ["0", "1", "2", "3", "4", "5"].map((c) => `${prefix}_${c}xx`);
}

export class Stats {
  private readonly counters = new Map<string, StatValue>();
  private readonly gauges = new Map<string, StatValue>();
  private readonly scopes = new Map<string, StatScope>();
  /** Counters kept elsewhere (by the plugins), read when rendered. */
  private readonly sources: (() => Record<string, number>)[] = [];

  addSource(source: () => Record<string, number>): void {
    this.sources.push(source);
  }

  /** The metrics the proxy's filters define, shown with the proxy's own. */
  filterMetrics: MetricRegistry | null = null;

  /** The stats under `prefix` (made once per prefix; hold on to it). */
  scope(prefix: string): StatScope {
    let scope = this.scopes.get(prefix);
    if (!scope) this.scopes.set(prefix, (scope = new StatScope(this, prefix)));
    return scope;
  }

  counter(name: string): StatValue {
    let v = this.counters.get(name);
    if (!v) this.counters.set(name, (v = new StatValue()));
    return v;
  }

  gaugeValue(name: string): StatValue {
    let v = this.gauges.get(name);
    if (!v) this.gauges.set(name, (v = new StatValue()));
    return v;
  }

  private counterEntries(): [string, number][] {
    const entries: [string, number][] = [...this.counters].map(([k, v]) => [k, v.value]);
    for (const source of this.sources) entries.push(...Object.entries(source()));
    return entries;
  }

  inc(name: string, by = 1): void {
    this.counter(name).add(by);
  }

  gauge(name: string, delta: number): void {
    this.gaugeValue(name).add(delta);
  }

  get(name: string): number {
    return this.counterEntries().find(([k]) => k === name)?.[1] ?? this.gauges.get(name)?.value ?? 0;
  }

  private gaugeEntries(): [string, number][] {
    return [...this.gauges].map(([k, v]) => [k, v.value]);
  }

  /** Envoy's /stats: `name: value`, sorted. */
  text(): string {
    const entries: [string, number | string][] = [...this.counterEntries(), ...this.gaugeEntries(), ...(this.filterMetrics?.envoyText() ?? [])];
    return entries.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v}\n`).join("");
  }

  /** /stats/prometheus: `envoy_` prefix, dots as underscores. */
  prometheus(): string {
    const metric = (name: string) => "envoy_" + name.replace(/[^a-zA-Z0-9_]/g, "_");
    const lines: string[] = [];
    for (const [kind, entries] of [["counter", this.counterEntries()], ["gauge", this.gaugeEntries()]] as const) {
      for (const [name, value] of [...entries].sort(([a], [b]) => a.localeCompare(b))) {
        lines.push(`# TYPE ${metric(name)} ${kind}`, `${metric(name)} ${value}`);
      }
    }
    lines.push(...(this.filterMetrics?.prometheus() ?? []));
    return lines.join("\n") + "\n";
  }
}
