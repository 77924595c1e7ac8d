// The host functions, called as a module would call them, against a real module's memory.
import { beforeEach, describe, expect, it } from "vitest";
import { bufferFunctions } from "../../host/abi/buffers.ts";
import { headerMapFunctions } from "../../host/abi/headers.ts";
import type { AbiHost, StreamContext } from "../../host/abi/host.ts";
import { ByteBuffer } from "../../host/byte-buffer.ts";
import { buildImports, hostFunctionNames } from "../../host/abi/index.ts";
import { logFunctions } from "../../host/abi/log.ts";
import { deserializePairs, serializePairs } from "../../host/abi/pairs.ts";
import { propertyFunctions } from "../../host/abi/properties.ts";
import { timeFunctions } from "../../host/abi/time.ts";
import { metricFunctions } from "../../host/abi/metrics.ts";
import { MetricRegistry } from "../../host/state/metrics.ts";
import { sharedDataFunctions } from "../../host/abi/shared-data.ts";
import { timerFunctions } from "../../host/abi/timers.ts";
import { SharedState } from "../../host/state/shared.ts";
import { queueFunctions } from "../../host/abi/queues.ts";
import { DEFAULT_FOREIGN_FUNCTIONS, foreignFunctions } from "../../host/abi/foreign.ts";
import { type HeaderList, LogLevel } from "../../host/abi/types.ts";
import { WasmVm, checkModule } from "../../host/vm/vm.ts";
import { ManualClock, wallClock } from "../../host/clock.ts";
import { wat } from "./wat.ts";

const OK = 0, NOT_FOUND = 1, BAD_ARGUMENT = 2, INVALID_MEMORY = 6, UNIMPLEMENTED = 12;
const OUT_PTR = 16, OUT_LEN = 20, SCRATCH = 1024;
const BAD = 0xfffffff0;
const enc = new TextEncoder(), dec = new TextDecoder();

let vm: WasmVm;
let host: AbiHost & { logs: [LogLevel, string][] };
let maps: Record<number, HeaderList>;
let buffers: Record<number, ByteBuffer>;
let scratch = SCRATCH;

/** Puts bytes in module memory, answering (ptr, len). */
function put(value: string | Uint8Array): [number, number] {
  const bytes = typeof value === "string" ? enc.encode(value) : value;
  const ptr = scratch;
  vm.bytes(ptr, bytes.length)!.set(bytes);
  scratch += bytes.length + 8;
  return [ptr, bytes.length];
}
/** What the host handed back through the out-parameters. */
function out(): Uint8Array {
  return vm.bytes(vm.u32(OUT_PTR)!, vm.u32(OUT_LEN)!)!.slice();
}
const outText = () => dec.decode(out());

beforeEach(async () => {
  vm = new WasmVm(await checkModule(wat(""), hostFunctionNames));
  vm.instantiate({});
  scratch = SCRATCH;
  maps = { 0: [[":path", "/"], ["x-a", "1"], ["x-a", "2"]], 1: [], 2: [[":status", "200"]], 3: [] };
  buffers = { 0: new ByteBuffer(enc.encode("hello")), 1: new ByteBuffer() };
  const context: StreamContext = {
    contextId: 2,
    headerMap: (t) => maps[t] ?? null,
    replaceHeaderMap: (t, pairs) => (t in maps ? ((maps[t] = pairs), true) : false),
    buffer: (t) => buffers[t] ?? null,
    continueStream: () => OK,
    closeStream: () => OK,
    sendLocalReply: () => OK,
    property: (path) => (path.join(".") === "request.path" ? enc.encode("/x") : undefined),
    storedProperty: (key) => stored.get(key),
    storeProperty: (key, value) => void stored.set(key, value),
  };
  const stored = new Map<string, Uint8Array>();
  const logs: [LogLevel, string][] = [];
  host = {
    vm, rootContextId: 1, current: context, phase: "running",
    vmConfiguration: enc.encode("vm-conf"), configuration: enc.encode("plugin-conf"), environment: {},
    logLevel: LogLevel.Info, logs,
    log: (level, message) => logs.push([level, message]),
    pluginProperty: (path) => (path[0] === "plugin_root_id" ? enc.encode("my_root") : undefined),
    defer: (action) => action(),
    setEffectiveContext: () => true,
    vmId: "vm1",
    setTickPeriod: (ms) => (tickPeriod = ms),
    clock: wallClock,
    name: "plugin",
    queueOwner,
    outbound: {
      httpCall: () => ({ status: BAD_ARGUMENT }),
      grpcOpen: () => ({ status: BAD_ARGUMENT }),
      grpcSend: () => NOT_FOUND,
      grpcClose: () => NOT_FOUND,
      grpcCancel: () => NOT_FOUND,
      calloutResponse: null,
      grpcReceived: null,
      callStatus: { code: 0, message: "" },
    },
  };
});
let tickPeriod = 0;
const queueOwner = { queueReady: (_token: number) => {} };

