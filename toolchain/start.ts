// `proxy-wasm-as start [envoy.yaml] [--watch] [run options]`: the author's loop in one command.
// It builds the modules the configuration loads (only those), starts a demo upstream where
// the configuration's first cluster points (an HTTP echo server, or a TCP one in front of a
// TCP listener), and runs the proxy. With --watch, a change to a filter's sources rebuilds
// its module and the proxy swaps it in (new streams use it; streams in flight finish on the old).
import { existsSync } from "node:fs";
import { loadConfigFile } from "../host/config/index.ts";
import type { ProxyConfig } from "../host/config/model.ts";
import { startEchoUpstream, startTcpEchoUpstream } from "../host/testing/echo-upstream.ts";
import { build, type BuildResult } from "./build.ts";
import { projectModules, selectModules } from "./modules.ts";
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
 * Builds what `config` loads; with `watch`, keeps rebuilding on change. Resolves after the
 * first build; rejects when it failed (the build printed why).
 */
export async function buildFor(root: string, config: ProxyConfig, watch: boolean): Promise<void> {
  const only = modulesFor(root, config);
  if (!only.length) return;
  const check = (result: BuildResult) => {
    if (!result.ok) throw new Error("the build failed");
  };
  if (!watch) return check(await build({ root, only, targets: ["release", "debug"] }));
  const watching = watchBuild({ root, only });
  check(await watching.ready);
}

export async function start(argv: string[], run: (argv: string[]) => Promise<void>): Promise<void> {
  const file = argv[0] && !argv[0].startsWith("-") ? argv.shift()! : "envoy.yaml";
  if (!existsSync(file)) throw new Error(`start: no ${file} here (give the path of an Envoy configuration)`);
  const { config } = await loadConfigFile(file);
  await buildFor(process.cwd(), config, argv.includes("--watch"));
  const cluster = config.clusters[0]?.endpoints[0];
  if (cluster) {
    const tcp = config.listeners[0]?.kind === "tcp";
    const upstream = tcp ? await startTcpEchoUpstream(cluster.port, cluster.address) : await startEchoUpstream(cluster.port, cluster.address);
    process.stderr.write(`demo upstream (${tcp ? "TCP" : "HTTP"} echo) on ${cluster.address}:${upstream.port}\n`);
  }
  await run(["run", file, ...argv]);
  const listener = config.listeners[0];
  if (listener) {
    const at = `${listener.address.address}:${listener.address.port}`;
    const tryIt = listener.kind === "tcp" ? `printf 'hello\\n' | nc -q1 ${at.replace(":", " ")}` : `curl -i http://${at}/hello`;
    const admin = config.admin ? `   (stats: curl http://${config.admin.address}:${config.admin.port}/stats)` : "";
    process.stderr.write(`try: ${tryIt}${admin}\n`);
  }
}
