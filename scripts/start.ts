// `npm start [-- example]`: an example (add-header unless named) in front of a demo upstream
// on 127.0.0.1:8080 (an HTTP echo server, or a TCP one for a TCP example), listening on
// 127.0.0.1:10000 with the admin endpoint on 127.0.0.1:9901. Other arguments go to `run`.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { parseEnvoyConfig } from "../host/config/envoy.ts";
import { startEchoUpstream, startTcpEchoUpstream } from "../host/testing/echo-upstream.ts";
import { main } from "../host/cli.ts";

const args = process.argv.slice(2);
const example = args[0] && !args[0].startsWith("-") ? args.shift()! : "add-header";
const file = `examples/${example}/envoy.yaml`;
if (!existsSync(file)) {
  const runnable = readdirSync("examples").filter((e) => existsSync(`examples/${e}/envoy.yaml`));
  process.stderr.write(`npm start: no example "${example}" with an envoy.yaml; one of: ${runnable.join(", ")}\n`);
  process.exit(2);
}
const tcp = parseEnvoyConfig(readFileSync(file, "utf8"), file).config.listeners[0]?.kind === "tcp";
const upstream = tcp ? await startTcpEchoUpstream(8080) : await startEchoUpstream(8080);
process.stderr.write(`demo upstream (${tcp ? "TCP" : "HTTP"} echo) on 127.0.0.1:${upstream.port}\n`);
await main(["run", file, ...args]);
const tryIt = tcp ? "printf 'hello\\n' | nc -q1 127.0.0.1 10000" : "curl -i http://127.0.0.1:10000/hello";
process.stderr.write(`try: ${tryIt}   (stats: curl http://127.0.0.1:9901/stats)\n`);
