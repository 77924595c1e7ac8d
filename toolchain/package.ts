// `proxy-wasm-as package <module> [--tag name:version] [--envoy envoy.yaml] [--out dir] [--tar]`:
// what it takes to ship a built module to Istio. It writes, in build/package/<name>/ unless
// --out says otherwise:
//   image/              an OCI image layout holding the module as an image in both forms
//                       Istio pulls: tag <version> (compat) and <version>-artifact (see oci.ts)
//   image.tar           (--tar) the same layout as one file (skopeo's oci-archive:)
//   wasmplugin.yaml     an Istio WasmPlugin for the image
//   envoyfilter.yaml    an Istio EnvoyFilter inserting the filter with the same module
// The plugin's name, root_id, configuration, vm_id, fail_open and environment come from the
// envoy.yaml that loads the module, so what runs here and what runs in the mesh agree.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { loadConfigFile } from "../host/config/index.ts";
import type { ListenerConfig, WasmFilterConfig } from "../host/config/model.ts";
import { checkModule } from "./check-module.ts";
import { ProjectError, projectModules, selectModules } from "./modules.ts";
import { layoutFiles, tarOf, wasmImage, writeLayout } from "./oci.ts";

export interface PackageOptions {
  root: string;
  module: string;
  /** `name:version`; default `<module>:<package.json version, or 0.1.0>`. */
  tag?: string;
  /** The Envoy configuration that loads the module; default envoy.yaml, else examples/<module>/envoy.yaml. */
  envoy?: string;
  out?: string;
  tar?: boolean;
}

export interface Packaged {
  out: string;
  /** The manifests' digests by tag (compat first). */
  digests: Record<string, string>;
  image: string;
  reference: string;
  wasmPlugin: Record<string, unknown>;
  envoyFilter: Record<string, unknown>;
}

const WASM_TYPE = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const NETWORK_WASM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm";
const STRING_VALUE = "type.googleapis.com/google.protobuf.StringValue";

