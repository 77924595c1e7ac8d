// Live entries by numeric id (stream contexts, gRPC calls), added and removed once per stream
// or call. Not a Map on purpose: V8 rebuilds a Map's hash table every few dozen insertions
// under such churn and links each replaced table to its successor, keeping the entries it
// held. Once one replaced table sits in the old generation (say it was current across an idle
// moment), that chain keeps every later table, and every stream they held, alive through each
// young-generation collection until a full one; under load a proxy then settled at twice the
// CPU per request. An object's integer-keyed elements keep no such links.
export class IdTable<T> {
  private entries: Record<number, T> = Object.create(null);

  get(id: number): T | undefined {
    return this.entries[id];
  }

  has(id: number): boolean {
    return id in this.entries;
  }

  set(id: number, value: T): void {
    this.entries[id] = value;
  }

  delete(id: number): void {
    delete this.entries[id];
  }

  clear(): void {
    this.entries = Object.create(null);
  }
}
