// State plugins share within one process, as Envoy shares it between VMs: shared data (a
// key/value store per vm_id, with compare-and-swap) and shared queues. A proxy keeps
// one SharedState for all its plugins; a harness keeps one per test unless given one.

export interface SharedValue {
  value: Uint8Array;
  cas: number;
}

export class SharedState {
  readonly queues = new SharedQueues();
  private readonly data = new Map<string, Map<string, SharedValue>>();
  private nextCas = 1;

  private space(vmId: string): Map<string, SharedValue> {
    let space = this.data.get(vmId);
    if (!space) this.data.set(vmId, (space = new Map()));
    return space;
  }

  get(vmId: string, key: string): SharedValue | undefined {
    return this.data.get(vmId)?.get(key);
  }

  /** Stores `value` unless `cas` is non-zero and no longer current (then "cas-mismatch"). */
  set(vmId: string, key: string, value: Uint8Array, cas: number): "ok" | "cas-mismatch" {
    const space = this.space(vmId);
    const current = space.get(key);
    if (cas !== 0 && (current === undefined || current.cas !== cas)) return "cas-mismatch";
    space.set(key, { value, cas: this.nextCas });
    this.nextCas = (this.nextCas % 0xffffffff) + 1; // never 0: 0 means "no check"
    return "ok";
  }
}

/** What a queue tells when an item arrives: the root context of the plugin that registered it. */
export interface QueueOwner {
  queueReady(token: number): void;
}

/** A shared queue: items any VM may enqueue; its owner (the plugin that registered it last) is told when one arrives. */
export interface SharedQueue {
  vmId: string;
  name: string;
  items: Uint8Array[];
  /**
   * The plugins that registered it, the latest last: that one is told. A plugin that goes
   * (replaced by a reload, or one that failed to start) is taken off, and the one before it
   * is told again.
   */
  owners: QueueOwner[];
}

export class SharedQueues {
  private readonly byToken = new Map<number, SharedQueue>();
  private readonly byName = new Map<string, number>();
  private nextToken = 1;

  /** Registers (or takes over) the queue `name` of `vmId`; its token. */
  register(vmId: string, name: string, owner: QueueOwner): number {
    const key = `${vmId}\0${name}`;
    const existing = this.byName.get(key);
    if (existing !== undefined) {
      const { owners } = this.byToken.get(existing)!;
      const at = owners.indexOf(owner);
      if (at >= 0) owners.splice(at, 1);
      owners.push(owner);
      return existing;
    }
    const token = this.nextToken++;
    this.byToken.set(token, { vmId, name, items: [], owners: [owner] });
    this.byName.set(key, token);
    return token;
  }

  /** `owner` is gone: each queue it registered is told to the plugin that held it before (if any); the queues and their items stay. */
  disown(owner: QueueOwner): void {
    for (const queue of this.byToken.values()) {
      const at = queue.owners.indexOf(owner);
      if (at >= 0) queue.owners.splice(at, 1);
    }
  }

  resolve(vmId: string, name: string): number | undefined {
    return this.byName.get(`${vmId}\0${name}`);
  }

  enqueue(token: number, item: Uint8Array): boolean {
    const queue = this.byToken.get(token);
    if (!queue) return false;
    queue.items.push(item);
    queue.owners[queue.owners.length - 1]?.queueReady(token);
    return true;
  }

  /** The oldest item; undefined for an unknown token, null when the queue is empty. */
  dequeue(token: number): Uint8Array | null | undefined {
    const queue = this.byToken.get(token);
    if (!queue) return undefined;
    return queue.items.shift() ?? null;
  }
}
