// The admin endpoint, as Envoy's: /ready, /stats, /stats/prometheus, /clusters, /config_dump,
// /logging?level=, and the inspector (/inspector, when the proxy runs with --inspect).
import { createServer, type Server } from "node:http";
import { LOG_LEVEL_NAMES, type LogLevelName } from "../abi/types.ts";
import type { SocketAddress } from "../config/model.ts";
import type { Proxy } from "./proxy.ts";

function configDump(proxy: Proxy): string {
  return JSON.stringify(proxy.config, (key, value) => {
    if (value instanceof RegExp) return value.source;
    if (value instanceof Uint8Array) return `(${value.length} bytes)`;
    // An environment's values may be secrets from the proxy's own environment: names only.
    if (key === "environment" && value && typeof value === "object") return Object.keys(value);
    return value;
  }, 2);
}

export async function startAdmin(proxy: Proxy, address: SocketAddress): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://admin");
    if (url.pathname.startsWith("/inspector")) {
      if (proxy.inspector?.serve(req, res, url)) return;
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      return res.end(proxy.inspector ? "inspector paths: /inspector /inspector/events /inspector/exchanges /inspector/exchanges/<id>\n"
        : "the inspector is off: run the proxy with --inspect\n");
    }
    const send = (status: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    switch (url.pathname) {
      case "/ready":
        return send(200, "LIVE\n");
      case "/stats":
        return send(200, proxy.stats.text());
      case "/stats/prometheus":
        return send(200, proxy.stats.prometheus(), "text/plain; version=0.0.4");
      case "/clusters":
        return send(200, [...proxy.clusters.values()].flatMap((c) => c.hosts().map((h) => `${c.name}::${h}::health_flags::healthy\n`)).join(""));
      case "/config_dump":
        return send(200, configDump(proxy), "application/json");
      case "/logging": {
        const level = url.searchParams.get("level");
        if (level !== null) {
          if (req.method !== "POST") return send(405, "use POST to change the log level\n");
          if (!LOG_LEVEL_NAMES.includes(level as LogLevelName)) return send(400, `unknown level ${level}; one of ${LOG_LEVEL_NAMES.join(", ")}\n`);
          proxy.setLogLevel(level as LogLevelName);
        }
        return send(200, `active loggers:\n  wasm: ${proxy.logger.level}\n  http: ${proxy.logger.level}\n`);
      }
      default:
        return send(404, "admin paths: /ready /stats /stats/prometheus /clusters /config_dump /logging?level= /inspector\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(new Error(`admin cannot listen on ${address.address}:${address.port}: ${e.message}`)));
    server.listen(address.port, address.address, () => resolve());
  });
  return server;
}
