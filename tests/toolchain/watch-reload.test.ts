// The author's live loop over real sockets: the proxy runs a project's filter with --watch
// while the build watches its sources. Saving the filter rebuilds it and the proxy swaps it
// in: a request under way finishes on the old module, the next one gets the new; a filter
// that no longer compiles leaves the last good module serving.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { type RunningProxy, run } from "../../host/cli.ts";
import { Logger } from "../../host/log.ts";
import { startEchoUpstream } from "../../host/testing/echo-upstream.ts";
import { modulesFor } from "../../toolchain/start.ts";
import type { BuildResult } from "../../toolchain/build.ts";
import { watchBuild, type Watching } from "../../toolchain/watch.ts";

const scratch = join(import.meta.dirname, "../../build/.scratch");
mkdirSync(scratch, { recursive: true });
const root = mkdtempSync(join(scratch, "live-"));

const filter = (version: string) => `
import { RootContext, HttpContext, HeadersAction, registerRootContext, response } from "proxy-wasm-as/sdk";
class Stamp extends HttpContext {
  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    response.headers.add("x-version", "${version}");
    return HeadersAction.Continue;
  }
}
class Root extends RootContext {
  newHttpContext(id: u32): HttpContext | null { return new Stamp(id, this); }
}
registerRootContext((id: u32): RootContext => new Root(id), "");
`;

const logs: string[] = [];
const builds: BuildResult[] = [];
let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
let watching: Watching;
let running: RunningProxy;

async function until(what: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`timed out; log:\n${logs.join("\n")}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function version(path = "/"): Promise<string | string[] | undefined> {
  const res = await request(`http://127.0.0.1:${running.proxy.ports[0]}${path}`);
  await res.body.dump();
  return res.headers["x-version"];
}

beforeAll(async () => {
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "live" }));
  mkdirSync(join(root, "assembly"));
  writeFileSync(join(root, "assembly/index.ts"), filter("one"));
  upstream = await startEchoUpstream(0);
  watching = watchBuild({ root, print: null, targets: ["release"] }, (r) => builds.push(r));
  expect((await watching.ready).ok).toBe(true);
  running = await run(
    ["--wasm", join(root, "build/filter.wasm"), "--upstream", `http://127.0.0.1:${upstream.port}`, "--listen", "0", "--watch"],
    new Logger("info", (line) => logs.push(line)),
  );
}, 120_000);

afterAll(async () => {
  watching?.close();
  await running?.proxy.stop();
  await upstream?.close();
  rmSync(root, { recursive: true, force: true });
});

describe("run --watch with the build watching the sources", () => {
  it("swaps in a rebuilt filter: the request under way finishes on the old one, the next gets the new", async () => {
    expect(await version()).toBe("one");
    const slow = version("/delay/1500"); // its stream starts on module "one"
    await new Promise((r) => setTimeout(r, 100));
    const reloads = logs.filter((l) => l.includes("reloaded")).length;
    writeFileSync(join(root, "assembly/index.ts"), filter("two"));
    await until(() => logs.filter((l) => l.includes("reloaded")).length > reloads);
    expect(await version()).toBe("two");
    expect(await slow).toBe("one");
  }, 90_000);

  it("keeps the last good module serving when the filter no longer compiles", async () => {
    const before = builds.length;
    writeFileSync(join(root, "assembly/index.ts"), filter("three").replace('"three"', "3"));
    await until(() => builds.length > before);
    expect(builds.at(-1)!.ok).toBe(false);
    expect(builds.at(-1)!.jobs[0].errors).toMatch(/assembly\/index\.ts\(5,/);
    expect(await version()).toBe("two");
    writeFileSync(join(root, "assembly/index.ts"), filter("four"));
    await until(() => builds.length > before + 1 && builds.at(-1)!.ok);
    await until(() => logs.some((l) => l.includes("reloaded")) && logs.filter((l) => l.includes("reloaded")).length >= 2);
    expect(await version()).toBe("four");
  }, 90_000);

  it("knows which of the project's modules the configuration loads (what run --watch and start build)", () => {
    expect(modulesFor(root, running.config)).toEqual(["filter"]);
  });
});
