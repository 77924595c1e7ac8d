// Watches the module files a proxy loaded and says when one has changed, once per burst of
// events. A directory is watched, not the file: a build that writes a temp file and renames
// it over the module replaces the file's inode, which a watch on the file itself would lose.
// A watched directory that is removed (a clean build) is waited for, and its files count as
// changed when it is back.
import { type FSWatcher, statSync, watch } from "node:fs";
import { basename, dirname } from "node:path";

export interface ModuleWatcherOptions {
  /** Quiet time after the last event before the change is reported (a rename and a write come in bursts). */
  debounceMs?: number;
  /** How often a removed directory is looked for. */
  pollMs?: number;
  /** A watched directory went away, or its watch failed (it is waited for). */
  onLost?: (dir: string, why: string) => void;
}

/** One watched directory: the module files in it by name. */
interface WatchedDir {
  dir: string;
  files: Map<string, string>;
  watcher: FSWatcher | null;
  /** The directory's inode when the watch began (a directory removed and made again is another). */
  ino: number;
  poll: NodeJS.Timeout | null;
}

const inodeOf = (dir: string): number | null => {
  try {
    return statSync(dir).ino;
  } catch {
    return null;
  }
};

export class ModuleWatcher {
  private readonly dirs: WatchedDir[] = [];
  /** Pending reports, one per file (a handful of files: a Map is fine here). */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  /** Watches `files` (absolute paths); `changed(file)` is called after each burst of events on one. */
  constructor(files: string[], private readonly changed: (file: string) => void, private readonly options: ModuleWatcherOptions = {}) {
    const byDir = new Map<string, WatchedDir>();
    for (const file of files) {
      const dir = dirname(file);
      let watched = byDir.get(dir);
      if (!watched) byDir.set(dir, (watched = { dir, files: new Map(), watcher: null, ino: 0, poll: null }));
      watched.files.set(basename(file), file);
    }
    for (const watched of byDir.values()) {
      this.dirs.push(watched);
      this.arm(watched);
    }
  }

  private arm(watched: WatchedDir): void {
    const ino = inodeOf(watched.dir);
    if (ino === null) return this.lost(watched, "it does not exist");
    watched.ino = ino;
    try {
      watched.watcher = watch(watched.dir, { persistent: false }, (_event, name) => {
        // Without a name (some platforms), any of the directory's modules may have changed.
        if (name === null) for (const file of watched.files.values()) this.schedule(file);
        else {
          const file = watched.files.get(String(name));
          if (file) this.schedule(file);
        }
        // The directory itself removed or replaced: its watch sees nothing more.
        if (inodeOf(watched.dir) !== watched.ino) this.lost(watched, "it was removed");
      });
      watched.watcher.on("error", (e) => this.lost(watched, e.message));
    } catch (e) {
      this.lost(watched, (e as Error).message);
    }
  }

  /** The directory's watch is gone: look for it until it is back, then count its files as changed. */
  private lost(watched: WatchedDir, why: string): void {
    if (this.closed || watched.poll) return;
    watched.watcher?.close();
    watched.watcher = null;
    this.options.onLost?.(watched.dir, why);
    watched.poll = setInterval(() => {
      if (inodeOf(watched.dir) === null) return;
      clearInterval(watched.poll!);
      watched.poll = null;
      this.arm(watched);
      for (const file of watched.files.values()) this.schedule(file);
    }, this.options.pollMs ?? 250);
    watched.poll.unref();
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
    for (const watched of this.dirs) {
      watched.watcher?.close();
      if (watched.poll) clearInterval(watched.poll);
    }
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
