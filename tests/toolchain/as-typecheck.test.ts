// The AssemblyScript type check (tsconfig.assembly.json, run by `npm test` and used by
// editors): copies of real filters in a folder inside the repository (so the SDK and
// node_modules resolve as they do for the filters themselves) pass it, and a type error
// planted in one is reported with its file and line.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";

const root = join(import.meta.dirname, "../..");
let dir = "";

/** Runs tsc on the temp folder; resolves with its exit code and output (the errors). */
function typecheck(): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", dir], { cwd: root }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr });
    });
  });
}

// The template filter imports the SDK by relative path ("../sdk": the temp folder sits at the
// same depth); the rate-limit example (a @json configuration class, load<T>, changetype, casts)
// is rewritten to import it by package name.
const rateLimitSource = async () =>
  (await readFile(join(root, "examples/rate-limit/assembly/index.ts"), "utf8")).replace(`"../../../sdk"`, `"proxy-wasm-as/sdk"`);

beforeAll(async () => {
  dir = await mkdtemp(join(root, ".as-typecheck-"));
  await writeFile(join(dir, "tsconfig.json"), JSON.stringify({ extends: "../tsconfig.assembly.json", include: ["*.ts"] }));
  await writeFile(join(dir, "template.ts"), await readFile(join(root, "assembly/index.ts"), "utf8"));
  await writeFile(join(dir, "rate-limit.ts"), await rateLimitSource());
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("AssemblyScript type check", () => {
  it("passes filters as they are, importing the SDK by relative path or by package name", async () => {
    const source = await readFile(join(dir, "rate-limit.ts"), "utf8");
    expect(source).toContain(`from "proxy-wasm-as/sdk"`);
    const { code, output } = await typecheck();
    expect(output).toBe("");
    expect(code).toBe(0);
  });

  it("reports a string assigned to a u32 field, with the file and line", async () => {
    const source = await rateLimitSource();
    const anchor = "  remaining: f64 = -1;\n";
    expect(source).toContain(anchor);
    const planted = source.replace(anchor, `${anchor}  attempts: u32 = "three";\n`);
    const line = planted.slice(0, planted.indexOf("  attempts:")).split("\n").length;
    await writeFile(join(dir, "rate-limit.ts"), planted);
    try {
      const { code, output } = await typecheck();
      expect(code).not.toBe(0);
      const errors = output.split("\n").filter((l) => l.includes("error TS"));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(`${basename(dir)}/rate-limit.ts(${line},3): error TS2322: Type 'string' is not assignable to type 'number'`);
    } finally {
      await writeFile(join(dir, "rate-limit.ts"), source);
    }
  });
});
