// request-log: each stream, when it ends, puts a one-line summary on a shared queue; the
// root context drains the queue on a timer and logs the summaries as one batch. In Envoy the
// queue gathers the lines of every worker thread's VM (same vm_id) into one place.
//
//   configuration: {"queue": "request_summaries", "flush_every_ms": 1000, "max_batch": 100}
import {
  RootContext, HttpContext, LogLevel, registerRootContext, request, response, queues, setTickPeriod, config, log,
} from "proxy-wasm-as/sdk";

@json
class RequestLogConfig {
  @optional
  queue: string = "request_summaries";
  @optional
  flush_every_ms: u32 = 1000;
  @optional
  max_batch: u32 = 100;
}

class RequestLogRoot extends RootContext {
  settings: RequestLogConfig = new RequestLogConfig();
  queueId: u32 = 0;

  onConfigure(configurationSize: u32): bool {
    if (configurationSize > 0) {
      const parsed = config.parse<RequestLogConfig>(config.plugin());
      if (parsed == null) return false;
      if (parsed.flush_every_ms == 0 || parsed.max_batch == 0) {
        log.error("request-log: flush_every_ms and max_batch must be above 0");
        return false;
      }
      this.settings = parsed;
    }
    this.queueId = queues.register(this.settings.queue);
    if (this.queueId == 0) {
      log.error(`request-log: could not register queue "${this.settings.queue}"`);
      return false;
    }
    setTickPeriod(this.settings.flush_every_ms);
    return true;
  }

  onQueueReady(queueId: u32): void {
    // Drained on the next tick, in one batch.
    if (log.enabled(LogLevel.Debug)) log.debug(`request-log: a summary is waiting on queue ${queueId}`);
  }

  onTick(): void {
    const lines = new Array<string>();
    while (lines.length < <i32>this.settings.max_batch) {
      const line = queues.dequeueText(this.queueId);
      if (line == null) break;
      lines.push(line);
    }
    if (lines.length > 0) log.info(`request-log: ${lines.length} request(s): ${lines.join(" | ")}`);
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new RequestLog(contextId, this);
  }
}

class RequestLog extends HttpContext {
  queueId: u32;

  constructor(contextId: u32, root: RequestLogRoot) {
    super(contextId, root);
    this.queueId = root.queueId;
  }

  onLog(): void {
    const method = request.headers.get(":method");
    const path = request.headers.get(":path");
    const status = response.headers.get(":status");
    queues.enqueueText(this.queueId, `${method != null ? method : "-"} ${path != null ? path : "-"} ${status != null ? status : "-"}`);
  }
}

registerRootContext((contextId: u32): RootContext => new RequestLogRoot(contextId), "request_log");
