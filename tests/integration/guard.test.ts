// A hostile module in the running proxy: a callback that loops ends at its deadline while the
// proxy keeps answering; ticks and deferred replies cannot take the process down; a filter
// cannot forge a log line or split a header; a filter trapping 1 request in 10 costs only
// those requests; the command line's one-line errors for a bad start, and SIGTERM during a loop.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pool, request } from "undici";
import { shorthandConfig } from "../../host/config/shorthand.ts";
import { Logger } from "../../host/log.ts";
import { Proxy } from "../../host/server/proxy.ts";
import { startEchoUpstream } from "../../host/testing/echo-upstream.ts";
import { IMPORTS, watBytes, watPairs } from "../host/hostile.ts";
import { wat } from "../host/wat.ts";
import { root } from "./proxy-fixture.ts";

let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
beforeAll(async () => (upstream = await startEchoUpstream()));
afterAll(async () => upstream.close());

const dir = mkdtempSync(join(tmpdir(), "pwa-guard-"));
function moduleFile(name: string, bytes: Uint8Array): string {
  const file = join(dir, `${name}.wasm`);
  writeFileSync(file, bytes);
  return file;
}

const [badReplyHeaders, badReplyHeadersLen] = watPairs([["a b", "1"]]);

/**
 * Request headers: x-loop loops forever; x-log logs "line one\nforged line"; x-bad-header adds
 * x-bad: "a\r\nx: 1" to the request, and then to the response; x-hold remembers the stream and stops it. Each tick answers a held
 * stream: first with status 0 (refused), then 403 with a header Node cannot write.
 */
const hostile = wat(`
  (data (i32.const 100) "x-loop")
  (data (i32.const 110) "x-log")
  (data (i32.const 120) "x-bad-header")
  (data (i32.const 140) "x-hold")
  (data (i32.const 150) "x-bad")
  (data (i32.const 160) "${watBytes("a\r\nx: 1")}")
  (data (i32.const 180) "${watBytes("line one\nforged line")}")
  (data (i32.const 1000) "${badReplyHeaders}")
  (global $held (mut i32) (i32.const 0))
  (global $ticks (mut i32) (i32.const 0))
  (global $badResponse (mut i32) (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (if (global.get $badResponse) (then
      (global.set $badResponse (i32.const 0))
      (drop (call $add (i32.const 2) (i32.const 150) (i32.const 5) (i32.const 160) (i32.const 7)))))
    (i32.const 0))
  (func $has (param $name i32) (param $len i32) (result i32)
    (i32.eqz (call $get (i32.const 0) (local.get $name) (local.get $len) (i32.const 16) (i32.const 20))))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $tick_period (i32.const 20)))
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
    (if (call $has (i32.const 100) (i32.const 6)) (then (loop $l (br $l))))
    (if (call $has (i32.const 110) (i32.const 5)) (then (drop (call $log (i32.const 2) (i32.const 180) (i32.const 20)))))
    (if (call $has (i32.const 120) (i32.const 12)) (then
      (global.set $badResponse (i32.const 1))
      (i32.store (i32.const 200) (call $add (i32.const 0) (i32.const 150) (i32.const 5) (i32.const 160) (i32.const 7)))))
    (if (call $has (i32.const 140) (i32.const 6)) (then
      (global.set $held (local.get $ctx))
      (return (i32.const 1))))
    (i32.const 0))
  (func (export "proxy_on_tick") (param i32)
    (if (i32.eqz (global.get $held)) (then (return)))
    (drop (call $effective (global.get $held)))
    (global.set $ticks (i32.add (global.get $ticks) (i32.const 1)))
    (if (i32.eq (global.get $ticks) (i32.const 1)) (then
      (i32.store (i32.const 204) (call $reply (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -1)))
      (return)))
    (drop (call $reply (i32.const 403) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const ${badReplyHeadersLen}) (i32.const -1)))
    (global.set $held (i32.const 0))
    (global.set $ticks (i32.const 0)))`,
{ imports: `${IMPORTS} (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))` });

