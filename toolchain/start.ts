// `proxy-wasm-as start [envoy.yaml] [--watch] [run options]`: the author's loop in one command.
// It builds the modules the configuration loads (only those), starts a demo upstream where
// the configuration's first cluster points (an HTTP echo server, or a TCP one in front of a
// TCP listener), and runs the proxy. With --watch, a change to a filter's sources rebuilds
// its module and the proxy swaps it in (new streams use it; streams in flight finish on the old).
import { existsSync } from "node:fs";
import { loadConfigFile } from "../host/config/index.ts";
import type { ProxyConfig } from "../host/config/model.ts";
import { startEchoUpstream, startTcpEchoUpstream } from "../host/testing/echo-upstream.ts";
import { type RunHooks, main as runMain } from "../host/cli.ts";
import { BuildError, build } from "./build.ts";
import { ProjectError, projectModules, selectModules } from "./modules.ts";
import { watchBuild } from "./watch.ts";

/** The files the configuration loads modules from. */
export function moduleFiles(config: ProxyConfig): string[] {
  const files = [...config.services, ...config.listeners.flatMap((l) => l.wasmFilters)].flatMap((f) => ("filename" in f.code ? [f.code.filename] : []));
  return [...new Set(files)];
}

/** The project's modules that build the files `config` loads (none when it loads others' modules). */
export function modulesFor(root: string, config: ProxyConfig): string[] {
  const modules = projectModules(root);
  return moduleFiles(config).flatMap((file) => {
    try {
      return selectModules(root, modules, [file]).map((m) => m.name);
    } catch {
      return []; // a module this project does not build (prebuilt, or another SDK's)
    }
  });
}

/**
 * Builds what `config` loads; with `watch`, keeps rebuilding it on change until closed.
 * Resolves after the first build; throws when it failed (the build printed why).
 */
export async function buildFor(root: string, config: ProxyConfig, watch: boolean): Promise<{ close(): void }> {
  const only = modulesFor(root, config);
  if (!only.length) return { close() {} };
  if (!watch) {
    if (!(await build({ root, only })).ok) throw new BuildError("the build failed");
    return { close() {} };
  }
  const watching = watchBuild({ root, only });
  if (!(await watching.ready).ok) {
    watching.close();
    throw new BuildError("the build failed");
  }
  return watching;
}

/** `run`'s hook that builds the project's modules the configuration loads: always, or only to watch them. */
export function buildHook(root: string, always: boolean): RunHooks {
  return { beforeStart: async (config, watch) => void (always || watch ? await buildFor(root, config, watch) : undefined) };
}

export async function start(argv: string[]): Promise<void> {
  const file = argv[0] && !argv[0].startsWith("-") ? argv.shift()! : "envoy.yaml";
  if (!existsSync(file)) throw new ProjectError(`no ${file} here (give the path of an Envoy configuration)`);
  const { config } = await loadConfigFile(file);
  const cluster = config.clusters[0]?.endpoints[0];
  if (cluster) {
    const tcp = config.listeners[0]?.kind === "tcp";
    const upstream = tcp ? await startTcpEchoUpstream(cluster.port, cluster.address) : await startEchoUpstream(cluster.port, cluster.address);
    process.stderr.write(`demo upstream (${tcp ? "TCP" : "HTTP"} echo) on ${cluster.address}:${upstream.port}\n`);
  }
  // The inspector is on: the author's loop is where watching the filter's callbacks helps most.
  const { inspectorUrl } = await runMain(["run", file, "--inspect", ...argv], buildHook(process.cwd(), true));
  const listener = config.listeners[0];
  if (listener) {
    const at = `${listener.address.address}:${listener.address.port}`;
    const tryIt = listener.kind === "tcp" ? `printf 'hello\\n' | nc -q1 ${at.replace(":", " ")}` : `curl -i http://${at}/hello`;
    const admin = config.admin ? `   (stats: curl http://${config.admin.address}:${config.admin.port}/stats)` : "";
    process.stderr.write(`try: ${tryIt}${admin}\n`);
  }
  if (inspectorUrl) process.stderr.write(`inspector: open ${inspectorUrl} to watch each request pass the filters, callback by callback\n`);
}