describe("header map functions", () => {
  const fns = () => headerMapFunctions(host) as Record<string, (...a: number[]) => number>;

  it("get answers the first value, case-insensitively; a missing header is NotFound", () => {
    expect(fns().proxy_get_header_map_value(0, ...put("X-A"), OUT_PTR, OUT_LEN)).toBe(OK);
    expect(outText()).toBe("1");
    expect(fns().proxy_get_header_map_value(0, ...put("x-missing"), OUT_PTR, OUT_LEN)).toBe(NOT_FOUND);
  });

  it("add appends (pseudo-headers stay first), replace removes every value and adds one (Envoy's setCopy), remove removes all", () => {
    expect(fns().proxy_add_header_map_value(0, ...put("X-New"), ...put("v"))).toBe(OK);
    expect(maps[0].at(-1)).toEqual(["x-new", "v"]);
    expect(fns().proxy_add_header_map_value(0, ...put(":authority"), ...put("h"))).toBe(OK);
    expect(maps[0][1]).toEqual([":authority", "h"]);
    expect(fns().proxy_replace_header_map_value(0, ...put("x-a"), ...put("3"))).toBe(OK);
    expect(maps[0]).toEqual([[":path", "/"], [":authority", "h"], ["x-new", "v"], ["x-a", "3"]]);
    expect(fns().proxy_replace_header_map_value(0, ...put("x-absent"), ...put("4"))).toBe(OK);
    expect(maps[0].at(-1)).toEqual(["x-absent", "4"]);
    maps[0].push(["x-a", "again"]);
    expect(fns().proxy_remove_header_map_value(0, ...put("X-A"))).toBe(OK);
    expect(maps[0].some(([n]) => n === "x-a")).toBe(false);
  });

  it("replace of a header that is last: the one value there, or every value gone and the new one last", () => {
    maps[0].push(["x-b", "1"]);
    expect(fns().proxy_replace_header_map_value(0, ...put("x-b"), ...put("2"))).toBe(OK);
    expect(maps[0]).toEqual([[":path", "/"], ["x-a", "1"], ["x-a", "2"], ["x-b", "2"]]);
    expect(fns().proxy_replace_header_map_value(0, ...put("X-A"), ...put("3"))).toBe(OK); // x-a is not last, and twice
    expect(maps[0]).toEqual([[":path", "/"], ["x-b", "2"], ["x-a", "3"]]);
    maps[0].splice(1, 0, ["x-a", "0"]);
    expect(fns().proxy_replace_header_map_value(0, ...put("x-a"), ...put("4"))).toBe(OK); // last, but not the only one
    expect(maps[0]).toEqual([[":path", "/"], ["x-b", "2"], ["x-a", "4"]]);
  });

  it("get_pairs serializes the whole map; set_pairs replaces it; size is the byte size of names and values, as Envoy answers", () => {
    expect(fns().proxy_get_header_map_pairs(0, OUT_PTR, OUT_LEN)).toBe(OK);
    expect(deserializePairs(out())).toEqual(maps[0]);
    expect(fns().proxy_set_header_map_pairs(2, ...put(serializePairs([["X-B", "ü"], [":status", "404"]])))).toBe(OK);
    expect(maps[2]).toEqual([[":status", "404"], ["x-b", "ü"]]);
    expect(fns().proxy_get_header_map_size(2, OUT_PTR)).toBe(OK);
    expect(vm.u32(OUT_PTR)).toBe(":status404x-bü".length + 1);
  });

  it("maps 4–7 (callout and gRPC) are empty and read-only outside their callbacks", () => {
    expect(fns().proxy_get_header_map_value(6, ...put("x"), OUT_PTR, OUT_LEN)).toBe(NOT_FOUND);
    expect(fns().proxy_get_header_map_pairs(7, OUT_PTR, OUT_LEN)).toBe(OK);
    expect(deserializePairs(out())).toEqual([]);
    expect(fns().proxy_add_header_map_value(4, ...put("x"), ...put("y"))).toBe(BAD_ARGUMENT);
    expect(fns().proxy_get_header_map_size(5, OUT_PTR)).toBe(BAD_ARGUMENT);
  });

  it("answers BadArgument for a map that does not exist and for malformed pairs", () => {
    expect(fns().proxy_get_header_map_size(9, OUT_PTR)).toBe(BAD_ARGUMENT);
    expect(fns().proxy_set_header_map_pairs(0, ...put(new Uint8Array([5, 0, 0, 0, 1])))).toBe(BAD_ARGUMENT);
  });

  it("answers InvalidMemoryAccess for pointers outside memory, and the host goes on", () => {
    expect(fns().proxy_get_header_map_value(0, BAD, 4, OUT_PTR, OUT_LEN)).toBe(INVALID_MEMORY);
    expect(fns().proxy_add_header_map_value(0, ...put("x"), BAD, 0xffffffff)).toBe(INVALID_MEMORY);
    expect(fns().proxy_get_header_map_pairs(0, BAD, OUT_LEN)).toBe(INVALID_MEMORY);
    expect(fns().proxy_get_header_map_size(0, BAD)).toBe(INVALID_MEMORY);
    expect(maps[0]).toHaveLength(3);
  });
});

