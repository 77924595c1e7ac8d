// The timeouts Envoy keeps on one HTTP stream: stream_idle_timeout (no activity either way
// for so long), request_timeout (the whole request must have arrived by then) and the route's
// timeout (from the end of the request to the end of the response: a total, not restarted by
// each chunk). Each fires once, then the exchange decides between a local reply and a reset.
export type StreamTimeout = "idle" | "request" | "route";

export class StreamTimers {
  private idle: NodeJS.Timeout | null = null;
  private request: NodeJS.Timeout | null = null;
  private route: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly fired: (which: StreamTimeout) => void) {}

  /** stream_idle_timeout (0: none): restarted by touch(). */
  startIdle(ms: number): void {
    if (ms > 0 && !this.closed) this.idle = setTimeout(() => this.fire("idle"), ms);
  }

  /** Activity on the stream (bytes or headers either way): the idle timer starts over. */
  touch(): void {
    this.idle?.refresh();
  }

  /** request_timeout (0: none), until requestDone(). */
  startRequest(ms: number): void {
    if (ms > 0 && !this.closed) this.request = setTimeout(() => this.fire("request"), ms);
  }

  requestDone(): void {
    if (this.request) clearTimeout(this.request);
    this.request = null;
  }

  /** The route's timeout (0: none), from now to routeDone(), whatever flows meanwhile. */
  startRoute(ms: number): void {
    if (ms > 0 && !this.closed && !this.route) this.route = setTimeout(() => this.fire("route"), ms);
  }

  routeDone(): void {
    if (this.route) clearTimeout(this.route);
    this.route = null;
  }

  clear(): void {
    this.closed = true;
    for (const t of [this.idle, this.request, this.route]) if (t) clearTimeout(t);
    this.idle = this.request = this.route = null;
  }

  private fire(which: StreamTimeout): void {
    if (this.closed) return;
    this.clear();
    this.fired(which);
  }
}