/** WasmPlugin.pluginConfig is a Struct: a JSON object configuration goes in as it is. */
function pluginConfig(configuration: string): Record<string, unknown> | null {
  try {
    const parsed = JSON.parse(configuration);
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function wasmPluginFor(name: string, url: string, sha256: string, filter: WasmFilterConfig, listener: ListenerConfig): Record<string, unknown> {
  const config = pluginConfig(filter.configuration);
  if (filter.configuration && !config) {
    throw new ProjectError(`${filter.name}: the configuration is not a JSON object, and an Istio WasmPlugin's pluginConfig must be one (use the EnvoyFilter, which passes it as it is)`);
  }
  const env = Object.entries(filter.environment).map(([name, value]) => ({ name, value }));
  return {
    apiVersion: "extensions.istio.io/v1alpha1",
    kind: "WasmPlugin",
    metadata: { name, namespace: "istio-system" },
    spec: {
      selector: { matchLabels: { app: name } },
      url,
      sha256,
      imagePullPolicy: "IfNotPresent",
      pluginName: filter.rootId,
      phase: "UNSPECIFIED_PHASE",
      type: listener.kind === "tcp" ? "NETWORK" : "HTTP",
      failStrategy: filter.failOpen ? "FAIL_OPEN" : "FAIL_CLOSE",
      ...(config ? { pluginConfig: config } : {}),
      ...(env.length ? { vmConfig: { env } } : {}),
    },
  };
}

function envoyFilterFor(name: string, url: string, sha256: string, filter: WasmFilterConfig, listener: ListenerConfig): Record<string, unknown> {
  const tcp = listener.kind === "tcp";
  const wasmConfig = {
    name: filter.name,
    root_id: filter.rootId,
    configuration: { "@type": STRING_VALUE, value: filter.configuration },
    fail_open: filter.failOpen,
    vm_config: {
      vm_id: filter.vmId,
      runtime: "envoy.wasm.runtime.v8",
      ...(filter.vmConfiguration ? { configuration: { "@type": STRING_VALUE, value: filter.vmConfiguration } } : {}),
      ...(Object.keys(filter.environment).length ? { environment_variables: { key_values: filter.environment } } : {}),
      code: { remote: { http_uri: { uri: url, timeout: "10s" }, sha256 } },
    },
  };
  const match = tcp
    ? { context: "SIDECAR_INBOUND", listener: { filterChain: { filter: { name: "envoy.filters.network.tcp_proxy" } } } }
    : { context: "SIDECAR_INBOUND", listener: { filterChain: { filter: { name: "envoy.filters.network.http_connection_manager", subFilter: { name: "envoy.filters.http.router" } } } } };
  return {
    apiVersion: "networking.istio.io/v1alpha3",
    kind: "EnvoyFilter",
    metadata: { name, namespace: "istio-system" },
    spec: {
      workloadSelector: { labels: { app: name } },
      configPatches: [{
        applyTo: tcp ? "NETWORK_FILTER" : "HTTP_FILTER",
        match,
        patch: {
          operation: "INSERT_BEFORE",
          value: {
            name: tcp ? "envoy.filters.network.wasm" : "envoy.filters.http.wasm",
            typed_config: { "@type": tcp ? NETWORK_WASM_TYPE : WASM_TYPE, config: wasmConfig },
          },
        },
      }],
    },
  };
}

export async function packageModule(options: PackageOptions): Promise<Packaged> {
  const { root } = options;
  const [module] = selectModules(root, projectModules(root), [options.module]);
  const wasmPath = join(root, "build", `${module.name}.wasm`);
  if (!existsSync(wasmPath)) throw new ProjectError(`build/${module.name}.wasm is not built yet: run proxy-wasm-as build ${module.name}`);
  const wasm = readFileSync(wasmPath);
  const problems = checkModule(`build/${module.name}.wasm`, wasm);
  if (problems.length) throw new ProjectError(problems.join("\n"));

  const envoy = options.envoy ?? [join(root, "envoy.yaml"), join(root, "examples", module.name, "envoy.yaml")].find((f) => existsSync(f));
  if (!envoy) throw new ProjectError(`no envoy.yaml loads ${module.name}: give one with --envoy`);
  const { config } = await loadConfigFile(envoy);
  const loads = (f: WasmFilterConfig) => "filename" in f.code && resolve(root, f.code.filename) === wasmPath;
  const listener = config.listeners.find((l) => l.wasmFilters.some(loads));
  if (!listener) throw new ProjectError(`${relative(root, envoy) || envoy} has no wasm filter loading build/${module.name}.wasm`);
  const filter = listener.wasmFilters.find(loads)!;

  const pkg = existsSync(join(root, "package.json")) ? JSON.parse(readFileSync(join(root, "package.json"), "utf8")) : {};
  const tag = options.tag ?? `${module.name}:${pkg.version ?? "0.1.0"}`;
  const colon = tag.lastIndexOf(":");
  if (colon <= 0 || colon === tag.length - 1 || tag.includes("@")) throw new ProjectError(`--tag: expected name:version (e.g. registry.example.com/filters/${module.name}:1.0.0), found ${tag}`);
  const [repository, version] = [tag.slice(0, colon), tag.slice(colon + 1)];

  const annotations = {
    "org.opencontainers.image.title": module.name,
    "org.opencontainers.image.version": version,
    "org.opencontainers.image.description": `Proxy-Wasm module (ABI 0.2.1) built with proxy-wasm-as`,
  };
  const layout = wasmImage({ module: wasm, rootIds: [filter.rootId], annotations }, version);
  const out = resolve(options.out ?? join(root, "build/package", module.name));
  rmSync(join(out, "image"), { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  writeLayout(join(out, "image"), layout);
  if (options.tar) writeFileSync(join(out, "image.tar"), tarOf(layoutFiles(layout)));

  const url = `oci://${repository}:${version}`;
  // For an oci:// module Istio checks sha256 against the image's manifest digest: the compat
  // manifest's, which is deterministic and which a copy to a registry (skopeo copy) keeps.
  const sha256 = layout.manifests[0].descriptor.digest.slice("sha256:".length);
  const name = module.name.replace(/[^a-z0-9-]/g, "-");
  const wasmPlugin = wasmPluginFor(name, url, sha256, filter, listener);
  const envoyFilter = envoyFilterFor(name, url, sha256, filter, listener);
  const header = (what: string) => `# ${what} for ${tag}, written by proxy-wasm-as package from ${relative(root, envoy) || envoy}.\n# Push the image first: skopeo copy oci:${relative(root, join(out, "image"))}:${version} docker://${repository}:${version}\n`;
  writeFileSync(join(out, "wasmplugin.yaml"), header("An Istio WasmPlugin") + stringify(wasmPlugin));
  writeFileSync(join(out, "envoyfilter.yaml"), header("An Istio EnvoyFilter") + stringify(envoyFilter));
  const digests = Object.fromEntries(layout.manifests.map((m) => [m.ref, m.descriptor.digest]));
  return { out, digests, image: join(out, "image"), reference: `${repository}:${version}`, wasmPlugin, envoyFilter };
}

export async function packageCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { tag: { type: "string" }, envoy: { type: "string" }, out: { type: "string" }, tar: { type: "boolean" } },
  });
  if (positionals.length !== 1) throw new ProjectError("expected one module: proxy-wasm-as package <module> [--tag name:version] [--envoy envoy.yaml] [--out dir] [--tar]");
  const done = await packageModule({ root: process.cwd(), module: positionals[0], ...values });
  const shown = relative(process.cwd(), done.out) || ".";
  const digests = Object.entries(done.digests).map(([ref, digest]) => `  ${ref}: ${digest}`).join("\n");
  process.stdout.write(`${shown}/image: OCI image layout, ${done.reference} (compat) and ${done.reference}-artifact\n${digests}\n` +
    (values.tar ? `${shown}/image.tar: the same as one file (oci-archive)\n` : "") +
    `${shown}/wasmplugin.yaml, ${shown}/envoyfilter.yaml: Istio manifests\n` +
    `push: skopeo copy oci:${shown}/image:${done.reference.slice(done.reference.lastIndexOf(":") + 1)} docker://${done.reference}\n`);
}