describe("pairs encoding", () => {
  it("round-trips empty maps, empty values and UTF-8", () => {
    for (const pairs of [[], [["a", ""]], [["ключ", "värde ✓"], ["b", "c"]]] as HeaderList[]) {
      expect(deserializePairs(serializePairs(pairs))).toEqual(pairs);
    }
  });
  it("lays out count, lengths, then NUL-terminated names and values", () => {
    expect([...serializePairs([["ab", "c"]])]).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 97, 98, 0, 99, 0]);
  });
});

describe("buffer functions", () => {
  const fns = () => bufferFunctions(host) as Record<string, (...a: number[]) => number>;

  it("status and bytes, with ranges clamped to what exists (length 0xFFFFFFFF = all)", () => {
    expect(fns().proxy_get_buffer_status(0, OUT_PTR, OUT_LEN)).toBe(OK);
    expect(vm.u32(OUT_PTR)).toBe(5);
    expect(fns().proxy_get_buffer_bytes(0, 1, 0xffffffff, OUT_PTR, OUT_LEN)).toBe(OK);
    expect(outText()).toBe("ello");
    expect(fns().proxy_get_buffer_bytes(0, 9, 1, OUT_PTR, OUT_LEN)).toBe(BAD_ARGUMENT);
  });

  it("hands over an empty value as pointer 0, length 0", () => {
    vm.setU32(OUT_PTR, 77);
    expect(fns().proxy_get_buffer_bytes(1, 0, 10, OUT_PTR, OUT_LEN)).toBe(OK);
    expect([vm.u32(OUT_PTR), vm.u32(OUT_LEN)]).toEqual([0, 0]);
  });

  it("set_buffer_bytes: (0,0) prepends, (0,n) replaces the first n bytes, (0,≥size) replaces, start ≥ size appends", () => {
    const text = () => dec.decode(buffers[0].data);
    expect(fns().proxy_set_buffer_bytes(0, 0, 0, ...put(">"))).toBe(OK);
    expect(text()).toBe(">hello");
    expect(fns().proxy_set_buffer_bytes(0, 0xffffffff, 0, ...put("<"))).toBe(OK);
    expect(text()).toBe(">hello<");
    expect(fns().proxy_set_buffer_bytes(0, 0, 3, ...put("HE"))).toBe(OK);
    expect(text()).toBe("HEllo<");
    // A range across what came in pieces reads as one.
    expect(fns().proxy_set_buffer_bytes(0, 0xffffffff, 0, ...put(">>"))).toBe(OK);
    expect(fns().proxy_get_buffer_bytes(0, 3, 5, OUT_PTR, OUT_LEN)).toBe(OK);
    expect(outText()).toBe("lo<>>");
    expect(fns().proxy_set_buffer_bytes(0, 0, 0xffffffff, ...put("new"))).toBe(OK);
    expect(text()).toBe("new");
  });

  it("set_buffer_bytes refuses a start inside the buffer, as Envoy's Buffer::copyFrom does, and keeps its own copy", () => {
    expect(fns().proxy_set_buffer_bytes(0, 2, 1, ...put("X"))).toBe(BAD_ARGUMENT);
    expect(dec.decode(buffers[0].data)).toBe("hello");
    const [ptr, len] = put("abc");
    expect(fns().proxy_set_buffer_bytes(0, 0, 0xffffffff, ptr, len)).toBe(OK);
    vm.bytes(ptr, len)!.fill(0x7a);
    expect(dec.decode(buffers[0].data)).toBe("abc");
  });

  it("configuration is readable only while starting (VM) and configuring (plugin), and never writable", () => {
    expect(fns().proxy_get_buffer_bytes(7, 0, 100, OUT_PTR, OUT_LEN)).toBe(NOT_FOUND);
    host.phase = "configure";
    expect(fns().proxy_get_buffer_bytes(7, 0, 100, OUT_PTR, OUT_LEN)).toBe(OK);
    expect(outText()).toBe("plugin-conf");
    expect(fns().proxy_get_buffer_bytes(6, 0, 100, OUT_PTR, OUT_LEN)).toBe(NOT_FOUND);
    expect(fns().proxy_set_buffer_bytes(7, 0, 0, ...put("x"))).toBe(BAD_ARGUMENT);
    host.phase = "vm_start";
    expect(fns().proxy_get_buffer_bytes(6, 0, 100, OUT_PTR, OUT_LEN)).toBe(OK);
    expect(outText()).toBe("vm-conf");
  });
});

