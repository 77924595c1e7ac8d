// Metrics a filter defines: counters, gauges and histograms, kept by the host under the
// name given (Envoy shows them as `wasmcustom.<name>`). Define each once (in a root context,
// or lazily in a Map there) and reuse it: defining is a host call, using it is another.
import { proxy_define_metric, proxy_get_metric, proxy_increment_metric, proxy_record_metric } from "./abi/imports";
import { MetricType, Status } from "./abi/types";
import { OUT_PTR, utf8 } from "./abi/memory";
import { log } from "./log";

const VALUE_PTR: usize = memory.data(8, 8);
const NO_METRIC: u32 = u32.MAX_VALUE;

function define(type: MetricType, name: string): u32 {
  const bytes = utf8(name);
  if (proxy_define_metric(type, changetype<usize>(bytes), bytes.byteLength, OUT_PTR) != Status.Ok) {
    log.error(`metric "${name}" could not be defined (empty name, or the name is taken by a metric of another type)`);
    return NO_METRIC;
  }
  return load<u32>(OUT_PTR);
}

function read(id: u32): u64 {
  store<u64>(VALUE_PTR, 0);
  proxy_get_metric(id, VALUE_PTR);
  return load<u64>(VALUE_PTR);
}

/** A count that only goes up (requests, bytes, errors). */
export class Counter {
  private readonly id: u32;
  constructor(readonly name: string) {
    this.id = define(MetricType.Counter, name);
  }
  increment(delta: u64 = 1): void {
    proxy_increment_metric(this.id, <i64>delta);
  }
  value(): u64 {
    return read(this.id);
  }
}

/** A value that goes up and down (requests in flight, queue length). */
export class Gauge {
  private readonly id: u32;
  constructor(readonly name: string) {
    this.id = define(MetricType.Gauge, name);
  }
  set(value: i64): void {
    proxy_record_metric(this.id, <u64>value);
  }
  add(delta: i64): void {
    proxy_increment_metric(this.id, delta);
  }
  value(): i64 {
    return <i64>read(this.id);
  }
}

/** A distribution of values (latencies, sizes): the host keeps buckets and quantiles. */
export class Histogram {
  private readonly id: u32;
  constructor(readonly name: string) {
    this.id = define(MetricType.Histogram, name);
  }
  record(value: u64): void {
    proxy_record_metric(this.id, value);
  }
}
