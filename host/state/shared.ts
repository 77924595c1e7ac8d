// State plugins share within one process, as Envoy shares it between VMs: shared data (a
// key/value store per vm_id, with compare-and-swap) and shared queues. A proxy keeps
// one SharedState for all its plugins; a harness keeps one per test unless given one.
// Both outlive any VM, so both are bounded (SharedLimits): past a bound the host function
// refuses and the store never grows.

export interface SharedValue {
  value: Uint8Array;
  cas: number;
}

/** The bounds of what modules may keep in shared state (docs/isolation.md). */
export interface SharedLimits {
  /** Longest shared-data key, in UTF-8 bytes (longer: BadArgument). */
  maxKeyBytes: number;
  /** Largest shared-data value (larger: BadArgument). */
  maxValueBytes: number;
  /** Shared data per vm_id, keys and values (a set past it: InternalFailure). */
  maxBytesPerVmId: number;
  /** Items waiting in one queue (an enqueue past it: InternalFailure). */
  maxQueueDepth: number;
  /** Bytes waiting in one queue (an enqueue past it: InternalFailure). */
  maxQueueBytes: number;
}

export const DEFAULT_SHARED_LIMITS: SharedLimits = {
  maxKeyBytes: 4096,
  maxValueBytes: 1 << 20,
  maxBytesPerVmId: 64 << 20,
  maxQueueDepth: 10_000,
  maxQueueBytes: 64 << 20,
};

interface Space {
  values: Map<string, SharedValue>;
  /** Bytes of keys and values held. */
  bytes: number;
}

export class SharedState {
  readonly limits: SharedLimits;
  readonly queues: SharedQueues;
  private readonly data = new Map<string, Space>();
  private nextCas = 1;

  constructor(limits: Partial<SharedLimits> = {}) {
    this.limits = { ...DEFAULT_SHARED_LIMITS, ...limits };
    this.queues = new SharedQueues(this.limits);
  }

  private space(vmId: string): Space {
    let space = this.data.get(vmId);
    if (!space) this.data.set(vmId, (space = { values: new Map(), bytes: 0 }));
    return space;
  }

  get(vmId: string, key: string): SharedValue | undefined {
    return this.data.get(vmId)?.values.get(key);
  }

  /** Bytes of shared data `vmId` holds. */
  bytes(vmId: string): number {
    return this.data.get(vmId)?.bytes ?? 0;
  }

  /**
   * Stores `value` unless `cas` is non-zero and no longer current ("cas-mismatch"), or the
   * vm_id's data would pass its bound ("full"). Sizes of the key and value are the caller's to check.
   */
  set(vmId: string, key: string, value: Uint8Array, cas: number): "ok" | "cas-mismatch" | "full" {
    const space = this.space(vmId);
    const current = space.values.get(key);
    if (cas !== 0 && (current === undefined || current.cas !== cas)) return "cas-mismatch";
    const keyBytes = Buffer.byteLength(key);
    const bytes = space.bytes - (current ? keyBytes + current.value.length : 0) + keyBytes + value.length;
    if (bytes > this.limits.maxBytesPerVmId) return "full";
    space.bytes = bytes;
    space.values.set(key, { value, cas: this.nextCas });
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
  /** Bytes of the items waiting. */
  bytes: number;
}

export class SharedQueues {
  private readonly byToken = new Map<number, SharedQueue>();
  private readonly byName = new Map<string, number>();
  private nextToken = 1;

  constructor(private readonly limits: SharedLimits = DEFAULT_SHARED_LIMITS) {}

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
    this.byToken.set(token, { vmId, name, items: [], bytes: 0, owners: [owner] });
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

  /** Adds an item: "ok", "unknown" (no such token), or "full" (the queue is at its depth or bytes bound). */
  enqueue(token: number, item: Uint8Array): "ok" | "unknown" | "full" {
    const queue = this.byToken.get(token);
    if (!queue) return "unknown";
    if (queue.items.length >= this.limits.maxQueueDepth || queue.bytes + item.length > this.limits.maxQueueBytes) return "full";
    queue.items.push(item);
    queue.bytes += item.length;
    queue.owners[queue.owners.length - 1]?.queueReady(token);
    return "ok";
  }

  /** The oldest item; undefined for an unknown token, null when the queue is empty. */
  dequeue(token: number): Uint8Array | null | undefined {
    const queue = this.byToken.get(token);
    if (!queue) return undefined;
    const item = queue.items.shift();
    if (item === undefined) return null;
    queue.bytes -= item.length;
    return item;
  }
}
