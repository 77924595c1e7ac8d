// `proxy-wasm-as build --watch`: builds, then rebuilds a module whenever a file it was compiled
// from changes. What to watch comes from the build itself (every file a compile read), so a
// new import is watched from the next build on. Folders are watched rather than files, since
// editors save by writing a new file and renaming it over the old one; files under
// node_modules (the compiler's library, json-as, an installed SDK) are not watched.
import { type FSWatcher, watch } from "node:fs";
import { dirname, join, sep } from "node:path";
import { type BuildOptions, type BuildResult, Builder } from "./build.ts";

export interface Watching {
  /** Resolves after the first build. */
  ready: Promise<BuildResult>;
  close(): void;
}

const DEBOUNCE_MS = 120;

/**
 * Builds `options.only` (or every module), then rebuilds on change; `onBuilt` hears each
 * build's result (the first one included), e.g. to reload the modules in a running proxy.
 */
export function watchBuild(options: BuildOptions, onBuilt: (result: BuildResult) => void = () => {}): Watching {
  const builder = new Builder(options.root);
  const watchers = new Map<string, FSWatcher>();
  /** input file → the modules compiled from it */
  const usedBy = new Map<string, Set<string>>();
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();
  let closed = false;

  const track = (result: BuildResult) => {
    for (const job of result.jobs) {
      for (const input of job.inputs) {
        if (input.includes(`${sep}node_modules${sep}`)) continue;
        let modules = usedBy.get(input);
        if (!modules) usedBy.set(input, (modules = new Set()));
        modules.add(job.module.name);
        const dir = dirname(input);
        if (!watchers.has(dir)) watchers.set(dir, watch(dir, (_event, name) => name && onChange(join(dir, name.toString()))));
      }
    }
  };

  const onChange = (path: string) => {
    const modules = usedBy.get(path);
    if (!modules || closed) return;
    for (const m of modules) changed.add(m);
    if (timer) clearTimeout(timer);
    timer = setTimeout(rebuild, DEBOUNCE_MS);
  };

  const rebuild = () => {
    timer = null;
    const only = [...changed];
    changed.clear();
    running = running.then(async () => {
      if (closed) return;
      const result = await builder.build({ ...options, only });
      track(result);
      onBuilt(result);
    }).catch((e) => options.print?.(`build: ${(e as Error).message}`));
  };

  const ready = builder.build(options).then((result) => {
    track(result);
    onBuilt(result);
    return result;
  });
  running = ready.catch(() => {});
  return {
    ready,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      void running.finally(() => builder.close());
    },
  };
}
