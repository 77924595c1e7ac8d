// Hot reload over real sockets: the proxy runs a temp copy of a module, the test rewrites the
// file (as a build does: a temp file renamed over it) and watches what clients get. Streams
// under way finish on the old module, new ones get the new module, a module that cannot be
// loaded or configured leaves the old one serving, with the error logged.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type AddressInfo, type Socket, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { request } from "undici";
import { run } from "../../host/cli.ts";
import { Logger } from "../../host/log.ts";
import { startTcpEchoUpstream } from "../../host/testing/echo-upstream.ts";
import { wat } from "../host/wat.ts";
import { exampleConfig, root, startProxy } from "./proxy-fixture.ts";

/**
 * A module tagged `tag`: it adds `x-module: <tag>` to responses, appends `[<tag>]` to what a
 * TCP client sends, and logs "<tag>: root done" when its root context is done. `configure`
 * false: it refuses its configuration; `trapOnStart`: on_vm_start traps.
 */
function tagged(tag: string, { configure = true, trapOnStart = false } = {}): Uint8Array {
  const done = `${tag}: root done`;
  return wat(`
    (data (i32.const 32) "x-module")
    (data (i32.const 64) "${tag}")
    (data (i32.const 128) "${done}")
    (data (i32.const 192) "[${tag}]")
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "proxy_on_vm_start") (param i32 i32) (result i32) ${trapOnStart ? "unreachable" : "(i32.const 1)"})
    (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const ${configure ? 1 : 0}))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
    (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
      (drop (call $add (i32.const 2) (i32.const 32) (i32.const 8) (i32.const 64) (i32.const ${tag.length})))
      (i32.const 0))
    (func (export "proxy_on_new_connection") (param i32) (result i32) (i32.const 0))
    (func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32)
      (if (i32.gt_u (local.get 1) (i32.const 0))
        (then (drop (call $set_buffer (i32.const 2) (i32.const -1) (i32.const 0) (i32.const 192) (i32.const ${tag.length + 2})))))
      (i32.const 0))
    (func (export "proxy_on_done") (param $id i32) (result i32)
      (if (i32.eq (local.get $id) (i32.const 1))
        (then (drop (call $log (i32.const 2) (i32.const 128) (i32.const ${done.length})))))
      (i32.const 1))
    (func (export "proxy_on_log") (param i32))
    (func (export "proxy_on_delete") (param i32))`, {
    imports: `
      (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
      (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_set_buffer_bytes" (func $set_buffer (param i32 i32 i32 i32 i32) (result i32)))`,
  });
}

/** `module` with a custom section appended: the same code, other bytes (what a rebuild with other debug names gives). */
function rebuilt(module: Uint8Array, note: string): Uint8Array {
  const name = Buffer.from("note"), payload = Buffer.from(note);
  const body = Buffer.concat([Buffer.from([name.length]), name, payload]);
  if (body.length > 127) throw new Error("note too long for a one-byte size");
  return Buffer.concat([module, Buffer.from([0, body.length]), body]);
}

/** Writes `bytes` as a build does: a temp file in the same directory, renamed over `file`. */
function replaceAtomically(file: string, bytes: Uint8Array): void {
  const temp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(temp, bytes);
  renameSync(temp, file);
}