describe("log and properties", () => {
  it("logs at or above the host's level, reports the level, and refuses bad pointers", () => {
    const fns = logFunctions(host) as Record<string, (...a: number[]) => number>;
    expect(fns.proxy_log(LogLevel.Debug, ...put("quiet"))).toBe(OK);
    expect(fns.proxy_log(LogLevel.Warn, ...put("loud"))).toBe(OK);
    expect(host.logs).toEqual([[LogLevel.Warn, "loud"]]);
    expect(fns.proxy_log(LogLevel.Info, BAD, 10)).toBe(INVALID_MEMORY);
    expect(fns.proxy_log(9, ...put("x"))).toBe(BAD_ARGUMENT);
    expect(fns.proxy_get_log_level(OUT_PTR)).toBe(OK);
    expect(vm.u32(OUT_PTR)).toBe(LogLevel.Info);
  });

  it("reads paths with or without a trailing NUL; set_property round-trips", () => {
    const fns = propertyFunctions(host, new Map()) as Record<string, (...a: number[]) => number>;
    expect(fns.proxy_get_property(...put("plugin_root_id"), OUT_PTR, OUT_LEN)).toBe(OK);
    expect(outText()).toBe("my_root");
    expect(fns.proxy_get_property(...put("request\0path\0"), OUT_PTR, OUT_LEN)).toBe(OK);
    expect(outText()).toBe("/x");
    expect(fns.proxy_get_property(...put("no\0such"), OUT_PTR, OUT_LEN)).toBe(NOT_FOUND);
    expect(fns.proxy_set_property(...put("my\0key"), ...put("value"))).toBe(OK);
    expect(fns.proxy_get_property(...put("my\0key\0"), OUT_PTR, OUT_LEN)).toBe(OK);
    expect(outText()).toBe("value");
  });
});

