// The inspector's hooks (issue 14): off, the proxy keeps no ring, makes no tracer and records
// no event; on, each exchange's events are recorded in order (callbacks with their actions,
// header changes, logs, local replies, traps with the author's source line, properties,
// metrics, TCP data callbacks), within the ring's bound and the body limit.
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { request } from "undici";
import { shorthandConfig } from "../../host/config/index.ts";
import { Inspector } from "../../host/inspect/inspector.ts";
import { HttpTracer, StreamTracer, TcpTracer, Trace, type TraceEvent, bodyView, headerDiff } from "../../host/inspect/trace.ts";
import type { InspectLimits } from "../../host/inspect/trace.ts";
import { Logger } from "../../host/log.ts";
import { Proxy } from "../../host/server/proxy.ts";
import { startEchoUpstream, startTcpEchoUpstream } from "../../host/testing/echo-upstream.ts";
import { exampleConfig, root } from "../integration/proxy-fixture.ts";

let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
let tcpUpstream: Awaited<ReturnType<typeof startTcpEchoUpstream>>;
beforeAll(async () => {
  upstream = await startEchoUpstream(0);
  tcpUpstream = await startTcpEchoUpstream(0);
});
afterAll(async () => {
  await upstream.close();
  await tcpUpstream.close();
});
afterEach(() => vi.restoreAllMocks());

type Config = ReturnType<typeof exampleConfig>;

async function withProxy(config: Config, inspect: Partial<InspectLimits> | null, body: (p: { proxy: Proxy; url: string; admin: string }) => Promise<void>) {
  config.admin ??= { address: "127.0.0.1", port: 0 };
  const proxy = await Proxy.start(config, new Logger("info", () => {}), { inspect });
  try {
    await body({ proxy, url: `http://127.0.0.1:${proxy.ports[0]}`, admin: `http://127.0.0.1:${proxy.adminPort}` });
  } finally {
    await proxy.stop(500);
  }
}

function shorthand(wasm: string, rootId = "", configuration = "") {
  return shorthandConfig({
    wasm: [join(root, "build", wasm)], rootId: rootId ? [rootId] : [], config: configuration ? [configuration] : [], failOpen: false,
    upstream: `http://127.0.0.1:${upstream.port}`, listen: 0, admin: 0,
  });
}

async function get(url: string, init: { method?: "GET" | "POST"; headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(url, init);
  return { status: res.statusCode, text: await res.body.text() };
}

/** The one exchange kept whose path is `path`, in full. */
async function detail(admin: string, path: string) {
  const list = (await (await fetch(`${admin}/inspector/exchanges`)).json()) as { exchanges: { id: number; path?: string }[] };
  const found = list.exchanges.filter((e) => e.path === path);
  expect(found).toHaveLength(1);
  return (await (await fetch(`${admin}/inspector/exchanges/${found[0].id}`)).json()) as Record<string, any> & { events: TraceEvent[] };
}

/** `type` or `type:callback→action` for each event: the timeline's shape. */
const shape = (events: TraceEvent[]) => events.map((e) =>
  e.type === "callback" ? `${e.callback}${e.action ? `→${e.action}` : ""}` : e.type === "headers" || e.type === "data" ? `${e.side} ${e.type} ${e.dir}` : e.type);

function sendTcp(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(text));
    let reply = "";
    socket.on("data", (d) => (reply += d));
    socket.on("close", () => resolve(reply));
    socket.on("error", reject);
  });
}

describe("the inspector off", () => {
  it("keeps no ring, makes no tracer, wraps nothing and records no event, for HTTP or TCP", async () => {
    const spies = [
      vi.spyOn(Inspector.prototype, "http"), vi.spyOn(Inspector.prototype, "tcp"), vi.spyOn(Inspector.prototype, "observe"),
      vi.spyOn(Inspector.prototype, "callouts"), vi.spyOn(Trace.prototype, "push"), vi.spyOn(HttpTracer.prototype, "before"), vi.spyOn(TcpTracer.prototype, "before"),
      vi.spyOn(StreamTracer.prototype, "after"),
    ];
    await withProxy(exampleConfig("add-header", upstream.port), null, async ({ proxy, url, admin }) => {
      expect(proxy.inspector).toBeNull();
      expect((await get(`${url}/hello`)).status).toBe(200);
      const page = await fetch(`${admin}/inspector`);
      expect(page.status).toBe(404);
      expect(await page.text()).toContain("run the proxy with --inspect");
    });
    await withProxy(exampleConfig("tcp-metrics", tcpUpstream.port), null, async ({ proxy }) => {
      expect(proxy.inspector).toBeNull();
      expect(await sendTcp(proxy.ports[0], "ping\n")).toBe("ping\n");
    });
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });
});

