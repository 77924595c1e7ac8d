// A trap names the author's source line first, in release builds: in the harness's failure, in
// the proxy's log. The test filter (tests/filters/trap) fails on purpose in four ways, each on
// a line marked `// trap: <how>`.
import { describe, expect, it } from "vitest";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { Harness } from "proxy-wasm-as/testing";
import { shorthandConfig } from "../../host/config/index.ts";
import { startEchoUpstream } from "../../host/testing/echo-upstream.ts";
import { root, startProxy } from "../integration/proxy-fixture.ts";
import { assemble } from "./wat.ts";

const module = join(root, "build/test-trap.wasm");
const source = readFileSync(join(root, "tests/filters/trap/index.ts"), "utf8").split("\n");
const lineOf = (how: string) => source.findIndex((l) => l.includes(`// trap: ${how}`)) + 1;

async function failure(path: string, file = module): Promise<string> {
  const h = await Harness.load(file);
  const s = h.http();
  s.sendRequestHeaders({ ":method": "GET", ":path": path }, true);
  expect(s.failure).not.toBeNull();
  return s.failure!.reason;
}

describe("a trap in a release build", () => {
  it("names the filter's line and method first", async () => {
    const reason = await failure("/memory");
    expect(reason.split("\n")[0]).toBe(
      `proxy_on_request_headers trapped in tests/filters/trap/index.ts:${lineOf("memory")}:7 (Trapper#onRequestHeaders): memory access out of bounds`);
  });

  it("names the filter's line that called into the standard library, not the library's", async () => {
    const reason = await failure("/index");
    expect(reason.split("\n")[0]).toMatch(new RegExp(`trapped in tests/filters/trap/index\\.ts:${lineOf("index")}:\\d+ \\(Trapper#onRequestHeaders\\)`));
    expect(reason).not.toMatch(/^[^\n]*~lib\/array/);
  });

  it("names the line of a throw", async () => {
    expect((await failure("/throw")).split("\n")[0]).toContain(`tests/filters/trap/index.ts:${lineOf("throw")}:`);
  });

  it("lists every frame of a deeper stack, innermost first", async () => {
    const frames = (await failure("/deep")).split("\n").slice(1).map((l) => l.trim());
    expect(frames[0]).toMatch(new RegExp(`^at tests/filters/trap/index\\.ts:${lineOf("deep")}:\\d+ \\(deeper\\)$`));
    expect(frames.filter((f) => f.endsWith("(deeper)"))).toHaveLength(4);
    expect(frames).toContainEqual(expect.stringMatching(/\(Trapper#onRequestHeaders\)$/));
  });

  it("costs the deployed module nothing: no name or source map section, the map is beside it", () => {
    const compiled = new WebAssembly.Module(readFileSync(module));
    expect(WebAssembly.Module.customSections(compiled, "name")).toHaveLength(0);
    expect(WebAssembly.Module.customSections(compiled, "sourceMappingURL")).toHaveLength(0);
    const map = JSON.parse(readFileSync(`${module}.map`, "utf8"));
    expect(map.sources).toContain("tests/filters/trap/index.ts");
  });

  it("ignores a map that belongs to another build of the module", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trap-"));
    try {
      copyFileSync(module, join(dir, "m.wasm"));
      const map = JSON.parse(readFileSync(`${module}.map`, "utf8"));
      writeFileSync(join(dir, "m.wasm.map"), JSON.stringify({ ...map, x_module: "0".repeat(64) }));
      const reason = await failure("/memory", join(dir, "m.wasm"));
      expect(reason.split("\n")[0]).toBe("proxy_on_request_headers trapped: memory access out of bounds");
      expect(reason).toMatch(/at wasm-function\[\d+\]:0x[0-9a-f]+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is logged by the proxy with the filter's line, and the request gets 503", async () => {
    const upstream = await startEchoUpstream(0);
    const config = shorthandConfig({
      wasm: [module], rootId: [], config: [], failOpen: false, upstream: `http://127.0.0.1:${upstream.port}`, listen: 0, admin: null,
    });
    const { proxy, lines, url } = await startProxy(config);
    try {
      const res = await request(`${url}/index`);
      await res.body.dump();
      expect(res.statusCode).toBe(503);
      expect(lines.join("\n")).toMatch(new RegExp(`trapped in tests/filters/trap/index\\.ts:${lineOf("index")}:\\d+ \\(Trapper#onRequestHeaders\\)`));
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });
});

describe("a module built elsewhere", () => {
  it("gets its function names from its own name section", async () => {
    const named = assemble(`(module
      (memory (export "memory") 1)
      (func (export "malloc") (param i32) (result i32) (i32.const 1024))
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_context_create") (param i32 i32))
      (func $check_token (unreachable))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (call $check_token) (i32.const 0)))`, { names: true });
    const h = await Harness.load(named);
    const s = h.http();
    s.sendRequestHeaders({ ":path": "/" }, true);
    expect(s.failure!.reason.split("\n")[0]).toMatch(/^proxy_on_request_headers trapped in wasm-function\[\d+\]:0x[0-9a-f]+ \(check_token\): unreachable$/);
  });
});
