// proxy-wasm-as package: the module as an OCI image in both forms Istio pulls, checked with a
// real OCI tool (skopeo, from Debian's packages: .ci/run installs it): copied to a second
// layout and read back byte for byte. And the Istio manifests, against their kinds' fields.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parse } from "yaml";
import { packageModule } from "../../toolchain/package.ts";

const root = join(import.meta.dirname, "../..");
const module = readFileSync(join(root, "build/add-header.wasm"));
const work = mkdtempSync(join(tmpdir(), "package-"));

function skopeo(...args: string[]): string {
  return execFileSync("skopeo", args, { encoding: "utf8" });
}

/** The blob `digest` of the OCI layout in `dir`. */
const blob = (dir: string, digest: string) => readFileSync(join(dir, "blobs/sha256", digest.replace("sha256:", "")));

/** The manifest tagged `ref` in the layout `dir`. */
function manifest(dir: string, ref: string) {
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const entry = index.manifests.find((m: { annotations?: Record<string, string> }) => m.annotations?.["org.opencontainers.image.ref.name"] === ref);
  if (!entry) throw new Error(`${dir} has no manifest named ${ref}`);
  return JSON.parse(blob(dir, entry.digest).toString());
}

/** The files of a tar archive (regular files only). */
function untar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0;) {
    const name = tar.subarray(at, at + 100).toString().replace(/\0.*$/s, "");
    const size = parseInt(tar.subarray(at + 124, at + 136).toString().replace(/\0.*$/s, "").trim(), 8);
    files.set(name, tar.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

// Fields each kind's spec defines (Istio's API reference), to catch a misspelled one.
const WASM_PLUGIN_SPEC = ["selector", "targetRef", "targetRefs", "url", "sha256", "imagePullPolicy", "imagePullSecret", "pluginConfig", "pluginName",
  "phase", "priority", "failStrategy", "vmConfig", "match", "type"];
const ENVOY_FILTER_SPEC = ["workloadSelector", "targetRefs", "configPatches", "priority"];
const PATCH = ["applyTo", "match", "patch"];
const WASM_CONFIG = ["name", "root_id", "vm_config", "configuration", "fail_open", "capability_restriction_config", "allow_on_headers_stop_iteration"];
const VM_CONFIG = ["vm_id", "runtime", "code", "configuration", "allow_precompiled", "nack_on_code_cache_miss", "environment_variables"];

let packaged: Awaited<ReturnType<typeof packageModule>>;

beforeAll(async () => {
  try {
    skopeo("--version");
  } catch {
    throw new Error("skopeo is missing: apt-get install skopeo (.ci/run installs it)");
  }
  packaged = await packageModule({ root, module: "add-header", tag: "registry.example.com/filters/add-header:1.2.3", out: join(work, "out"), tar: true });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the OCI image", () => {
  it("compat variant: one tar+gzip layer holding plugin.wasm, copied by skopeo and read back byte for byte", () => {
    const copy = join(work, "compat");
    skopeo("copy", `oci:${packaged.image}:1.2.3`, `oci:${copy}:pulled`);
    const m = manifest(copy, "pulled");
    expect(m.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(m.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(["application/vnd.oci.image.layer.v1.tar+gzip"]);
    const files = untar(gunzipSync(blob(copy, m.layers[0].digest)));
    expect([...files.keys()]).toEqual(["plugin.wasm"]);
    expect(files.get("plugin.wasm")!.equals(module)).toBe(true);
    // The config's diff_ids name the uncompressed layer, as the image spec asks.
    const config = JSON.parse(blob(copy, m.config.digest).toString());
    expect(config.rootfs.diff_ids).toHaveLength(1);
  });

  it("artifact variant: the runtime config and the raw module, with Wasm media types", () => {
    const copy = join(work, "artifact");
    skopeo("copy", `oci:${packaged.image}:1.2.3-artifact`, `oci:${copy}:pulled`);
    const m = manifest(copy, "pulled");
    expect(m.config.mediaType).toBe("application/vnd.module.wasm.config.v1+json");
    expect(m.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([
      "application/vnd.module.wasm.config.v1+json", "application/vnd.module.wasm.content.layer.v1+wasm"]);
    expect(blob(copy, m.layers[1].digest).equals(module)).toBe(true);
    expect(JSON.parse(blob(copy, m.layers[0].digest).toString())).toEqual({ type: "envoy_proxy", abiVersions: ["v0.2.1"], config: { rootIds: ["add_header"] } });
  });

  it("as one tarball (oci-archive), with the same manifest digests after a copy", () => {
    const copy = join(work, "from-archive");
    skopeo("copy", `oci-archive:${join(packaged.out, "image.tar")}:1.2.3`, `oci:${copy}:x`);
    const index = JSON.parse(readFileSync(join(copy, "index.json"), "utf8"));
    expect(index.manifests[0].digest).toBe(packaged.digests["1.2.3"]);
  });

  it("is the same image, digest for digest, when packaged again", async () => {
    const again = await packageModule({ root, module: "add-header", tag: "registry.example.com/filters/add-header:1.2.3", out: join(work, "again") });
    expect(again.digests).toEqual(packaged.digests);
  });
});

describe("the Istio manifests", () => {
  it("a WasmPlugin with the filter's root id, configuration and fail policy from its envoy.yaml", () => {
    const doc = parse(readFileSync(join(packaged.out, "wasmplugin.yaml"), "utf8"));
    expect(doc.apiVersion).toBe("extensions.istio.io/v1alpha1");
    expect(doc.kind).toBe("WasmPlugin");
    expect(Object.keys(doc.spec).filter((k) => !WASM_PLUGIN_SPEC.includes(k))).toEqual([]);
    expect(doc.spec.url).toBe("oci://registry.example.com/filters/add-header:1.2.3");
    expect(doc.spec.sha256).toBe(packaged.digests["1.2.3"].replace("sha256:", ""));
    expect(doc.spec.pluginName).toBe("add_header");
    expect(doc.spec.pluginConfig).toEqual({ request: { "x-added-by": "proxy-wasm-as" }, response: { "x-frame-options": "DENY" } });
    expect(doc.spec.failStrategy).toBe("FAIL_CLOSE");
    expect(doc.spec.type).toBe("HTTP");
  });

  it("an EnvoyFilter inserting envoy.filters.http.wasm before the router, with the same module", () => {
    const doc = parse(readFileSync(join(packaged.out, "envoyfilter.yaml"), "utf8"));
    expect(doc.apiVersion).toBe("networking.istio.io/v1alpha3");
    expect(doc.kind).toBe("EnvoyFilter");
    expect(Object.keys(doc.spec).filter((k) => !ENVOY_FILTER_SPEC.includes(k))).toEqual([]);
    const [patch] = doc.spec.configPatches;
    expect(Object.keys(patch).filter((k) => !PATCH.includes(k))).toEqual([]);
    expect(patch.applyTo).toBe("HTTP_FILTER");
    expect(patch.match.listener.filterChain.filter.subFilter.name).toBe("envoy.filters.http.router");
    expect(patch.patch.operation).toBe("INSERT_BEFORE");
    const wasm = patch.patch.value.typed_config;
    expect(wasm["@type"]).toBe("type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm");
    expect(Object.keys(wasm.config).filter((k) => !WASM_CONFIG.includes(k))).toEqual([]);
    expect(Object.keys(wasm.config.vm_config).filter((k) => !VM_CONFIG.includes(k))).toEqual([]);
    expect(wasm.config.root_id).toBe("add_header");
    expect(JSON.parse(wasm.config.configuration.value)).toEqual({ request: { "x-added-by": "proxy-wasm-as" }, response: { "x-frame-options": "DENY" } });
    expect(wasm.config.vm_config.code.remote.http_uri.uri).toBe("oci://registry.example.com/filters/add-header:1.2.3");
    expect(wasm.config.vm_config.code.remote.sha256).toBe(packaged.digests["1.2.3"].replace("sha256:", ""));
  });

  it("a network filter for a TCP example: WasmPlugin type NETWORK, EnvoyFilter before tcp_proxy", async () => {
    const tcp = await packageModule({ root, module: "tcp-deny", out: join(work, "tcp") });
    expect(tcp.wasmPlugin).toMatchObject({ spec: { type: "NETWORK", pluginName: "tcp_deny" } });
    const [patch] = (tcp.envoyFilter as { spec: { configPatches: { applyTo: string; match: { listener: { filterChain: { filter: { name: string } } } } }[] } }).spec.configPatches;
    expect(patch.applyTo).toBe("NETWORK_FILTER");
    expect(patch.match.listener.filterChain.filter.name).toBe("envoy.filters.network.tcp_proxy");
    const m = manifest(tcp.image, "0.1.0-artifact");
    expect(blob(tcp.image, m.layers[1].digest).equals(readFileSync(join(root, "build/tcp-deny.wasm")))).toBe(true);
  });

  it("says which envoy.yaml is missing, and which tag is malformed", async () => {
    await expect(packageModule({ root, module: "test-trap", out: join(work, "x") })).rejects.toThrow(/no envoy\.yaml loads test-trap: give one with --envoy/);
    await expect(packageModule({ root, module: "add-header", tag: "no-version", out: join(work, "y") })).rejects.toThrow(/--tag: expected name:version/);
  });
});
