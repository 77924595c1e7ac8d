// proxy-wasm-as build: a project of two filters, built, changed and rebuilt. Only what changed
// is compiled again; a broken filter keeps its last good module; the watch rebuilds on save.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { type BuildResult, Builder } from "../../toolchain/build.ts";
import { watchBuild } from "../../toolchain/watch.ts";
import { Harness } from "proxy-wasm-as/testing";

// Inside the repository, so the compiler finds json-as in its node_modules as a project's would.
const scratch = join(import.meta.dirname, "../../build/.scratch");
mkdirSync(scratch, { recursive: true });
const root = mkdtempSync(join(scratch, "project-"));

const filter = (header: string, value: string) => `
import { RootContext, HttpContext, HeadersAction, registerRootContext, request } from "proxy-wasm-as/sdk";
import { suffix } from "../common";
class Stamp extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    request.headers.add("${header}", "${value}" + suffix());
    return HeadersAction.Continue;
  }
}
class Root extends RootContext {
  newHttpContext(id: u32): HttpContext | null { return new Stamp(id, this); }
}
registerRootContext((id: u32): RootContext => new Root(id), "");
`;

function write(path: string, text: string): void {
  mkdirSync(join(root, path, ".."), { recursive: true });
  writeFileSync(join(root, path), text);
}

const built = (r: BuildResult) => r.jobs.filter((j) => j.status === "built").map((j) => j.outFile).sort();

async function header(module: string, name: string): Promise<string | undefined> {
  const h = await Harness.load(join(root, "build", `${module}.wasm`));
  const s = h.http();
  s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
  return s.request.header(name);
}

const builder = new Builder(root);
const quiet = { print: null, targets: ["release" as const] };

beforeAll(() => {
  write("package.json", JSON.stringify({ name: "two-filters", "proxy-wasm-as": { modules: { "*": "filters/*/index.ts" } } }));
  write("filters/common.ts", `export function suffix(): string { return ""; }\n`);
  write("filters/alpha/index.ts", filter("x-alpha", "one"));
  write("filters/beta/index.ts", filter("x-beta", "one"));
});
afterAll(() => {
  builder.close();
  rmSync(root, { recursive: true, force: true });
});

describe("proxy-wasm-as build", () => {
  it("builds every module of the project, release and debug with its source map", async () => {
    const result = await builder.build({ print: null });
    expect(result.ok).toBe(true);
    expect(built(result)).toEqual(["build/alpha.debug.wasm", "build/alpha.wasm", "build/beta.debug.wasm", "build/beta.wasm"]);
    const map = JSON.parse(readFileSync(join(root, "build/alpha.debug.wasm.map"), "utf8"));
    expect(map.sources.some((s: string) => s.endsWith("filters/alpha/index.ts"))).toBe(true);
    expect(await header("alpha", "x-alpha")).toBe("one");
    expect(await header("beta", "x-beta")).toBe("one");
  }, 120_000);

  it("builds nothing when nothing changed", async () => {
    const result = await builder.build({ print: null });
    expect(result.ok).toBe(true);
    expect(built(result)).toEqual([]);
    expect(result.jobs.map((j) => j.status)).toEqual(["unchanged", "unchanged", "unchanged", "unchanged"]);
  });

  it("rebuilds only the module whose source changed", async () => {
    write("filters/alpha/index.ts", filter("x-alpha", "two"));
    const result = await builder.build(quiet);
    expect(built(result)).toEqual(["build/alpha.wasm"]);
    expect(await header("alpha", "x-alpha")).toBe("two");
  }, 60_000);

  it("rebuilds every module that imports a changed file", async () => {
    write("filters/common.ts", `export function suffix(): string { return "+"; }\n`);
    const result = await builder.build(quiet);
    expect(built(result)).toEqual(["build/alpha.wasm", "build/beta.wasm"]);
    expect(await header("beta", "x-beta")).toBe("one+");
  }, 60_000);

  it("reports a compile error with its file and line, and keeps the last good module", async () => {
    const before = readFileSync(join(root, "build/beta.wasm"));
    write("filters/beta/index.ts", filter("x-beta", "three").replace('"three" + suffix()', "42"));
    const result = await builder.build(quiet);
    expect(result.ok).toBe(false);
    const failed = result.jobs.find((j) => j.status === "failed")!;
    expect(failed.outFile).toBe("build/beta.wasm");
    expect(failed.errors).toMatch(/in filters\/beta\/index\.ts\(6,\d+\)/);
    expect(readFileSync(join(root, "build/beta.wasm"))).toEqual(before);
    // Still broken: it is tried again, not taken as built.
    expect((await builder.build(quiet)).ok).toBe(false);
  }, 60_000);

  it("refuses a filter that imports the SDK by a relative path (a second copy of it)", async () => {
    write("filters/gamma/index.ts", filter("x-gamma", "one").replace('"proxy-wasm-as/sdk"', `"${relative(join(root, "filters/gamma"), join(import.meta.dirname, "../../sdk")).replace(/\\/g, "/")}"`));
    const result = await builder.build({ ...quiet, only: ["gamma"] });
    expect(result.ok).toBe(false);
    expect(result.jobs[0].errors).toContain('import it as "proxy-wasm-as/sdk"');
    rmSync(join(root, "filters/gamma"), { recursive: true });
  }, 60_000);

  it("names the modules when asked for one that does not exist", async () => {
    await expect(builder.build({ ...quiet, only: ["nope"] })).rejects.toThrow(/no module matches "nope"; the project's modules: alpha, beta/);
  });
});

describe("proxy-wasm-as build --watch", () => {
  it("rebuilds a module when its source is saved", async () => {
    write("filters/beta/index.ts", filter("x-beta", "four"));
    const results: BuildResult[] = [];
    const watching = watchBuild({ root, ...quiet }, (r) => results.push(r));
    try {
      expect((await watching.ready).ok).toBe(true);
      expect(existsSync(join(root, "build/beta.wasm"))).toBe(true);
      results.length = 0;
      write("filters/beta/index.ts", filter("x-beta", "five"));
      const deadline = Date.now() + 60_000;
      while (!results.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(built(results[0])).toEqual(["build/beta.wasm"]);
      expect(await header("beta", "x-beta")).toBe("five+");
    } finally {
      watching.close();
    }
  }, 120_000);
});
