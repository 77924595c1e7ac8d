// A worker thread that compiles the modules it is sent, one at a time, keeping the compiler
// loaded (and warm) between them.
import { parentPort } from "node:worker_threads";
import { compile } from "./asc-runner.js";

parentPort.on("message", async (job) => {
  try {
    parentPort.postMessage(await compile(job));
  } catch (e) {
    parentPort.postMessage({ ok: false, output: `the compiler failed: ${e?.stack ?? e}\n`, outputs: {}, inputs: [], stats: {} });
  }
});