async function withProxy<T>(wasm: string, body: (p: { url: string; admin: string; lines: string[]; proxy: Proxy }) => Promise<T>, deadlineMs?: number): Promise<T> {
  const config = shorthandConfig({ wasm: [wasm], rootId: ["guard"], config: [], failOpen: false, upstream: `http://127.0.0.1:${upstream.port}`, listen: 0, admin: 0 });
  if (deadlineMs !== undefined) for (const f of config.listeners[0].wasmFilters) f.deadlineMs = deadlineMs;
  const lines: string[] = [];
  const proxy = await Proxy.start(config, new Logger("debug", (l) => lines.push(l)));
  try {
    return await body({ url: `http://127.0.0.1:${proxy.ports[0]}`, admin: `http://127.0.0.1:${proxy.adminPort}`, lines, proxy });
  } finally {
    await proxy.stop(1000);
  }
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  return { status: res.statusCode, text: await res.body.text() };
}

describe("a hostile module in the proxy", () => {
  it("a callback that loops gets 503 at its deadline; a concurrent request and /ready are answered; the log line names plugin, callback and deadline", () =>
    withProxy(moduleFile("hostile", hostile), async ({ url, admin, lines }) => {
      const started = performance.now();
      const looping = get(`${url}/spin`, { "x-loop": "1" });
      await new Promise((r) => setTimeout(r, 20)); // the loop has begun: the other two wait for it to end
      const [spun, other, ready] = await Promise.all([looping, get(`${url}/other`), get(`${admin}/ready`)]);
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(spun.status).toBe(503);
      expect(other.status).toBe(200);
      expect(ready).toEqual({ status: 200, text: "LIVE\n" });
      expect(lines.some((l) => l.includes("[error][wasm] wasm log guard") && l.includes("proxy_on_request_headers ran past its deadline of 300 ms"))).toBe(true);
      expect((await get(`${url}/after`)).status).toBe(200);
    }, 300));

  it("a local reply with status 0 from onTick is refused with a log line, and one Node cannot write gives that stream a 500; the process stays up", () =>
    withProxy(moduleFile("hostile", hostile), async ({ url, lines }) => {
      const held = await get(`${url}/held`, { "x-hold": "1" });
      expect(held.status).toBe(500);
      expect(lines.some((l) => l.includes("proxy_send_local_response: status 0 is outside 200-599; answering BadArgument"))).toBe(true);
      expect(lines.some((l) => l.includes("internal error acting on what the module asked"))).toBe(true);
      expect((await get(`${url}/next`)).status).toBe(200);
    }));

  it("a header value with CR LF is refused (BadArgument) on either side and the request completes without it", () =>
    withProxy(moduleFile("hostile", hostile), async ({ url, lines }) => {
      const raw = await request(`${url}/split`, { headers: { "x-bad-header": "1" } });
      const res = { status: raw.statusCode, text: await raw.body.text() };
      expect(res.status).toBe(200);
      expect(raw.headers["x-bad"]).toBeUndefined();
      expect(raw.headers.x).toBeUndefined();
      expect(lines.filter((l) => l.includes('proxy_add_header_map_value: header "x-bad"'))).toHaveLength(2);
      const seen = JSON.parse(res.text).headers;
      expect(seen["x-bad"]).toBeUndefined();
      expect(seen.x).toBeUndefined();
      expect(lines.some((l) => l.includes('proxy_add_header_map_value: header "x-bad"'))).toBe(true);
    }));

  it("a newline in a filter's log message cannot forge a log line", () =>
    withProxy(moduleFile("hostile", hostile), async ({ url, lines }) => {
      await get(`${url}/log`, { "x-log": "1" });
      expect(lines.some((l) => l.endsWith("wasm log guard 2: line one\\nforged line"))).toBe(true);
      expect(lines.some((l) => l.startsWith("forged"))).toBe(false);
      expect(lines.every((l) => !l.includes("\n"))).toBe(true);
    }));

  it("with a filter trapping on 1 request in 10, at one connection, at least 89% of 1,000 requests succeed", async () => {
    // Counts its requests; traps on every tenth since its VM started (a fresh VM counts from 0).
    const trapping = wat(`
      (global $n (mut i32) (i32.const 0))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (global.set $n (i32.add (global.get $n) (i32.const 1)))
        (if (i32.eqz (i32.rem_u (global.get $n) (i32.const 10))) (then unreachable))
        (i32.const 0))`);
    await withProxy(moduleFile("trapping", trapping), async ({ url }) => {
      const pool = new Pool(url, { connections: 1, pipelining: 1 });
      let ok = 0;
      try {
        for (let i = 0; i < 1000; i++) {
          const res = await pool.request({ path: `/r${i}`, method: "GET" });
          await res.body.text();
          if (res.statusCode === 200) ok++;
        }
      } finally {
        await pool.close();
      }
      expect(ok).toBeGreaterThanOrEqual(890);
    });
  });
});

