// Streams waiting on a filter that stopped them and has not continued. A client that waits
// with nothing logged is the hardest failure to see; so once a stream has been held longer
// than a threshold, the proxy says once which plugin holds which side, and since when.
// A stream is watched from its first stop until nothing holds it; one sweep timer serves
// them all, and runs only while some stream is watched.
import { IdTable } from "../id-table.ts";
import { type Hold, describeHold } from "../http/stream.ts";
import type { Logger } from "../log.ts";

export const DEFAULT_HELD_STREAM_MS = 5_000;

/** A stream the proxy can ask what holds it. */
export interface HoldSubject {
  /** Set by the watch: 0 while not watched. */
  heldId: number;
  holds(): Hold[];
  nowNanos(): bigint;
  /** How the access log names it: `GET /path`. */
  readonly label: string;
}

interface Watched {
  subject: HoldSubject;
  logged: boolean;
}

export class HeldStreams {
  private readonly watched = new IdTable<Watched>();
  private count = 0;
  private nextId = 1;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly thresholdMs: number, private readonly logger: Logger) {}

  /** A side of `subject` stopped at a filter: watch it until nothing holds it. */
  watch(subject: HoldSubject): void {
    if (subject.heldId !== 0) return;
    subject.heldId = this.nextId++;
    this.watched.set(subject.heldId, { subject, logged: false });
    this.count++;
    this.timer ??= setInterval(() => this.sweep(), Math.max(10, Math.min(1000, this.thresholdMs / 2))).unref();
  }

  private sweep(): void {
    const released: number[] = [];
    this.watched.forEach((w, id) => {
      const holds = w.subject.holds();
      if (!holds.length) return void released.push(id);
      if (w.logged) return;
      const now = w.subject.nowNanos();
      const over = holds.filter((h) => Number(now - h.sinceNanos) / 1e6 >= this.thresholdMs);
      if (!over.length) return;
      w.logged = true;
      this.logger.log("warn", "http", `${w.subject.label}: held by a filter: ${over.map((h) => describeHold(h, now)).join("; ")}`);
    });
    for (const id of released) {
      this.watched.get(id)!.subject.heldId = 0;
      this.watched.delete(id);
      this.count--;
    }
    if (this.count === 0) this.close();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
