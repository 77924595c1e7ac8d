// What a module asks the host is checked where it asks: headers that could not go on the wire,
// local replies with an impossible status (from a stream, a tick or a callout's answer), and
// properties kept per stream, never shadowing the stream's real attributes.
import { describe, expect, it } from "vitest";
import { Harness } from "../../host/testing/index.ts";
import { IMPORTS, watBytes, watPairs } from "./hostile.ts";
import { wat } from "./wat.ts";

const OK = 0, NOT_FOUND = 1, BAD_ARGUMENT = 2;

const [badPairs, badPairsLen] = watPairs([["x-ok", "1"], ["x-split", "a\r\nx: 1"]]);
const [calloutPairs, calloutPairsLen] = watPairs([[":method", "GET"], [":path", "/"], [":authority", "auth"]]);

/**
 * On request headers: adds x-bad: "a\r\nx: 1" (status at 200), replaces with it (204), sets
 * pairs holding it (236), adds x-good: ok, remembers its context; with the word at 304 set,
 * makes a callout. onTick and the callout's answer send a local reply with the status at 300
 * to that stream (status of the call at 208 / 212).
 */
const headersModule = wat(`
  (data (i32.const 100) "x-bad")
  (data (i32.const 110) "${watBytes("a\r\nx: 1")}")
  (data (i32.const 120) "x-good")
  (data (i32.const 130) "ok")
  (data (i32.const 140) "auth")
  (data (i32.const 1000) "${badPairs}")
  (data (i32.const 1200) "${calloutPairs}")
  (global $saved (mut i32) (i32.const 0))
  (func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
    (global.set $saved (local.get $ctx))
    (i32.store (i32.const 200) (call $add (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 110) (i32.const 7)))
    (i32.store (i32.const 204) (call $replace (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 110) (i32.const 7)))
    (i32.store (i32.const 236) (call $set_pairs (i32.const 0) (i32.const 1000) (i32.const ${badPairsLen})))
    (drop (call $add (i32.const 0) (i32.const 120) (i32.const 6) (i32.const 130) (i32.const 2)))
    (if (i32.load (i32.const 304)) (then
      (drop (call $http_call (i32.const 140) (i32.const 4) (i32.const 1200) (i32.const ${calloutPairsLen})
        (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 24)))
      (return (i32.const 1))))
    (i32.const 0))
  (func $replyToSaved (result i32)
    (drop (call $effective (global.get $saved)))
    (call $reply (i32.load (i32.const 300)) (i32.const 0) (i32.const 0) (i32.const 130) (i32.const 2) (i32.const 0) (i32.const 0) (i32.const -1)))
  (func (export "proxy_on_tick") (param i32)
    (i32.store (i32.const 208) (call $replyToSaved)))
  (func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32)
    (i32.store (i32.const 212) (call $replyToSaved)))`, { imports: IMPORTS });

describe("headers a module sets", () => {
  it("refuses CR, LF or NUL in a value with BadArgument, logged at debug; the request goes on without it", async () => {
    const h = await Harness.load(headersModule);
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect([h.plugin.vm.u32(200), h.plugin.vm.u32(204), h.plugin.vm.u32(236)]).toEqual([BAD_ARGUMENT, BAD_ARGUMENT, BAD_ARGUMENT]);
    expect(s.request.headersSent).toBe(true);
    expect(s.request.header("x-bad")).toBeUndefined();
    expect(s.request.header("x-split")).toBeUndefined();
    expect(s.request.header("x-ok")).toBeUndefined(); // set_pairs is refused whole
    expect(s.request.header("x-good")).toBe("ok");
    expect(s.request.header(":path")).toBe("/");
    const debug = h.logMessages("debug");
    expect(debug).toContain('proxy_add_header_map_value: header "x-bad": "a\\r\\nx: 1" contains CR, LF or NUL; answering BadArgument');
    expect(debug.some((m) => m.startsWith("proxy_set_header_map_pairs: header \"x-split\""))).toBe(true);
  });
});

