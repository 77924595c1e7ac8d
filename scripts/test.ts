// `npm test [-- files…]`: build the modules (only those that changed; with files, only those
// the files load), then run the SDK specs (as-pect), the host and example suites (vitest)
// and the typecheck, and close with one line `N passed, N failed` over all of them (the line
// CI reads). Each step's own output is shown as it runs. Given files, only vitest runs them;
// with --watch, the build and vitest keep watching (proxy-wasm-as test --watch).
import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { modulesUsedBy, test } from "../toolchain/test.ts";

interface Tally { passed: number; failed: number; skipped: number }

function run(command: string, args: string[], capture = false): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const mode = capture ? "pipe" : "inherit";
    const child = spawn(command, args, { stdio: ["ignore", mode, mode] });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk; // as-pect reports on stderr
      process.stderr.write(chunk);
    });
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

/** A step that is one check: it passes or it fails as a whole. */
async function check(name: string, command: string, args: string[], tally: Tally): Promise<boolean> {
  console.log(`\n── ${name}`);
  const { code } = await run(command, args);
  if (code === 0) tally.passed++;
  else {
    tally.failed++;
    console.log(`✗ ${name} failed (exit ${code})`);
  }
  return code === 0;
}

/** as-pect prints `Pass: P / T` for each spec file; a file that did not compile prints none. */
async function sdkSpecs(tally: Tally): Promise<void> {
  console.log("\n── SDK specs (as-pect)");
  const { code, output } = await run("npx", ["asp", "--no-logo", "--summary"], true);
  let files = 0;
  for (const [, pass, total] of output.matchAll(/Pass: (\d+) \/ (\d+)/g)) {
    files++;
    tally.passed += Number(pass);
    tally.failed += Number(total) - Number(pass);
  }
  if (code !== 0 && files === 0) tally.failed++;
}

async function vitest(tally: Tally, files: string[]): Promise<void> {
  console.log("\n── host and example suites (vitest)");
  const results = ".vitest-results.json";
  await rm(results, { force: true });
  const { code } = await run("npx", ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile=${results}`, ...files]);
  try {
    const report = JSON.parse(await readFile(results, "utf8"));
    tally.passed += report.numPassedTests;
    // Tests, not suites: vitest's numFailedTestSuites counts every describe block around a
    // failing test. A file counts on its own only when it failed with no test failing (it
    // did not import, or a beforeAll threw and its tests were skipped).
    const failedFiles = report.testResults.filter(
      (file: { status: string; assertionResults: { status: string }[] }) =>
        file.status === "failed" && !file.assertionResults.some((test) => test.status === "failed"),
    ).length;
    tally.failed += report.numFailedTests + failedFiles;
    tally.skipped += report.numPendingTests + (report.numTodoTests ?? 0);
  } catch {
    tally.failed++;
  }
  if (code !== 0 && tally.failed === 0) tally.failed++;
}

if (process.argv.includes("--watch")) await test(process.argv.slice(2)); // builds and reruns on change, until Ctrl-C
const files = process.argv.slice(2);
const only = modulesUsedBy(process.cwd(), files) ?? [];
const tally: Tally = { passed: 0, failed: 0, skipped: 0 };
if (await check("build (proxy-wasm-as build)", "npx", ["tsx", "toolchain/cli.ts", "build", ...only], tally)) {
  if (!files.length) await sdkSpecs(tally);
  await vitest(tally, files);
}
if (!files.length) {
  await check("typecheck (tsc)", "npx", ["tsc", "-p", "."], tally);
  await check("typecheck AssemblyScript (tsc -p tsconfig.assembly.json)", "npx", ["tsc", "-p", "tsconfig.assembly.json"], tally);
}

console.log(`\n${tally.passed} passed, ${tally.failed} failed${tally.skipped ? `, ${tally.skipped} skipped` : ""}`);
process.exit(tally.failed === 0 ? 0 : 1);
