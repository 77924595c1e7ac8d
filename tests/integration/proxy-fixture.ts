// Runs the proxy in-process over real sockets on 127.0.0.1, on ephemeral ports.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnvoyConfig } from "../../host/config/envoy.ts";
import { Logger } from "../../host/log.ts";
import { Proxy } from "../../host/server/proxy.ts";

export const root = join(import.meta.dirname, "../..");

/** An example's envoy.yaml with its upstream moved to `upstreamPort` and its own ports made ephemeral. */
export function exampleConfig(example: string, upstreamPort: number, edit: (yaml: string) => string = (y) => y) {
  const file = join(root, "examples", example, "envoy.yaml");
  const yaml = readFileSync(file, "utf8")
    .replace("port_value: 8080", `port_value: ${upstreamPort}`)
    .replace(/port_value: 1000\d/, "port_value: 0")
    .replace(/port_value: 990\d/, "port_value: 0")
    .replaceAll("build/", `${root}/build/`);
  return parseEnvoyConfig(edit(yaml), file).config;
}

export async function startProxy(config: ReturnType<typeof exampleConfig>) {
  const lines: string[] = [];
  const proxy = await Proxy.start(config, new Logger("info", (l) => lines.push(l)));
  return { proxy, lines, url: `http://127.0.0.1:${proxy.ports[0]}`, admin: `http://127.0.0.1:${proxy.adminPort}` };
}

/** Makes updating one of the proxy's stats throw, as a bug in the host's own code would; the returned function undoes it. */
export function injectHostBug(proxy: Proxy, scope: string, stat: string): () => void {
  const value = proxy.stats.scope(scope).counter(stat);
  value.add = () => {
    throw new Error("injected host bug");
  };
  return () => delete (value as Partial<typeof value>).add; // the class's own again
}
