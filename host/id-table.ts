// Live entries by numeric id (stream contexts, gRPC calls), added and removed once per stream
// or call. Neither a Map nor an object's integer keys: under such churn V8 keeps rebuilding
// their hash tables, allocating each new one in the old generation once the table it replaces
// is there, and a replaced table (and a Map's links each to the next) still holds its entries
// until a full collection. After an idle moment had put a Map's table in the old generation,
// every stream stayed reachable from dead old tables through its young-generation collections
// and was promoted; under load a proxy settled at twice the CPU per request (README,
// Performance; bench/map-churn.ts). Here one open-addressing table is rebuilt only to grow,
// and a removed entry's slot is cleared at once, so no stale reference outlives its stream.
const EMPTY = 0; // an unused slot: ids are positive

export class IdTable<T> {
  private ids: Float64Array;
  private values: (T | undefined)[];
  private mask: number;
  private count = 0;
  /**
   * How far past its home slot any entry was put (deletions only bring entries closer): a
   * deletion looks no farther for entries to move back. Ids in sequence fill one long run of
   * slots, each at home; without the bound every deletion walked the rest of the run (the
   * streams of several plugins in one VM made it thousands of slots long).
   */
  private maxShift = 0;

  constructor(capacity = 64) {
    this.ids = new Float64Array(capacity);
    this.values = new Array<T | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
  }

  /** The slot holding `id`, or -1. Ids are handed out in sequence, so they rarely collide. */
  private find(id: number): number {
    for (let i = id & this.mask; ; i = (i + 1) & this.mask) {
      const at = this.ids[i];
      if (at === EMPTY) return -1;
      if (at === id) return i;
    }
  }

  get(id: number): T | undefined {
    const i = this.find(id);
    return i < 0 ? undefined : this.values[i];
  }

  has(id: number): boolean {
    return this.find(id) >= 0;
  }

  set(id: number, value: T): void {
    if (!Number.isSafeInteger(id) || id < 1) throw new RangeError(`IdTable ids are positive integers, not ${id}`);
    const found = this.find(id);
    if (found >= 0) {
      this.values[found] = value;
      return;
    }
    if ((this.count + 1) * 2 > this.ids.length) this.grow();
    let i = id & this.mask;
    while (this.ids[i] !== EMPTY) i = (i + 1) & this.mask;
    const shift = (i - id) & this.mask;
    if (shift > this.maxShift) this.maxShift = shift;
    this.ids[i] = id;
    this.values[i] = value;
    this.count++;
  }

  delete(id: number): void {
    let hole = this.find(id);
    if (hole < 0) return;
    // Backward shift: entries after the hole that may live closer to home move into it, so
    // lookups never need tombstones (which would call for periodic rebuilds).
    // An entry farther from the hole than any entry is from its home cannot belong before it.
    for (let j = (hole + 1) & this.mask; this.ids[j] !== EMPTY && ((j - hole) & this.mask) <= this.maxShift; j = (j + 1) & this.mask) {
      const home = this.ids[j] & this.mask;
      const homeInGap = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (homeInGap) continue;
      this.ids[hole] = this.ids[j];
      this.values[hole] = this.values[j];
      hole = j;
    }
    this.ids[hole] = EMPTY;
    this.values[hole] = undefined;
    this.count--;
  }

  /** Calls `fn` with each live entry (for shutdowns; not on the hot path). */
  forEach(fn: (value: T, id: number) => void): void {
    const { ids, values } = this;
    for (let i = 0; i < ids.length; i++) if (ids[i] !== EMPTY) fn(values[i]!, ids[i]);
  }

  clear(): void {
    this.ids.fill(EMPTY);
    this.values.fill(undefined);
    this.count = 0;
    this.maxShift = 0;
  }

  private grow(): void {
    const { ids, values } = this;
    this.ids = new Float64Array(ids.length * 2);
    this.values = new Array<T | undefined>(ids.length * 2).fill(undefined);
    this.mask = ids.length * 2 - 1;
    this.count = 0;
    this.maxShift = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] !== EMPTY) this.set(ids[i], values[i]!);
  }
}
