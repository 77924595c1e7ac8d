// The round trip a new user makes: pack proxy-wasm-as, `proxy-wasm-as init` a project in a
// temp folder, install it (offline, from npm's cache: see offline-lockfile.ts), then its
// `npm test` and `npm start` as they are, with no other step.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { offlineLockfile } from "./offline-lockfile.ts";

const exec = promisify(execFile);
const repo = join(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "proxy-wasm-as-scaffold-"));
let tarball = "";

// The npm that came with this node: inside `npm test`, PATH starts with this repository's
// node_modules/.bin, where an old npm (a dependency of as-pect's) would answer instead.
const NPM = join(dirname(process.execPath), "npm");

async function npm(cwd: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return exec(NPM, args, { cwd, env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", NO_COLOR: "1", FORCE_COLOR: "0" }, maxBuffer: 16 << 20 });
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** `proxy-wasm-as init` from the packed package, then installed offline. */
async function newProject(name: string, ...flags: string[]): Promise<string> {
  const dir = join(work, name);
  const spec = `file:../${tarball}`;
  await exec(process.execPath, [join(repo, "bin/proxy-wasm-as.js"), "init", dir, "--from", spec, ...flags]);
  writeFileSync(join(dir, "package-lock.json"), offlineLockfile(repo, dir, join(work, tarball), spec));
  await npm(dir, "ci", "--offline");
  return dir;
}

beforeAll(async () => {
  const { stdout } = await npm(repo, "pack", "--pack-destination", work);
  tarball = stdout.trim().split("\n").pop()!;
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("a filter project of one's own", () => {
  let project = "";
  let running: ChildProcess | null = null;
  // npm start runs the proxy in a child of its own: end the whole process group, not npm alone.
  afterAll(() => {
    if (running?.pid !== undefined) process.kill(-running.pid, "SIGTERM");
  });

  it("is made by init and installs from the packed package", async () => {
    project = await newProject("my-filter");
    const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
    expect(pkg.dependencies).toEqual({ "proxy-wasm-as": `file:../${tarball}` });
    const installed = JSON.parse(readFileSync(join(project, "node_modules/proxy-wasm-as/package.json"), "utf8"));
    expect(installed.version).toBe(JSON.parse(readFileSync(join(repo, "package.json"), "utf8")).version);
    // The compiler and json-as come with it, at the versions it is tested with.
    for (const dep of ["assemblyscript", "json-as"]) {
      expect(JSON.parse(readFileSync(join(project, "node_modules", dep, "package.json"), "utf8")).version).toBe(installed.dependencies[dep]);
    }
  }, 120_000);

  it("passes its own npm test: the filter builds (importing the SDK by package name) and its tests run", async () => {
    const { stdout } = await npm(project, "test");
    expect(stdout).toMatch(/✓ build\/filter\.wasm/);
    expect(stdout).toMatch(/✓ build\/filter\.debug\.wasm/);
    expect(stdout).toMatch(/Tests +3 passed/);
    // The module loads: it found its root context in the one copy of the SDK compiled.
    expect(readFileSync(join(project, "build/filter.wasm")).length).toBeGreaterThan(1000);
  }, 180_000);

  it("type-checks the filter with AssemblyScript's types, as an editor does, and catches a planted error", async () => {
    await npm(project, "run", "typecheck");
    const filter = join(project, "assembly/index.ts");
    const good = readFileSync(filter, "utf8");
    writeFileSync(filter, good.replace('stamp: string = "proxy-wasm-as";', "stamp: u32 = 0;"));
    try {
      await expect(npm(project, "run", "typecheck")).rejects.toMatchObject({ stdout: expect.stringMatching(/assembly\/index\.ts\(\d+,\d+\): error TS2322/) });
    } finally {
      writeFileSync(filter, good);
    }
  }, 60_000);

  it("builds nothing the second time", async () => {
    const { stdout } = await npm(project, "run", "build");
    expect(stdout).toContain("build: 0 built, 2 unchanged");
  }, 60_000);

  it("runs in the proxy with npm start, in front of a demo upstream", async () => {
    // The project's envoy.yaml as init wrote it, on ports free here.
    const [listen, admin, upstream] = [await freePort(), await freePort(), await freePort()];
    const yaml = readFileSync(join(project, "envoy.yaml"), "utf8")
      .replace("port_value: 10000", `port_value: ${listen}`).replace("port_value: 9901", `port_value: ${admin}`).replace("port_value: 8080", `port_value: ${upstream}`);
    writeFileSync(join(project, "envoy.yaml"), yaml);
    running = spawn(NPM, ["start"], { cwd: project, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    running.stdout!.on("data", (d) => (output += d));
    running.stderr!.on("data", (d) => (output += d));
    const deadline = Date.now() + 60_000;
    while (!output.includes("try: ") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(output).toContain("demo upstream (HTTP echo)");
    const res = await fetch(`http://127.0.0.1:${listen}/hello`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-proxy-wasm-as")).toBe("proxy-wasm-as");
    expect((await res.json()).path).toBe("/hello");
  }, 90_000);

  it("refuses to write over a folder that is not empty", async () => {
    await expect(exec(process.execPath, [join(repo, "bin/proxy-wasm-as.js"), "init", project])).rejects.toThrow(/exists and is not empty/);
  });
});

describe("a TCP filter project (init --tcp)", () => {
  it("builds and passes its own tests", async () => {
    const project = await newProject("my-tcp-filter", "--tcp");
    expect(readFileSync(join(project, "envoy.yaml"), "utf8")).toContain("envoy.filters.network.wasm");
    const { stdout } = await npm(project, "test");
    expect(stdout).toMatch(/Tests +1 passed/);
  }, 240_000);
});