describe("the command line with a hostile module", () => {
  const bin = join(root, "bin/proxy-wasm-as.js");
  function cli(args: string[]): { child: ChildProcess; stderr: () => string } {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    return { child, stderr: () => stderr };
  }

  it("a start section that loops: one line naming the module and the cause, exit 1, no stack", async () => {
    const file = moduleFile("spin-start", wat(`(func $s (loop $l (br $l))) (start $s)`));
    const { child, stderr } = cli(["run", "--wasm", file, "--upstream", `http://127.0.0.1:${upstream.port}`, "--listen", "0", "--deadline-ms", "200"]);
    const [code] = await once(child, "exit");
    expect(code).toBe(1);
    expect(stderr()).toBe(`proxy-wasm-as: plugin spin-start (${file}): the start section ran past its deadline of 200 ms while starting\n`);
  });

  it("an unknown filter name in --deadline-ms is an error naming the filters", async () => {
    const { child, stderr } = cli(["run", "--wasm", "build/add-header.wasm", "--upstream", `http://127.0.0.1:${upstream.port}`, "--listen", "0", "--deadline-ms", "nope=10"]);
    const [code] = await once(child, "exit");
    expect(code).toBe(1);
    expect(stderr()).toBe("proxy-wasm-as: the command line: --deadline-ms: no wasm filter named nope (there are: add-header)\n");
  });

  it("SIGTERM while a callback loops: the loop ends at its deadline, the request gets 503, the process exits 0", async () => {
    const file = moduleFile("hostile", hostile);
    const { child, stderr } = cli(["run", "--wasm", file, "--root-id", "guard", "--upstream", `http://127.0.0.1:${upstream.port}`,
      "--listen", "0", "--deadline-ms", "guard=1500"]);
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /listener main on 127\.0\.0\.1:(\d+)/.exec(stderr());
          if (m) resolve(Number(m[1]));
          if (m || child.exitCode !== null) clearInterval(timer);
          if (!m && child.exitCode !== null) reject(new Error(stderr()));
        }, 20);
      });
      const looping = get(`http://127.0.0.1:${port}/spin`, { "x-loop": "1" });
      await new Promise((r) => setTimeout(r, 300));
      const started = performance.now();
      child.kill("SIGTERM");
      expect((await looping).status).toBe(503);
      const [code] = await once(child, "exit");
      expect(code).toBe(0);
      expect(performance.now() - started).toBeLessThan(10_000); // the drain time
      expect(stderr()).toContain("SIGTERM: draining in-flight requests");
      expect(stderr()).toContain("proxy_on_request_headers ran past its deadline of 1500 ms");
    } finally {
      child.kill("SIGKILL");
    }
  });
});
