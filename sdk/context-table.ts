// Every context the host created, by id: root contexts, and streams, each with its root
// until its first HTTP or TCP callback says which kind it is and makes its context. Open
// addressing in flat arrays: a stream costs no hashing and no entry object of its own, and a
// removed slot is cleared at once (backward-shift deletion, no tombstones), so the table is
// rebuilt only to grow. (AssemblyScript's Map, which it replaces, hashed, chained and
// compacted per stream, and linked about 1 KB of code per key and value type.)
import { RootContext, StreamContext } from "./contexts";

/** What a slot holds: a root context; a stream not yet opened (the object is its root); a stream opened as HTTP or TCP (its context, or null when the root made none). */
export const ROOT: u8 = 1, UNOPENED: u8 = 2, HTTP: u8 = 3, TCP: u8 = 4;

/** An unused slot: context ids are positive. */
const EMPTY: u32 = 0;
const INITIAL_CAPACITY = 64;

export class ContextTable {
  private ids: StaticArray<u32> = new StaticArray<u32>(INITIAL_CAPACITY);
  private objects: StaticArray<Object | null> = new StaticArray<Object | null>(INITIAL_CAPACITY);
  private kinds: StaticArray<u8> = new StaticArray<u8>(INITIAL_CAPACITY);
  private mask: u32 = INITIAL_CAPACITY - 1;
  private count: i32 = 0;
  /** Streams held (not roots). */
  streams: i32 = 0;
  /**
   * How far past its home slot any entry was put (removals only bring entries closer): a
   * removal looks no farther for entries to move back. Ids in sequence fill one long run of
   * slots, each at home; without the bound every removal walked the rest of the run (the
   * streams of several plugins in one VM made it thousands of slots long).
   */
  private maxShift: u32 = 0;

  /** The slot of context `id`, or -1. Ids come in sequence, so they rarely collide. */
  find(id: u32): i32 {
    const ids = this.ids, mask = this.mask;
    let i = id & mask;
    while (true) {
      const at = unchecked(ids[i]);
      if (at == id) return <i32>i;
      if (at == EMPTY) return -1;
      i = (i + 1) & mask;
    }
    return -1; // not reached: a slot is always empty
  }

  /** Adds (or replaces) context `id`; moves other entries when the table grows. */
  add(id: u32, kind: u8, object: Object): void {
    if ((this.count + 1) << 1 > <i32>this.mask + 1) this.grow();
    const ids = this.ids, mask = this.mask;
    let i = id & mask;
    while (unchecked(ids[i]) != EMPTY && unchecked(ids[i]) != id) i = (i + 1) & mask;
    this.noteShift(i, id);
    if (unchecked(ids[i]) == EMPTY) this.count++;
    else if (unchecked(this.kinds[i]) != ROOT) this.streams--;
    if (kind != ROOT) this.streams++;
    this.put(i, id, kind, object);
  }

  // @ts-ignore: decorator
  @inline kind(slot: i32): u8 { return unchecked(this.kinds[slot]); }
  // @ts-ignore: decorator
  @inline object(slot: i32): Object | null { return unchecked(this.objects[slot]); }

  /** A stream's first HTTP or TCP callback: it holds its context from now on. */
  open(slot: i32, kind: u8, context: StreamContext | null): void {
    unchecked(this.kinds[slot] = kind);
    unchecked(this.objects[slot] = context);
  }

  /** Empties `slot`, moving back the entries after it that belong before the gap. */
  remove(slot: i32): void {
    const ids = this.ids, mask = this.mask;
    if (unchecked(this.kinds[slot]) != ROOT) this.streams--;
    this.count--;
    let gap = <u32>slot;
    // An entry farther from the gap than any entry is from its home cannot belong before it.
    for (let i = (gap + 1) & mask; unchecked(ids[i]) != EMPTY && ((i - gap) & mask) <= this.maxShift; i = (i + 1) & mask) {
      // The entry at i may fill the gap unless its home slot lies cyclically within (gap, i].
      if (((i - (unchecked(ids[i]) & mask)) & mask) >= ((i - gap) & mask)) {
        this.put(gap, unchecked(ids[i]), unchecked(this.kinds[i]), unchecked(this.objects[i]));
        gap = i;
      }
    }
    this.put(gap, EMPTY, 0, null);
  }

  // @ts-ignore: decorator
  @inline private noteShift(slot: u32, id: u32): void {
    const shift = (slot - (id & this.mask)) & this.mask;
    if (shift > this.maxShift) this.maxShift = shift;
  }

  private put(i: u32, id: u32, kind: u8, object: Object | null): void {
    unchecked(this.ids[i] = id);
    unchecked(this.kinds[i] = kind);
    unchecked(this.objects[i] = object);
  }

  private grow(): void {
    const ids = this.ids, kinds = this.kinds, objects = this.objects;
    const capacity = (this.mask + 1) << 1;
    this.ids = new StaticArray<u32>(capacity);
    this.kinds = new StaticArray<u8>(capacity);
    this.objects = new StaticArray<Object | null>(capacity);
    this.mask = capacity - 1;
    this.maxShift = 0;
    for (let j = 0; j < ids.length; j++) {
      const id = unchecked(ids[j]);
      if (id == EMPTY) continue;
      let i = id & this.mask;
      while (unchecked(this.ids[i]) != EMPTY) i = (i + 1) & this.mask;
      this.noteShift(i, id);
      this.put(i, id, unchecked(kinds[j]), unchecked(objects[j]));
    }
  }
}
