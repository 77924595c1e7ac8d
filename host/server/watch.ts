// Watches the module files a proxy loaded and says when one has changed, once per burst of
// events. A directory is watched, not the file: a build that writes a temp file and renames
// it over the module replaces the file's inode, which a watch on the file itself would lose.
import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";

export interface ModuleWatcherOptions {
  /** Quiet time after the last event before the change is reported (a rename and a write come in bursts). */
  debounceMs?: number;
  /** A directory that can no longer be watched (deleted, or the watch failed). */
  onError?: (dir: string, error: Error) => void;
}

export class ModuleWatcher {
  private readonly watchers: FSWatcher[] = [];
  /** Pending reports, one per file (a handful of files: a Map is fine here). */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  /** Watches `files` (absolute paths); `changed(file)` is called after each burst of events on one. */
  constructor(files: string[], private readonly changed: (file: string) => void, private readonly options: ModuleWatcherOptions = {}) {
    const byDir = new Map<string, Map<string, string>>();
    for (const file of files) {
      const dir = dirname(file);
      if (!byDir.has(dir)) byDir.set(dir, new Map());
      byDir.get(dir)!.set(basename(file), file);
    }
    for (const [dir, names] of byDir) {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        // Without a name (some platforms), any of the directory's modules may have changed.
        const hits = name === null ? [...names.values()] : names.has(String(name)) ? [names.get(String(name))!] : [];
        for (const file of hits) this.schedule(file);
      });
      watcher.on("error", (e) => options.onError?.(dir, e));
      this.watchers.push(watcher);
    }
  }

  private schedule(file: string): void {
    if (this.closed) return;
    clearTimeout(this.timers.get(file));
    const timer = setTimeout(() => {
      this.timers.delete(file);
      if (!this.closed) this.changed(file);
    }, this.options.debounceMs ?? 150);
    this.timers.set(file, timer);
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers) w.close();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