describe("time", () => {
  it("answers wall-clock nanoseconds as a u64", () => {
    const fns = timeFunctions(host) as Record<string, (...a: number[]) => number>;
    expect(fns.proxy_get_current_time_nanoseconds(OUT_PTR)).toBe(OK);
    const nanos = new DataView(vm.bytes(OUT_PTR, 8)!.slice().buffer).getBigUint64(0, true);
    expect(Number(nanos / 1_000_000n)).toBeGreaterThan(Date.now() - 5_000);
    expect(Number(nanos / 1_000_000n)).toBeLessThanOrEqual(Date.now() + 5);
    expect(fns.proxy_get_current_time_nanoseconds(BAD)).toBe(INVALID_MEMORY);
  });

  it("answers the host's clock: a manual one, exactly, where it stands", () => {
    const clock = new ManualClock(1_700_000_000_123_456_789n);
    const fns = timeFunctions({ ...host, clock }) as Record<string, (...a: number[]) => number>;
    const read = () => {
      expect(fns.proxy_get_current_time_nanoseconds(OUT_PTR)).toBe(OK);
      return new DataView(vm.bytes(OUT_PTR, 8)!.slice().buffer).getBigUint64(0, true);
    };
    expect(read()).toBe(1_700_000_000_123_456_789n);
    clock.advance(1.5);
    expect(read()).toBe(1_700_000_000_124_956_789n);
  });
});

describe("metrics", () => {
  const COUNTER = 0, GAUGE = 1, HISTOGRAM = 2;
  const u64At = (ptr: number) => new DataView(vm.bytes(ptr, 8)!.slice().buffer).getBigUint64(0, true);

  it("defines each name once per type, and counts, sets and records", () => {
    const metrics = new MetricRegistry();
    const fns = metricFunctions(host, metrics) as Record<string, (...a: (number | bigint)[]) => number>;
    expect(fns.proxy_define_metric(COUNTER, ...put("requests"), OUT_PTR)).toBe(OK);
    const counter = vm.u32(OUT_PTR)!;
    expect(fns.proxy_define_metric(COUNTER, ...put("requests"), OUT_PTR)).toBe(OK);
    expect(vm.u32(OUT_PTR)).toBe(counter);
    expect(fns.proxy_define_metric(GAUGE, ...put("requests"), OUT_PTR)).toBe(BAD_ARGUMENT);
    expect(fns.proxy_increment_metric(counter, 5n)).toBe(OK);
    expect(fns.proxy_increment_metric(counter, -1n)).toBe(BAD_ARGUMENT);
    expect(fns.proxy_get_metric(counter, OUT_PTR)).toBe(OK);
    expect(u64At(OUT_PTR)).toBe(5n);

    expect(fns.proxy_define_metric(GAUGE, ...put("in_flight"), OUT_PTR)).toBe(OK);
    const gauge = vm.u32(OUT_PTR)!;
    expect(fns.proxy_record_metric(gauge, 10n)).toBe(OK);
    expect(fns.proxy_increment_metric(gauge, -3n)).toBe(OK);
    expect(fns.proxy_get_metric(gauge, OUT_PTR)).toBe(OK);
    expect(u64At(OUT_PTR)).toBe(7n);

    expect(fns.proxy_define_metric(HISTOGRAM, ...put("latency_ms"), OUT_PTR)).toBe(OK);
    const histogram = vm.u32(OUT_PTR)!;
    for (const v of [1n, 2n, 3n, 40n, 900n]) expect(fns.proxy_record_metric(histogram, v)).toBe(OK);
    expect(fns.proxy_get_metric(histogram, OUT_PTR)).toBe(BAD_ARGUMENT);
    expect(metrics.view("latency_ms")).toMatchObject({ type: "histogram", count: 5, sum: 946 });
    expect(metrics.envoyText()).toContainEqual(["wasmcustom.requests", "5"]);
    expect(metrics.prometheus()).toContain('envoy_wasmcustom_latency_ms_bucket{le="5"} 3');
  });

  it("answers NotFound for an unknown id and refuses bad input without throwing", () => {
    const fns = metricFunctions(host, new MetricRegistry()) as Record<string, (...a: (number | bigint)[]) => number>;
    expect(fns.proxy_increment_metric(999, 1n)).toBe(NOT_FOUND);
    expect(host.logs).toContainEqual([LogLevel.Debug, "proxy_increment_metric: metric 999 is not defined"]);
    expect(fns.proxy_record_metric(999, 1n)).toBe(NOT_FOUND);
    expect(fns.proxy_get_metric(999, OUT_PTR)).toBe(NOT_FOUND);
    expect(fns.proxy_define_metric(7, ...put("x"), OUT_PTR)).toBe(BAD_ARGUMENT);
    expect(fns.proxy_define_metric(COUNTER, BAD, 4, OUT_PTR)).toBe(INVALID_MEMORY);
    expect(fns.proxy_define_metric(COUNTER, ...put("y"), BAD)).toBe(INVALID_MEMORY);
  });
});

