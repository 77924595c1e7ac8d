// `npm start [-- example] [--watch]`: an example (add-header unless named) through
// `proxy-wasm-as start`: its modules built, a demo upstream on 127.0.0.1:8080 (HTTP echo, or
// TCP echo for a TCP example), the proxy on 127.0.0.1:10000, admin on 127.0.0.1:9901.
import { existsSync, readdirSync } from "node:fs";
import { start } from "../toolchain/start.ts";

const args = process.argv.slice(2);
const example = args[0] && !args[0].startsWith("-") ? args.shift()! : "add-header";
const file = `examples/${example}/envoy.yaml`;
if (!existsSync(file)) {
  const runnable = readdirSync("examples").filter((e) => existsSync(`examples/${e}/envoy.yaml`));
  process.stderr.write(`npm start: no example "${example}" with an envoy.yaml; one of: ${runnable.join(", ")}\n`);
  process.exit(2);
}
await start([file, ...args]);
