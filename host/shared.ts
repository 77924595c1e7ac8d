// State plugins share within one process, as Envoy shares it between VMs: shared data (a
// key/value store per vm_id, with compare-and-swap) and, later, shared queues. A proxy keeps
// one SharedState for all its plugins; a harness keeps one per test unless given one.

export interface SharedValue {
  value: Uint8Array;
  cas: number;
}

export class SharedState {
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
