// The proxy-wasm-as command as a user runs it: errors on bad input, and a graceful stop.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "undici";
import { connect } from "node:net";
import { startEchoUpstream, startTcpEchoUpstream } from "../../host/testing/echo-upstream.ts";
import { root } from "./proxy-fixture.ts";

const bin = join(root, "bin/proxy-wasm-as.js");
let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
beforeAll(async () => (upstream = await startEchoUpstream()));
afterAll(async () => upstream.close());

function cli(args: string[]): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  return { child, stderr: () => stderr };
}

/** The port the CLI's listener bound, read from its log. */
function listeningPort(child: ChildProcess, stderr: () => string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /listener main on 127\.0\.0\.1:(\d+)/.exec(stderr());
      if (m) {
        clearInterval(timer);
        resolve(Number(m[1]));
      }
      if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(stderr()));
      }
    }, 20);
  });
}

async function exit(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const { child, stderr } = cli(args);
  const [code] = await once(child, "exit");
  return { code, stderr: stderr() };
}

describe("proxy-wasm-as run", () => {
  it("prints a bad configuration's file, line, field and what was expected, and exits 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pwa-"));
    const file = join(dir, "envoy.yaml");
    writeFileSync(file, readFileSync(join(root, "examples/add-header/envoy.yaml"), "utf8").replace("port_value: 10000", "port_value: lots"));
    const { code, stderr } = await exit(["run", file]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${file}:8: static_resources.listeners[0].address.socket_address.port_value: expected a port number (0-65535), found the string "lots"`);
  });

  it("refuses a typo'd field (naming line and the field meant), an empty file and an alias bomb, each in one line, exit 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pwa-"));
    const typo = join(dir, "typo.yaml");
    writeFileSync(typo, readFileSync(join(root, "examples/add-header/envoy.yaml"), "utf8").replace("vm_id: add_header", "vm_idd: add_header"));
    const t = await exit(["run", typo]);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(new RegExp(`${typo}:\\d+: .*vm_config\\.vm_idd: unknown field "vm_idd" in VmConfig; did you mean vm_id\\?`));
    const empty = join(dir, "empty.yaml");
    writeFileSync(empty, "");
    const e = await exit(["run", empty]);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain(`${empty}: the configuration is empty`);
    const bomb = join(dir, "bomb.yaml");
    writeFileSync(bomb, ["a: &a [x, x, x, x, x, x, x, x, x]", ..."bcdefghi".split("").map((c, i) => `${c}: &${c} [${Array(9).fill(`*${"abcdefghi"[i]}`).join(", ")}]`)].join("\n"));
    const b = await exit(["run", bomb]);
    expect(b.code).toBe(1);
    expect(b.stderr.trim().split("\n")).toHaveLength(1);
    expect(b.stderr).toContain(`${bomb}: not accepted:`);
  });

  it("names a missing configuration file and a missing module", async () => {
    expect((await exit(["run", "no/such/envoy.yaml"])).stderr).toContain("no/such/envoy.yaml: cannot read the configuration");
    const missing = await exit(["run", "--wasm", "build/nothing.wasm", "--upstream", `http://127.0.0.1:${upstream.port}`, "--listen", "0"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("cannot read module build/nothing.wasm");
  });

  it("drains an in-flight request on SIGTERM, then exits 0", async () => {
    const { child, stderr } = cli(["run", "--wasm", "build/add-header.wasm", "--root-id", "add_header",
      "--config", '{"response": {"x-by": "cli"}}', "--upstream", `http://127.0.0.1:${upstream.port}`, "--listen", "0"]);
    const port = await listeningPort(child, stderr);
    const slow = request(`http://127.0.0.1:${port}/delay/600`);
    await new Promise((r) => setTimeout(r, 200));
    child.kill("SIGTERM");
    const res = await slow;
    expect(res.statusCode).toBe(200);
    expect(res.headers["x-by"]).toBe("cli");
    await res.body.text();
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
    expect(stderr()).toContain("SIGTERM: draining in-flight requests");
  });

  it("runs network filters on a TCP listener with --upstream tcp://", async () => {
    const echo = await startTcpEchoUpstream();
    const { child, stderr } = cli(["run", "--wasm", "build/tcp-deny.wasm", "--root-id", "tcp_deny",
      "--config", '{"prefixes": ["NOPE"]}', "--upstream", `tcp://127.0.0.1:${echo.port}`, "--listen", "0"]);
    try {
      const port = await listeningPort(child, stderr);
      expect(stderr()).toContain("TCP listener main on");
      const say = (text: string) => new Promise<string>((resolve) => {
        const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true }, () => socket.end(text));
        let got = "";
        socket.on("data", (d) => (got += d));
        socket.on("end", () => socket.end());
        socket.on("close", () => resolve(got));
      });
      expect(await say("hello")).toBe("hello");
      expect(await say("NOPE, not this")).toBe("");
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      expect(code).toBe(0);
      expect(stderr()).toContain("starts with a denied prefix; closing");
    } finally {
      child.kill();
      await echo.close();
    }
  });
});
