// `proxy-wasm-as init <folder> [--tcp] [--from SPEC]`: a new filter project that depends on
// proxy-wasm-as. Inside it, `npm install`, `npm test` and `npm start` work with no other step.
// The HTTP filter and its test are this package's own template (assembly/index.ts,
// tests/filter.test.ts: what this repository's README starts from); the TCP ones live in
// toolchain/templates/tcp. The envoy.yaml of each kind is in toolchain/templates/<kind>.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ProjectError } from "./modules.ts";

const PACKAGE_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const TEMPLATES = join(PACKAGE_ROOT, "toolchain/templates");
const ownPackage = () => JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8"));

export interface InitOptions {
  tcp?: boolean;
  /** How the project depends on proxy-wasm-as (an npm spec: a version range, a tarball, a git URL); default this version. */
  from?: string;
}

/** The files of a new project, by path. */
export function projectFiles(name: string, options: InitOptions = {}): Record<string, string> {
  const own = ownPackage();
  const kind = options.tcp ? "tcp" : "http";
  const filterSource = options.tcp ? join(TEMPLATES, "tcp/assembly/index.ts") : join(PACKAGE_ROOT, "assembly/index.ts");
  const testSource = options.tcp ? join(TEMPLATES, "tcp/tests/filter.test.ts") : join(PACKAGE_ROOT, "tests/filter.test.ts");
  const pkg = {
    name, version: "0.1.0", private: true, type: "module",
    scripts: {
      build: "proxy-wasm-as build",
      test: "proxy-wasm-as test",
      start: "proxy-wasm-as start envoy.yaml",
      typecheck: "tsc -p assembly && tsc -p .",
    },
    dependencies: { "proxy-wasm-as": options.from ?? `^${own.version}` },
    devDependencies: {
      vitest: own.devDependencies.vitest, typescript: own.devDependencies.typescript, "@types/node": own.devDependencies["@types/node"],
    },
  };
  return {
    "package.json": `${JSON.stringify(pkg, null, 2)}\n`,
    "assembly/index.ts": readFileSync(filterSource, "utf8"),
    "tests/filter.test.ts": readFileSync(testSource, "utf8"),
    "envoy.yaml": readFileSync(join(TEMPLATES, kind, "envoy.yaml"), "utf8"),
    "tsconfig.json": `${JSON.stringify({
      compilerOptions: {
        target: "es2022", module: "nodenext", moduleResolution: "nodenext", strict: true, noEmit: true,
        skipLibCheck: true, allowImportingTsExtensions: true, types: ["node"],
      },
      include: ["tests/**/*.ts", "*.ts"],
    }, null, 2)}\n`,
    "assembly/tsconfig.json": readFileSync(join(TEMPLATES, "assembly.tsconfig.json"), "utf8"),
    "vitest.config.ts": VITEST_CONFIG,
    ".gitignore": "node_modules/\nbuild/\n",
    "README.md": readme(name, options.tcp === true),
  };
}

const VITEST_CONFIG = `import { defineConfig } from "vitest/config";
import { proxyWasm } from "proxy-wasm-as/vitest";

// proxyWasm(): a test reruns in watch mode when a module it names (build/<name>.wasm) is rebuilt.
export default defineConfig({ plugins: [proxyWasm()] });
`;

function readme(name: string, tcp: boolean): string {
  const tryIt = tcp ? "printf 'hello\\n' | nc -q1 127.0.0.1 10000" : "curl -i http://127.0.0.1:10000/hello";
  return `# ${name}

A Proxy-Wasm ${tcp ? "network (TCP)" : "HTTP"} filter written in AssemblyScript with
[proxy-wasm-as](https://www.npmjs.com/package/proxy-wasm-as).

\`\`\`sh
npm install
npm test        # builds build/filter.wasm and runs tests/ in the in-process harness
\`\`\`

- \`assembly/index.ts\` is the filter; \`tests/filter.test.ts\` its tests.
- \`npm start\` runs it in proxy-wasm-as's proxy from \`envoy.yaml\`, in front of a demo
  upstream; try \`${tryIt}\`. \`npm start -- --watch\` rebuilds and swaps the module in on
  every change; \`npm test -- --watch\` reruns the tests after each rebuild.
- \`npm run build\` writes \`build/filter.wasm\` (load it in Envoy with \`envoy.yaml\` as it is) and
  \`build/filter.debug.wasm\` with a source map.
- More filters: list them in package.json, \`"proxy-wasm-as": { "modules": { "filter":
  "assembly/index.ts", "other": "other/index.ts" } }\` (a \`*\` in both names a folder of them).
`;
}

export async function init(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true, options: { tcp: { type: "boolean" }, from: { type: "string" } },
  });
  if (positionals.length !== 1) throw new ProjectError("expected one folder: proxy-wasm-as init <folder> [--tcp] [--from SPEC]");
  const dir = resolve(positionals[0]);
  if (existsSync(dir) && readdirSync(dir).length) throw new ProjectError(`${positionals[0]} exists and is not empty: choose a new folder`);
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, "-");
  for (const [path, text] of Object.entries(projectFiles(name, { tcp: values.tcp, from: values.from }))) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  process.stdout.write(`a new ${values.tcp ? "TCP" : "HTTP"} filter project in ${positionals[0]}:\n  cd ${positionals[0]}\n  npm install\n  npm test\n  npm start\n`);
}
