// The proxy-wasm-as command: `init`, `build`, `start`, and `run` (the proxy, host/cli.ts).
import { parseArgs } from "node:util";
import { main as runMain } from "../host/cli.ts";
import { BuildError, build } from "./build.ts";
import { init } from "./init.ts";
import { packageCommand } from "./package.ts";
import { ProjectError } from "./modules.ts";
import { buildHook, start } from "./start.ts";
import { test } from "./test.ts";
import { watchBuild } from "./watch.ts";

const USAGE = `usage:
  proxy-wasm-as init <folder> [--tcp]        a new filter project (package.json, filter, test, envoy.yaml)
  proxy-wasm-as build [module…] [--watch] [--force] [--verbose] [--release-only]
                                             compiles what changed: build/<name>.wasm and .debug.wasm
  proxy-wasm-as test [file…] [--watch]       builds the modules the tests load, runs vitest (--watch: reruns
                                             the suites whose module was rebuilt)
  proxy-wasm-as start [envoy.yaml] [--watch] builds what the configuration loads, starts a demo
                                             upstream at its cluster, runs the proxy with the inspector on
  proxy-wasm-as package <module> [--tag name:version] [--envoy envoy.yaml] [--tar]
                                             an OCI image of the module (both Istio variants), an Istio
                                             WasmPlugin and an EnvoyFilter, in build/package/<module>
  proxy-wasm-as run envoy.yaml | --wasm …    runs the proxy; --watch also rebuilds the project's modules it
                                             loads when their sources change; --inspect serves the live
                                             inspector on the admin port (proxy-wasm-as run --help)`;

async function buildCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { watch: { type: "boolean" }, force: { type: "boolean" }, verbose: { type: "boolean" }, "release-only": { type: "boolean" } },
  });
  const options = {
    only: positionals, force: values.force, verbose: values.verbose,
    targets: values["release-only"] ? ["release" as const] : undefined,
  };
  if (values.watch) {
    const watching = watchBuild(options);
    await watching.ready;
    process.stdout.write("watching for changes (Ctrl-C to stop)\n");
    return;
  }
  const result = await build(options);
  process.exit(result.ok ? 0 : 1);
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "build": return await buildCommand(rest);
      case "init": return await init(rest);
      case "package": return await packageCommand(rest);
      case "start": return await start(rest);
      case "test": return await test(rest);
      case "run": return void (await runMain(argv, buildHook(process.cwd(), false)));
      case undefined: case "help": case "--help": case "-h":
        process.stdout.write(`${USAGE}\n`);
        return;
      default:
        process.stderr.write(`proxy-wasm-as: unknown command "${command}"\n${USAGE}\n`);
        process.exit(2);
    }
  } catch (e) {
    if (e instanceof BuildError || e instanceof ProjectError || (e as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      process.stderr.write(`proxy-wasm-as ${command}: ${(e as Error).message}\n`);
      process.exit(1);
    }
    throw e;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