describe("shared data and timers", () => {
  const CAS_MISMATCH = 8;
  it("stores per vm_id with compare-and-swap: a stale cas is refused", () => {
    const shared = new SharedState();
    const fns = sharedDataFunctions(host, shared) as Record<string, (...a: number[]) => number>;
    expect(fns.proxy_get_shared_data(...put("k"), OUT_PTR, OUT_LEN, 40)).toBe(NOT_FOUND);
    expect(fns.proxy_set_shared_data(...put("k"), ...put("v1"), 0)).toBe(OK);
    expect(fns.proxy_get_shared_data(...put("k"), OUT_PTR, OUT_LEN, 40)).toBe(OK);
    expect(outText()).toBe("v1");
    const cas = vm.u32(40)!;
    expect(cas).not.toBe(0);
    expect(fns.proxy_set_shared_data(...put("k"), ...put("v2"), cas)).toBe(OK);
    expect(fns.proxy_set_shared_data(...put("k"), ...put("v3"), cas)).toBe(CAS_MISMATCH);
    expect(fns.proxy_get_shared_data(...put("k"), OUT_PTR, OUT_LEN, 40)).toBe(OK);
    expect(outText()).toBe("v2");
    expect(shared.get("other-vm", "k")).toBeUndefined();
    expect(fns.proxy_set_shared_data(BAD, 4, ...put("x"), 0)).toBe(INVALID_MEMORY);
  });

  it("takes the tick period", () => {
    const fns = timerFunctions(host) as Record<string, (...a: number[]) => number>;
    expect(fns.proxy_set_tick_period_milliseconds(250)).toBe(OK);
    expect(tickPeriod).toBe(250);
  });
});

describe("shared queues", () => {
  const EMPTY = 7;
  it("registers, resolves by vm_id and name, enqueues (telling the owner) and dequeues in order", () => {
    const shared = new SharedState();
    const ready: number[] = [];
    queueOwner.queueReady = (token) => void ready.push(token);
    const fns = queueFunctions(host, shared.queues) as Record<string, (...a: number[]) => number>;
    expect(fns.proxy_register_shared_queue(...put("jobs"), OUT_PTR)).toBe(OK);
    const token = vm.u32(OUT_PTR)!;
    expect(fns.proxy_resolve_shared_queue(...put("vm1"), ...put("jobs"), OUT_PTR)).toBe(OK);
    expect(vm.u32(OUT_PTR)).toBe(token);
    expect(fns.proxy_resolve_shared_queue(...put("other"), ...put("jobs"), OUT_PTR)).toBe(NOT_FOUND);
    expect(fns.proxy_dequeue_shared_queue(token, OUT_PTR, OUT_LEN)).toBe(EMPTY);
    expect(fns.proxy_enqueue_shared_queue(token, ...put("one"))).toBe(OK);
    expect(fns.proxy_enqueue_shared_queue(token, ...put("two"))).toBe(OK);
    expect(ready).toEqual([token, token]);
    expect(fns.proxy_dequeue_shared_queue(token, OUT_PTR, OUT_LEN)).toBe(OK);
    expect(outText()).toBe("one");
    expect(fns.proxy_dequeue_shared_queue(token, OUT_PTR, OUT_LEN)).toBe(OK);
    expect(outText()).toBe("two");
    expect(fns.proxy_dequeue_shared_queue(token, OUT_PTR, OUT_LEN)).toBe(EMPTY);
  });

  it("tells the plugin that registered a queue last; when it goes (replaced by a reload, or failed to start), the one before is told again", () => {
    const queues = new SharedState().queues;
    const told: string[] = [];
    const old = { queueReady: (t: number) => told.push(`old ${t}`) }, replacement = { queueReady: (t: number) => told.push(`new ${t}`) };
    const token = queues.register("vm1", "jobs", old);
    expect(queues.register("vm1", "jobs", replacement)).toBe(token);
    expect(queues.enqueue(token, enc.encode("one"))).toBe("ok");
    queues.disown(replacement);
    expect(queues.enqueue(token, enc.encode("two"))).toBe("ok");
    queues.disown(old);
    expect(queues.enqueue(token, enc.encode("three"))).toBe("ok"); // kept for whoever registers next
    expect(told).toEqual([`new ${token}`, `old ${token}`]);
    expect(queues.register("vm1", "jobs", replacement)).toBe(token);
    expect([1, 2, 3].map(() => dec.decode(queues.dequeue(token)!))).toEqual(["one", "two", "three"]);
  });

  it("answers NotFound for an unknown token and InvalidMemoryAccess for bad pointers", () => {
    const fns = queueFunctions(host, new SharedState().queues) as Record<string, (...a: number[]) => number>;
    expect(fns.proxy_enqueue_shared_queue(42, ...put("x"))).toBe(NOT_FOUND);
    expect(host.logs).toContainEqual([LogLevel.Debug, "proxy_enqueue_shared_queue: no queue with token 42"]);
    expect(fns.proxy_dequeue_shared_queue(42, OUT_PTR, OUT_LEN)).toBe(NOT_FOUND);
    expect(fns.proxy_register_shared_queue(BAD, 4, OUT_PTR)).toBe(INVALID_MEMORY);
  });
});