/** Polls `check` until it holds (or throws after `timeoutMs`, naming `what`). */
async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A server that holds each request `hold` picks until the test lets them go (answering 200 with `headers`), and answers others at once. */
async function holdingServer(hold: (path: string) => boolean, headers: Record<string, string> = {}) {
  const held: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on("end", () => {
      if (hold(req.url ?? "/")) held.push(res);
      else res.writeHead(200, { "content-type": "text/plain", ...headers }).end("ok\n");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    get holding() { return held.length; },
    release() {
      for (const res of held.splice(0)) res.writeHead(200, { "content-type": "text/plain", ...headers }).end("held\n");
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function get(url: string) {
  const res = await request(url);
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** The upstream: holds requests to /hold. */
let upstream: Awaited<ReturnType<typeof holdingServer>>;
beforeAll(async () => (upstream = await holdingServer((path) => path === "/hold")));
afterAll(async () => upstream.close());

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "pwa-reload-"));
  dirs.push(dir);
  return dir;
}

/** The add-header example's configuration, its module read from `file`; the proxy watching it. */
async function watchedProxy(example: string, file: string, edit: (yaml: string) => string = (y) => y) {
  const config = exampleConfig(example, upstream.port, (y) => edit(y.replace(`${root}/build/${example}.wasm`, file)));
  const p = await startProxy(config);
  cleanups.push(() => p.proxy.stop(1000));
  expect(p.proxy.watchModules()).toBe(1);
  return p;
}

const stat = (p: Awaited<ReturnType<typeof startProxy>>, name: string) => p.proxy.stats.get(name);

describe("hot reload (HTTP)", () => {
  it("a request under way finishes on the old module; the next one gets the new module; the old root is done after its last stream", async () => {
    const file = join(tempDir(), "filter.wasm");
    copyFileSync(join(root, "build/add-header.wasm"), file);
    const p = await watchedProxy("add-header", file);

    // The add-header module answers with x-frame-options: DENY.
    const before = await get(`${p.url}/`);
    expect(before.headers["x-frame-options"]).toBe("DENY");

    // A request held at the upstream while the file is replaced by a module adding x-module: v2.
    let settled = false;
    const inFlight = get(`${p.url}/hold`).finally(() => (settled = true));
    await until("the request to reach the upstream", () => upstream.holding === 1);
    replaceAtomically(file, tagged("v2"));
    await until("the reload", () => p.lines.some((l) => l.includes(`[info][wasm] reloaded add_header from ${file}`)));

    // New requests get the new module while the old one still holds a request.
    const after = await get(`${p.url}/`);
    expect(after.headers["x-module"]).toBe("v2");
    expect(after.headers["x-frame-options"]).toBeUndefined();
    expect(settled).toBe(false);
    upstream.release();
    const old = await inFlight;
    expect(old.text).toBe("held\n");
    expect(old.headers["x-frame-options"]).toBe("DENY");
    expect(old.headers["x-module"]).toBeUndefined();
    expect(stat(p, "wasm_filter.add_header.reloads")).toBe(1);

    // Again from v2 to v3: v2's root context is done only once the request it holds has ended.
    const second = get(`${p.url}/hold`);
    await until("the second request to reach the upstream", () => upstream.holding === 1);
    replaceAtomically(file, tagged("v3"));
    await until("the second reload", () => p.lines.filter((l) => l.includes("reloaded add_header")).length === 2);
    expect((await get(`${p.url}/`)).headers["x-module"]).toBe("v3");
    expect(p.lines.some((l) => l.includes("v2: root done"))).toBe(false);
    upstream.release();
    expect((await second).headers["x-module"]).toBe("v2");
    await until("v2's root to be done", () => p.lines.some((l) => l.includes("wasm log add_header 1: v2: root done")));
    expect(p.lines.some((l) => l.includes("v3: root done"))).toBe(false);
    expect(stat(p, "wasm_filter.add_header.reloads")).toBe(2);
    const stats = await get(`${p.admin}/stats`);
    expect(stats.text).toContain("wasm_filter.add_header.reloads: 2\n");
    expect(stats.text).toContain("wasm_filter.add_header.reload_failures: 0\n");
  });

  it("requests keep flowing through a swap: none fails, each is answered by one module or the other", async () => {
    const file = join(tempDir(), "filter.wasm");
    writeFileSync(file, tagged("v1"));
    const p = await watchedProxy("add-header", file);
    const seen: string[] = [];
    const reloaded = () => p.lines.some((l) => l.includes(`reloaded add_header from ${file}`));
    const batch = async () => {
      const answers = await Promise.all(Array.from({ length: 20 }, () => get(`${p.url}/`)));
      for (const a of answers) seen.push(`${a.status} ${a.headers["x-module"]}`);
    };
    await batch();
    replaceAtomically(file, tagged("v2"));
    const deadline = Date.now() + 10_000;
    while (!reloaded() && Date.now() < deadline) await batch();
    expect(reloaded()).toBe(true);
    await batch();
    expect(seen.filter((s) => s !== "200 v1" && s !== "200 v2")).toEqual([]);
    expect(seen.slice(0, 20)).toEqual(Array(20).fill("200 v1"));
    expect(seen.slice(-20)).toEqual(Array(20).fill("200 v2"));
  });

  it("a request waiting for its filter's callout when the module is replaced gets the answer on the old VM, and goes on", async () => {
    // The authorization service holds every check, then admits it (and has x-user added).
    const auth = await holdingServer(() => true, { "x-auth-add-x-user": "alice" });
    cleanups.push(() => auth.close());
    const file = join(tempDir(), "ext-auth.wasm");
    copyFileSync(join(root, "build/ext-auth.wasm"), file);
    const p = await watchedProxy("ext-auth", file, (y) => y.replace("port_value: 9001", `port_value: ${auth.port}`).replace('"timeout_ms": 1000', '"timeout_ms": 30000'));
    const paused = get(`${p.url}/orders`);
    await until("the callout to reach the authorization service", () => auth.holding === 1);
    replaceAtomically(file, tagged("v2"));
    await until("the reload", () => p.lines.some((l) => l.includes(`reloaded ext_auth from ${file}`)));
    // The new module asks nobody.
    const fresh = await get(`${p.url}/x`);
    expect(fresh.headers["x-module"]).toBe("v2");
    expect(auth.holding).toBe(1);
    auth.release();
    const old = await paused;
    expect(old.status).toBe(200);
    expect(old.headers["x-module"]).toBeUndefined();
    expect(old.text).toBe("ok\n"); // it reached the upstream once the old VM had its answer
  });

  it("a broken file (garbage, a module refusing its configuration, a trap while starting) keeps the old module serving, logged; a later good file is taken", async () => {
    const file = join(tempDir(), "filter.wasm");
    writeFileSync(file, tagged("v1"));
    const p = await watchedProxy("add-header", file);
    expect((await get(`${p.url}/`)).headers["x-module"]).toBe("v1");
    const errors = () => p.lines.filter((l) => l.includes(`[error][wasm] reload of add_header from ${file} failed, the old module keeps serving: `));

    const broken: [string, Uint8Array, string][] = [
      ["garbage", Buffer.from("this is not a wasm module, just text\n"), "not a valid WebAssembly module"],
      ["a refused configuration", tagged("refuses", { configure: false }), "proxy_on_configure returned false"],
      ["a trap in on_vm_start", tagged("traps", { trapOnStart: true }), "while starting"],
    ];
    for (const [i, [what, bytes, cause]] of broken.entries()) {
      replaceAtomically(file, bytes);
      await until(`the error for ${what}`, () => errors().length === i + 1);
      expect(errors()[i], what).toContain(cause);
      const res = await get(`${p.url}/`);
      expect(res.status, what).toBe(200);
      expect(res.headers["x-module"], what).toBe("v1");
    }
    expect(stat(p, "wasm_filter.add_header.reload_failures")).toBe(3);
    expect(stat(p, "wasm_filter.add_header.reloads")).toBe(0);

    // Written in place this time (not renamed): a burst of events, one reload.
    writeFileSync(file, tagged("v2"));
    await until("the good module", () => p.lines.some((l) => l.includes(`reloaded add_header from ${file}`)));
    expect((await get(`${p.url}/`)).headers["x-module"]).toBe("v2");
    expect(stat(p, "wasm_filter.add_header.reloads")).toBe(1);
    // The old v1 had no stream left: it is done at once. The failed ones never started to
    // serve: none is done, and none is re-created in the background.
    await until("v1's root to be done", () => p.lines.some((l) => l.includes("v1: root done")));
    expect(p.lines.filter((l) => /refuses: root done|traps: root done|re-creating the VM/.test(l))).toEqual([]);

    // The same bytes again are not a new module; a missing file is an error, the module serving stays.
    expect(await p.proxy.reloadModule(file)).toEqual([{ plugin: "add_header", outcome: "unchanged" }]);
    rmSync(file);
    const [missing] = await p.proxy.reloadModule(file);
    expect(missing.outcome).toBe("failed");
    expect(missing.error).toContain("cannot read it");
    expect((await get(`${p.url}/`)).headers["x-module"]).toBe("v2");
    expect(stat(p, "wasm_filter.add_header.reloads")).toBe(1);
  });

  it("a build directory removed and made again (a clean build) is watched again", async () => {
    const dir = join(tempDir(), "build");
    mkdirSync(dir);
    const file = join(dir, "filter.wasm");
    writeFileSync(file, tagged("v1"));
    const p = await watchedProxy("add-header", file);
    rmSync(dir, { recursive: true });
    await until("the warning", () => p.lines.some((l) => l.includes(`[warn][wasm] watching ${dir}: it was removed; its modules reload when it is back`)));
    expect((await get(`${p.url}/`)).headers["x-module"]).toBe("v1");
    mkdirSync(dir);
    writeFileSync(file, tagged("v2"));
    await until("the reload", () => p.lines.some((l) => l.includes(`reloaded add_header from ${file}`)));
    expect((await get(`${p.url}/`)).headers["x-module"]).toBe("v2");
    // The new directory is watched in turn.
    replaceAtomically(file, tagged("v3"));
    await until("the second reload", () => p.lines.filter((l) => l.includes("reloaded add_header")).length === 2);
    expect((await get(`${p.url}/`)).headers["x-module"]).toBe("v3");
  });

  it("keeps shared data and filter metrics across a reload (the rate-limit bucket stays empty)", async () => {
    const file = join(tempDir(), "rate-limit.wasm");
    const module = readFileSync(join(root, "build/rate-limit.wasm"));
    writeFileSync(file, module);
    const p = await watchedProxy("rate-limit", file, (y) => y.replace('{"capacity": 20, "refill_per_second": 5}', '{"capacity": 2, "refill_per_second": 0.001}'));
    expect((await get(`${p.url}/`)).headers["x-ratelimit-remaining"]).toBe("1");
    expect((await get(`${p.url}/`)).headers["x-ratelimit-remaining"]).toBe("0");
    expect((await get(`${p.url}/`)).status).toBe(429);

    replaceAtomically(file, rebuilt(module, "rebuilt"));
    await until("the reload", () => p.lines.some((l) => l.includes(`reloaded rate_limit from ${file}`)));
    // A fresh bucket would admit 2 more: the new VM reads the one the old VM left.
    expect((await get(`${p.url}/`)).status).toBe(429);
    const stats = await get(`${p.admin}/stats`);
    expect(stats.text).toContain("wasmcustom.rate_limit.global.limited: 2\n");
    expect(stats.text).toContain("wasm_filter.rate_limit.reloads: 1\n");
  });
});

describe("hot reload (TCP, run --watch)", () => {
  it("an open connection stays on the old module, a new one gets the new module; the old root is done when the connection closes", async () => {
    const echo = await startTcpEchoUpstream();
    cleanups.push(() => echo.close());
    const file = join(tempDir(), "tagger.wasm");
    writeFileSync(file, tagged("v1"));
    const lines: string[] = [];
    const { proxy } = await run(["--wasm", file, "--upstream", `tcp://127.0.0.1:${echo.port}`, "--listen", "0", "--watch"], new Logger("info", (l) => lines.push(l)));
    let stopped = false;
    cleanups.push(async () => void (stopped || (await proxy.stop(1000))));
    expect(lines.some((l) => l.includes("watching 1 module file(s)"))).toBe(true);

    const open = (): { socket: Socket; text: () => string } => {
      const socket = connect(proxy.ports[0], "127.0.0.1");
      let text = "";
      socket.on("data", (d: Buffer) => (text += d));
      socket.on("error", () => {});
      return { socket, text: () => text };
    };
    const first = open();
    first.socket.write("a");
    await until("a[v1]", () => first.text() === "a[v1]");

    replaceAtomically(file, tagged("v2"));
    await until("the reload", () => lines.some((l) => l.includes(`reloaded tagger from ${file}`)));
    first.socket.write("b");
    await until("b[v1] on the first connection", () => first.text() === "a[v1]b[v1]");
    const second = open();
    second.socket.write("c");
    await until("c[v2] on the second connection", () => second.text() === "c[v2]");
    expect(lines.some((l) => l.includes("v1: root done"))).toBe(false);

    first.socket.end();
    await until("v1's root to be done", () => lines.some((l) => l.includes("wasm log tagger 1: v1: root done")));
    second.socket.write("d");
    await until("d[v2]", () => second.text() === "c[v2]d[v2]");
    second.socket.destroy();

    // At shutdown the plugin serving is done too, as Envoy's are.
    expect(lines.some((l) => l.includes("v2: root done"))).toBe(false);
    stopped = true;
    await proxy.stop(1000);
    expect(lines.some((l) => l.includes("wasm log tagger 1: v2: root done"))).toBe(true);
  });
});