describe("local replies from outside a stream callback", () => {
  it("a status outside 200-599 from onTick answers BadArgument with a debug line; a valid one answers the stream", async () => {
    const h = await Harness.load(headersModule);
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, false);
    for (const status of [0, 199, 600, 0xffffffff]) {
      h.plugin.vm.setU32(300, status);
      h.tick();
      expect(h.plugin.vm.u32(208)).toBe(BAD_ARGUMENT);
    }
    expect(h.logMessages("debug")).toContain("proxy_send_local_response: status 0 is outside 200-599; answering BadArgument");
    expect(h.logMessages("debug")).toContain("proxy_send_local_response: status 4294967295 is outside 200-599; answering BadArgument");
    expect(s.localReply).toBeNull();
    h.plugin.vm.setU32(300, 429);
    h.tick();
    expect(h.plugin.vm.u32(208)).toBe(OK);
    expect(s.localReply?.status).toBe(429);
    expect(h.plugin.failed).toBe(false);
  });

  it("a status 0 from a callout's answer answers BadArgument, and a valid one replies", async () => {
    const h = await Harness.load(headersModule);
    h.plugin.vm.setU32(304, 1);
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(h.httpCalls).toHaveLength(1);
    h.plugin.vm.setU32(300, 0);
    h.httpCalls[0].respond(200);
    expect(h.plugin.vm.u32(212)).toBe(BAD_ARGUMENT);
    expect(h.logMessages("debug")).toContain("proxy_send_local_response: status 0 is outside 200-599; answering BadArgument");
    const s2 = h.http();
    s2.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    h.plugin.vm.setU32(300, 503);
    h.httpCalls[1].respond(200);
    expect(h.plugin.vm.u32(212)).toBe(OK);
    expect(s2.localReply?.status).toBe(503);
  });

  it("an error while acting on a deferred reply fails that stream only, and does not escape the tick", async () => {
    const h = await Harness.load(headersModule);
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, false);
    // The host's own failure while answering (a sink that throws, as a socket write might).
    const stream = (s as unknown as { stream: { sendLocalReply: () => void } }).stream;
    stream.sendLocalReply = () => {
      throw new Error("injected host bug");
    };
    h.plugin.vm.setU32(300, 403);
    expect(() => h.tick()).not.toThrow();
    expect(s.resetReason).toBe("internal error: injected host bug");
    expect(h.logMessages("error")).toContain("internal error acting on what the module asked: injected host bug");
    const next = h.http();
    expect(next.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true)).toBe(0);
    expect(next.request.headersSent).toBe(true);
  });
});

/**
 * Request headers: reads my_key (status at 224), sets it to "v<ctx>" when the word at 400 is
 * set (220), sets request.path to "/fake" (228), then logs request.path and plugin_key.
 * Response headers: reads my_key (232) and logs it. onConfigure sets plugin_key.
 */
const propertiesModule = wat(`
  (data (i32.const 100) "my_key")
  (data (i32.const 110) "request\\00path")
  (data (i32.const 130) "/fake")
  (data (i32.const 140) "plugin_key")
  (data (i32.const 160) "from-root")
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (drop (call $set_prop (i32.const 140) (i32.const 10) (i32.const 160) (i32.const 9)))
    (i32.const 1))
  (func $logOut (drop (call $log (i32.const 2) (i32.load (i32.const 16)) (i32.load (i32.const 20)))))
  (func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
    (i32.store (i32.const 224) (call $get_prop (i32.const 100) (i32.const 6) (i32.const 16) (i32.const 20)))
    (i32.store8 (i32.const 170) (i32.add (i32.const 48) (local.get $ctx)))
    (if (i32.load (i32.const 400)) (then
      (i32.store8 (i32.const 169) (i32.const 118))
      (i32.store (i32.const 220) (call $set_prop (i32.const 100) (i32.const 6) (i32.const 169) (i32.const 2)))))
    (i32.store (i32.const 228) (call $set_prop (i32.const 110) (i32.const 12) (i32.const 130) (i32.const 5)))
    (drop (call $get_prop (i32.const 110) (i32.const 12) (i32.const 16) (i32.const 20)))
    (call $logOut)
    (drop (call $get_prop (i32.const 140) (i32.const 10) (i32.const 16) (i32.const 20)))
    (call $logOut)
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (i32.store (i32.const 232) (call $get_prop (i32.const 100) (i32.const 6) (i32.const 16) (i32.const 20)))
    (if (i32.eqz (i32.load (i32.const 232))) (then (call $logOut)))
    (i32.const 0))`, { imports: IMPORTS });

describe("properties a module sets", () => {
  it("set in stream A is read back in A and is NotFound in stream B; the root's value is the plugin's", async () => {
    const h = await Harness.load(propertiesModule);
    const vm = h.plugin.vm;
    vm.setU32(400, 1);
    const a = h.http();
    a.sendRequestHeaders({ ":method": "GET", ":path": "/a" }, true);
    expect([vm.u32(224), vm.u32(220)]).toEqual([NOT_FOUND, OK]);
    vm.setU32(400, 0);
    const b = h.http();
    b.sendRequestHeaders({ ":method": "GET", ":path": "/b" }, true);
    expect(vm.u32(224)).toBe(NOT_FOUND);
    b.sendResponseHeaders({ ":status": "200" }, true);
    expect(vm.u32(232)).toBe(NOT_FOUND);
    a.sendResponseHeaders({ ":status": "200" }, true);
    expect(vm.u32(232)).toBe(OK);
    expect(a.logs.filter((l) => l.level === "info").map((l) => l.message)).toEqual(["/a", "from-root", `v${a.contextId}`]);
    expect(b.logs.filter((l) => l.level === "info").map((l) => l.message)).toEqual(["/b", "from-root"]);
  });

  it("setting request.path answers Ok (as Envoy) and reading it still gives the real path", async () => {
    const h = await Harness.load(propertiesModule);
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/real" }, true);
    expect(h.plugin.vm.u32(228)).toBe(OK);
    expect(s.logs.find((l) => l.level === "info")?.message).toBe("/real");
    expect(s.request.header(":path")).toBe("/real");
    const next = h.http();
    next.sendRequestHeaders({ ":method": "GET", ":path": "/next" }, true);
    expect(next.logs.find((l) => l.level === "info")?.message).toBe("/next");
  });
});
