// A package-lock.json for a new filter project, made from this repository's own lockfile, so
// that `npm ci --offline` installs the project from npm's cache alone: every package it needs
// is one this repository's `npm ci` already fetched, at the same version. (A plain
// `npm install` would ask the registry which versions exist; the tests stay off the network.)
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [field: string]: unknown;
}

/**
 * The lockfile for the project at `projectDir` whose package.json depends on the packed
 * tarball (`tarballSpec`, as written in its package.json) and on packages of `repoDir`'s tree.
 */
export function offlineLockfile(repoDir: string, projectDir: string, tarball: string, tarballSpec: string): string {
  const repoLock = JSON.parse(readFileSync(join(repoDir, "package-lock.json"), "utf8")).packages as Record<string, LockEntry>;
  const project = JSON.parse(readFileSync(join(projectDir, "package.json"), "utf8"));
  const own = repoLock[""];
  const packages: Record<string, LockEntry> = {};

  // Node's lookup: a package's own node_modules first, then each folder above it.
  const locate = (from: string, name: string): string | undefined => {
    for (let at = from; ; at = at.slice(0, Math.max(0, at.lastIndexOf("/node_modules/")))) {
      const path = at ? `${at}/node_modules/${name}` : `node_modules/${name}`;
      if (repoLock[path]) return path;
      if (!at) return undefined;
    }
  };
  const add = (from: string, name: string, required: boolean) => {
    const path = locate(from, name);
    if (!path) {
      if (required) throw new Error(`this repository's lockfile has no ${name} (needed from ${from || "the project"})`);
      return;
    }
    if (packages[path]) return;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = repoLock[path] as LockEntry & Record<string, unknown>;
    packages[path] = entry;
    for (const dep of Object.keys(entry.dependencies ?? {})) add(path, dep, true);
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) add(path, dep, false);
    for (const dep of Object.keys(entry.peerDependencies ?? {})) add(path, dep, false);
  };

  const integrity = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;
  packages["node_modules/proxy-wasm-as"] = {
    version: own.version, resolved: tarballSpec, integrity,
    dependencies: own.dependencies, bin: own.bin, engines: own.engines,
  };
  for (const dep of Object.keys(own.dependencies ?? {})) add("node_modules/proxy-wasm-as", dep, true);
  for (const dep of Object.keys(project.devDependencies ?? {})) add("", dep, true);

  const root = { name: project.name, version: project.version, dependencies: project.dependencies, devDependencies: project.devDependencies };
  return `${JSON.stringify({ name: project.name, version: project.version, lockfileVersion: 3, requires: true, packages: { "": root, ...packages } }, null, 2)}\n`;
}
