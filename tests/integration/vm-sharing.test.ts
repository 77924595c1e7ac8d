// Through the proxy: the wasm filters of one vm_id, VM configuration and code run in one VM,
// as Envoy runs them; other vm_ids get VMs of their own; a trap fails the VM of both, and a
// reload moves both to one new VM.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "undici";
import { shorthandConfig } from "../../host/config/shorthand.ts";
import { startEchoUpstream } from "../../host/testing/echo-upstream.ts";
import { root, startProxy } from "./proxy-fixture.ts";

const vmShare = join(root, "build/test-vm-share.wasm");
let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
beforeAll(async () => void (upstream = await startEchoUpstream()));
afterAll(() => upstream.close());

/** Runs `body` against a proxy with two filters of `file` (tags a and b), with these vm_ids. */
async function withTwoFilters(vmIds: [string, string], body: (p: Awaited<ReturnType<typeof startProxy>>) => Promise<void>, file = vmShare) {
  const config = shorthandConfig({ wasm: [file, file], rootId: [], config: ["a", "b"], failOpen: false, upstream: `http://127.0.0.1:${upstream.port}`, listen: 0, admin: 0 });
  config.listeners[0].wasmFilters.forEach((f, i) => Object.assign(f, { name: ["a", "b"][i], vmId: vmIds[i] }));
  const p = await startProxy(config);
  try {
    await body(p);
  } finally {
    await p.proxy.stop();
  }
}

/** A GET's status and what the two filters added: their counts (in the order they ran) and root contexts. */
async function get(url: string, path = "/") {
  const res = await request(`${url}${path}`);
  await res.body.dump();
  const h = (name: string) => res.headers[name] as string | undefined;
  return { status: res.statusCode, counts: [h("x-a"), h("x-b")], roots: [h("x-a-roots"), h("x-b-roots")] };
}

const stat = async (admin: string, name: string) => {
  const text = await (await request(`${admin}/stats`)).body.text();
  return Number(new RegExp(`^${name.replaceAll(".", "\\.")}: (\\d+)$`, "m").exec(text)?.[1]);
};

describe("VMs shared by wasm filters", () => {
  it("two filters of one vm_id and code share one VM's globals, each with its own root context", () =>
    withTwoFilters(["", ""], async (p) => {
      // Responses run the chain backwards: b counts first.
      expect(await get(p.url)).toEqual({ status: 200, counts: ["2", "1"], roots: ["2", "2"] });
      expect(await get(p.url)).toEqual({ status: 200, counts: ["4", "3"], roots: ["2", "2"] });
    }));

  it("two vm_ids get a VM each", () =>
    withTwoFilters(["one", "two"], async (p) => {
      expect(await get(p.url)).toEqual({ status: 200, counts: ["1", "1"], roots: ["1", "1"] });
    }));

  it("a trap in one filter fails the VM of both (each counts the failure); the next request runs on a fresh VM with both started", () =>
    withTwoFilters(["", ""], async (p) => {
      await get(p.url);
      expect((await get(p.url, "/trap/b")).status).toBe(503);
      expect(await stat(p.admin, "wasm_filter.a.vm_failures")).toBe(1);
      expect(await stat(p.admin, "wasm_filter.b.vm_failures")).toBe(1);
      expect(await get(p.url)).toEqual({ status: 200, counts: ["2", "1"], roots: ["2", "2"] });
    }));

  it("a reload of their module moves both filters to one new VM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vm-share-"));
    const file = join(dir, "filter.wasm");
    copyFileSync(vmShare, file);
    try {
      await withTwoFilters(["", ""], async (p) => {
        await get(p.url);
        expect((await get(p.url)).counts).toEqual(["4", "3"]);
        // The same code with a custom section appended: other bytes, so a reload.
        const bytes = readFileSync(vmShare);
        writeFileSync(file, Buffer.concat([bytes, Buffer.from([0, 5, 4]), Buffer.from("note")]));
        expect((await p.proxy.reloadModule(file)).map((o) => o.outcome)).toEqual(["reloaded", "reloaded"]);
        expect(await get(p.url)).toEqual({ status: 200, counts: ["2", "1"], roots: ["2", "2"] });
      }, file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
