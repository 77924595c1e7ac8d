// `npm run demo`: one request and its response through the add-header example, in the
// in-process harness, showing what the filter changed and what it logged.
import { join } from "node:path";
import { Harness } from "../host/testing/index.ts";

const configuration = { request: { "x-added-by": "proxy-wasm-as" }, response: { "x-frame-options": "DENY" } };
const h = await Harness.load(join(import.meta.dirname, "../build/add-header.wasm"), {
  rootId: "add_header",
  configuration: JSON.stringify(configuration),
});

function show(title: string, headers: [string, string][]): void {
  console.log(`\n${title}`);
  for (const [name, value] of headers) console.log(`  ${name}: ${value}`);
}

console.log(`add-header, configured with ${JSON.stringify(configuration)}`);
const s = h.http();
const request: [string, string][] = [[":method", "GET"], [":path", "/hello"], [":authority", "example.com"]];
show("request headers sent by the client:", request);
s.sendRequestHeaders(request, true);
show("request headers the upstream receives:", s.request.headers);

const response: [string, string][] = [[":status", "200"], ["content-type", "text/plain"]];
show("response headers sent by the upstream:", response);
s.sendResponseHeaders(response, false);
s.sendResponseBody("hello\n", true);
show("response headers the client receives:", s.response.headers);
s.complete();

console.log("\nwhat the filter logged:");
for (const { level, message } of h.logs) console.log(`  [${level}] ${message}`);