describe("the inspector on", () => {
  it("records an exchange's events in order: callbacks with their actions, header changes, a log inside its callback, the local reply", async () => {
    await withProxy(exampleConfig("deny", upstream.port), {}, async ({ url, admin }) => {
      expect((await get(`${url}/private`)).status).toBe(403);
      const d = await detail(admin, "/private");
      expect(d).toMatchObject({ kind: "http", method: "GET", status: 403, details: "wasm_deny", localReply: true, trap: false, plugins: ["deny"] });
      expect(shape(d.events)).toEqual([
        "request headers in", "onRequestHeaders→StopIteration", "log", "localReply",
        "response headers in", "onResponseHeaders→not exported (Continue)", "response headers out",
        "response data in", "onResponseBody→not exported (Continue)", "response data out", "onDone · onLog · onDelete", "end",
      ]);
      const [log, reply] = [d.events[2], d.events[3]];
      expect(log).toMatchObject({ plugin: "deny", level: "info", message: "deny: missing header x-api-key", inside: true });
      expect(reply).toMatchObject({ plugin: "deny", status: 403, details: "wasm_deny", body: { text: "access denied: missing header x-api-key\n" } });
      expect(d.events[1].us).toBeGreaterThan(0);
      const ts = d.events.map((e) => e.t);
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
    });

    await withProxy(exampleConfig("add-header", upstream.port), {}, async ({ url, admin }) => {
      expect((await get(`${url}/hello`)).status).toBe(200);
      const d = await detail(admin, "/hello");
      const requestHeaders = d.events.find((e) => e.callback === "onRequestHeaders")!;
      expect(requestHeaders).toMatchObject({ action: "Continue", changes: { requestHeaders: [{ op: "+", name: "x-added-by", value: "proxy-wasm-as" }] } });
      const responseHeaders = d.events.find((e) => e.callback === "onResponseHeaders")!;
      expect(responseHeaders.changes).toEqual({ responseHeaders: [{ op: "+", name: "x-frame-options", value: "DENY" }] });
      // Before and after the chain: the request as the client sent it and as it went upstream.
      expect(d.request.diff).toEqual([{ op: "+", name: "x-added-by", value: "proxy-wasm-as" }]);
      expect(d.request.in.some(([n]: string[]) => n === "x-added-by")).toBe(false);
      expect(d.response.diff).toEqual([{ op: "+", name: "x-frame-options", value: "DENY" }]);
    });
  });

  it("names the plugin of each event when two filters share one VM", async () => {
    const config = shorthand("test-vm-share.wasm", "", "a");
    const [a] = config.listeners[0].wasmFilters;
    config.listeners[0].wasmFilters = [{ ...a, name: "a" }, { ...a, name: "b", configuration: "b" }];
    await withProxy(config, {}, async ({ url, admin }) => {
      expect((await get(`${url}/both`)).status).toBe(200);
      const d = await detail(admin, "/both");
      expect(d.plugins).toEqual(["a", "b"]);
      const logs = d.events.filter((e) => e.type === "log").map((e) => [e.plugin, e.message]);
      expect(logs).toEqual([["b", "b saw response 1"], ["a", "a saw response 2"]]);
    });
  });

  it("records a trap with the author's source line", async () => {
    const source = readFileSync(join(root, "tests/filters/trap/index.ts"), "utf8").split("\n");
    const line = source.findIndex((l) => l.includes("// trap: throw")) + 1;
    await withProxy(shorthand("test-trap.wasm"), {}, async ({ url, admin }) => {
      expect((await get(`${url}/throw`)).status).toBe(503);
      const d = await detail(admin, "/throw");
      expect(d).toMatchObject({ trap: true, status: 503, localReply: true });
      const trapped = d.events.find((e) => e.trap)!;
      expect(trapped.callback).toBe("onRequestHeaders");
      const trap = trapped.trap as { message: string; stack: string };
      expect(trap.message).toContain(`tests/filters/trap/index.ts:${line}:`);
      expect(trap.stack).toContain(`tests/filters/trap/index.ts:${line}:`);
      expect(d.events.find((e) => e.type === "localReply")).toMatchObject({ status: 503, details: "wasm_fail_stream" });
    });
  });

  it("records properties read and set, and metrics changed, each inside the callback that did it", async () => {
    await withProxy(shorthand("test-sdk-probe.wasm"), {}, async ({ url, admin }) => {
      await get(`${url}/read`, { headers: { "x-probe": "property", "x-arg": "request.path" } });
      const read = (await detail(admin, "/read")).events.find((e) => e.type === "property")!;
      expect(read).toMatchObject({ op: "get", path: "request.path", value: { text: "/read" }, inside: true });
      await get(`${url}/set`, { headers: { "x-probe": "set-property", "x-arg": "stamp" } });
      const props = (await detail(admin, "/set")).events.filter((e) => e.type === "property");
      expect(props.map((e) => [e.op, e.path, (e.value as { text: string }).text])).toEqual([["set", "filter_state.probe", "stamp"], ["get", "filter_state.probe", "stamp"]]);
    });
    await withProxy(exampleConfig("request-metrics", upstream.port), {}, async ({ url, admin }) => {
      await get(`${url}/counted`);
      const metrics = (await detail(admin, "/counted")).events.filter((e) => e.type === "metric");
      expect(metrics).toContainEqual(expect.objectContaining({ op: "increment", name: "request_metrics.requests.method.GET", value: "1", now: "1", inside: true }));
      expect(metrics.some((e) => e.op === "record")).toBe(true);
    });
  });

  it("records a callout made by a stream and its answer, with what the filter did on it", async () => {
    const { startAuthService } = await import("../../examples/ext-auth/auth-service.ts");
    const auth = await startAuthService();
    try {
      const config = exampleConfig("ext-auth", upstream.port, (yaml) => yaml.replace("port_value: 9001", `port_value: ${auth.port}`));
      await withProxy(config, {}, async ({ url, admin }) => {
        expect((await get(`${url}/orders`, { headers: { authorization: "Bearer letmein" } })).status).toBe(200);
        const d = await detail(admin, "/orders");
        expect(shape(d.events).slice(0, 6)).toEqual(["request headers in", "onRequestHeaders→StopIteration", "callout", "answer", "call", "request headers out"]);
        expect(d.events[2]).toMatchObject({ plugin: "ext_auth", kind: "http", cluster: "auth", method: "GET", path: "/check", inside: true });
        expect(d.events[3]).toMatchObject({ plugin: "ext_auth", cluster: "auth", status: 200 });
        expect(d.events[3].us).toBeGreaterThan(0);
        // Inside the answer's callback: the continue, and the header it added, seen going upstream.
        expect(d.events[4]).toMatchObject({ call: "continue_stream(request)", status: 0, inside: true });
        expect(d.request.diff).toContainEqual({ op: "+", name: "x-user", value: "alice" });
      });
    } finally {
      await auth.close();
    }
  });

  it("records a gRPC call made by a stream: the call, each answer and the module's time on it", async () => {
    const { startCheckerService } = await import("../../examples/grpc-check/checker-service.ts");
    const checker = await startCheckerService();
    try {
      const config = exampleConfig("grpc-check", upstream.port, (yaml) => yaml.replace("port_value: 9003", `port_value: ${checker.port}`));
      await withProxy(config, {}, async ({ url, admin }) => {
        expect((await get(`${url}/orders`, { headers: { "x-user": "bob" } })).status).toBe(403);
        const d = await detail(admin, "/orders");
        const call = d.events.find((e) => e.type === "callout")!;
        expect(call).toMatchObject({ kind: "grpc", call: "authz.Checker/Check", stream: false, inside: true });
        const answers = d.events.filter((e) => e.type === "answer");
        expect(answers.some((e) => e.message !== undefined && (e.us as number) > 0)).toBe(true);
        expect(answers.at(-1)).toMatchObject({ kind: "grpc", grpcStatus: 0 });
        expect(d.events.find((e) => e.type === "localReply")).toMatchObject({ status: 403, inside: true });
      });
    } finally {
      await checker.close();
    }
  });

  it("records a TCP connection: its data callbacks, the bytes each way, and why it closed", async () => {
    await withProxy(exampleConfig("tcp-deny", tcpUpstream.port), {}, async ({ proxy, admin }) => {
      expect(await sendTcp(proxy.ports[0], "hello\n")).toBe("hello\n");
      await sendTcp(proxy.ports[0], "CONNECT evil\n");
      await new Promise((r) => setTimeout(r, 50));
      const list = (await (await fetch(`${admin}/inspector/exchanges`)).json()).exchanges;
      expect(list.map((e: { kind: string }) => e.kind)).toEqual(["tcp", "tcp"]);
      const [passed, denied] = await Promise.all(list.map(async (e: { id: number }) => (await fetch(`${admin}/inspector/exchanges/${e.id}`)).json()));
      const callbacks = (d: { events: TraceEvent[] }) => d.events.filter((e) => e.type === "callback").map((e) => `${e.callback}→${e.action}`);
      expect(callbacks(passed)).toContain("onDownstreamData→Continue");
      // tcp-deny looks at the client's bytes only: its module does not export the upstream callback.
      expect(callbacks(passed)).toContain("onUpstreamData→not exported (Continue)");
      expect(passed.events.find((e: TraceEvent) => e.type === "data" && e.side === "downstream" && e.dir === "in").data.text).toBe("hello\n");
      expect(passed).toMatchObject({ downstreamBytes: 6, upstreamBytes: 6 });
      expect(denied.closeReason).toBe("wasm_downstream_close");
      expect(denied.events.some((e: TraceEvent) => e.type === "log" && String(e.message).includes("denied prefix") && e.inside)).toBe(true);
      expect(callbacks(denied)).toContain("onDownstreamData→StopIteration");
    });
  });

  it("keeps only the last N exchanges, and at most the event limit per exchange", async () => {
    await withProxy(exampleConfig("add-header", upstream.port), { exchanges: 3, events: 4 }, async ({ url, admin }) => {
      for (let i = 1; i <= 5; i++) await get(`${url}/n/${i}`);
      const list = (await (await fetch(`${admin}/inspector/exchanges`)).json()).exchanges;
      expect(list.map((e: { path: string }) => e.path)).toEqual(["/n/3", "/n/4", "/n/5"]);
      const first = await fetch(`${admin}/inspector/exchanges/${list[0].id - 1}`);
      expect(first.status).toBe(404);
      const d = await detail(admin, "/n/5");
      expect(d.events).toHaveLength(4);
      expect(d.dropped).toBeGreaterThan(0);
    });
  });

  it("cuts bodies at the body limit and counts the rest", async () => {
    await withProxy(exampleConfig("add-header", upstream.port), { bodyBytes: 8 }, async ({ url, admin }) => {
      await get(`${url}/upload`, { method: "POST", body: "0123456789abcdef", headers: { "content-type": "text/plain" } });
      const d = await detail(admin, "/upload");
      expect(d.request.bodyIn).toEqual({ size: 16, text: "01234567", truncated: true, binary: false });
      expect(d.request.bodyOut).toMatchObject({ size: 16, text: "01234567", truncated: true });
      expect(d.response.bodyIn.text.length).toBe(8);
    });
  });
});

describe("the inspector's diffs and snapshots", () => {
  it("diffs header lists as multisets: a changed value, an added and a removed pair, order aside", () => {
    expect(headerDiff([["a", "1"], ["b", "2"]], [["b", "2"], ["a", "1"]])).toBeNull();
    expect(headerDiff([["a", "1"], ["b", "2"], ["d", "x"]], [["a", "3"], ["b", "2"], ["c", "4"]])).toEqual([
      { op: "~", name: "a", value: "3", was: "1" }, { op: "-", name: "d", value: "x" }, { op: "+", name: "c", value: "4" },
    ]);
    expect(headerDiff([["v", "1"], ["v", "2"]], [["v", "2"]])).toEqual([{ op: "-", name: "v", value: "1" }]);
  });

  it("keeps text as text and anything else as hex, cut at the limit", () => {
    expect(bodyView(Buffer.from("héllo"), 100)).toEqual({ size: 6, text: "héllo", truncated: false, binary: false });
    expect(bodyView(Uint8Array.from([0xff, 0x00, 0x41, 0x42]), 3)).toEqual({ size: 4, text: "ff 00 41", truncated: true, binary: true });
  });
});