describe("foreign functions", () => {
  it("calls a registered function by name; compress and uncompress are there by default", () => {
    const fns = foreignFunctions(host, { ...DEFAULT_FOREIGN_FUNCTIONS, shout: (args) => enc.encode(dec.decode(args).toUpperCase()) }) as Record<string, (...a: number[]) => number>;
    expect(fns.proxy_call_foreign_function(...put("shout"), ...put("hey"), OUT_PTR, OUT_LEN)).toBe(OK);
    expect(outText()).toBe("HEY");
    expect(fns.proxy_call_foreign_function(...put("compress"), ...put("aaaaaaaaaaaaaaaa"), OUT_PTR, OUT_LEN)).toBe(OK);
    const compressed = out();
    expect(fns.proxy_call_foreign_function(...put("uncompress"), ...put(compressed), OUT_PTR, OUT_LEN)).toBe(OK);
    expect(outText()).toBe("aaaaaaaaaaaaaaaa");
  });

  it("answers NotFound for an unknown name and SerializationFailure when the function fails", () => {
    const fns = foreignFunctions(host, DEFAULT_FOREIGN_FUNCTIONS) as Record<string, (...a: number[]) => number>;
    expect(fns.proxy_call_foreign_function(...put("nope"), ...put(""), OUT_PTR, OUT_LEN)).toBe(NOT_FOUND);
    expect(fns.proxy_call_foreign_function(...put("toString"), ...put(""), OUT_PTR, OUT_LEN)).toBe(NOT_FOUND);
    expect(fns.proxy_call_foreign_function(...put("uncompress"), ...put("not zlib"), OUT_PTR, OUT_LEN)).toBe(3);
  });
});

describe("the import object", () => {
  it("has every host function of the ABI, none answering Unimplemented", () => {
    const env = buildImports(host, { properties: new Map(), metrics: new MetricRegistry(), shared: new SharedState(), foreign: {} }).env as Record<string, (...a: number[]) => number>;
    for (const name of hostFunctionNames("0.2.1")) {
      expect(typeof env[name]).toBe("function");
      // Called with zero arguments of the right types, each answers a status, never Unimplemented, never a throw.
      const zeros = name === "proxy_increment_metric" || name === "proxy_record_metric" ? [0, 0n] : Array(12).fill(0);
      expect(env[name](...(zeros as number[])), name).not.toBe(UNIMPLEMENTED);
    }
    expect(host.logs.filter(([, m]) => m.includes("not implemented"))).toEqual([]);
  });
});
