// `npm start`: the add-header example in front of a demo upstream (an echo server on
// 127.0.0.1:8080), listening on 127.0.0.1:10000 with the admin endpoint on 127.0.0.1:9901.
// Try: curl -i http://127.0.0.1:10000/hello
import { startEchoUpstream } from "../host/testing/echo-upstream.ts";
import { main } from "../host/cli.ts";

const upstream = await startEchoUpstream(8080);
process.stderr.write(`demo upstream (echo) on 127.0.0.1:${upstream.port}\n`);
await main(["run", "examples/add-header/envoy.yaml", ...process.argv.slice(2)]);
process.stderr.write("try: curl -i http://127.0.0.1:10000/hello   (stats: curl http://127.0.0.1:9901/stats)\n");
