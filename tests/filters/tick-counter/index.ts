// A WasmService and the HTTP filter that reads it, in one module (two root ids, one vm_id):
// root "tick_counter" (the service) counts its ticks into shared data "ticks" (period: the
// plugin configuration, in ms; default 20); root "tick_reader" (the HTTP filter) puts that
// count in each response's x-ticks header ("none" before the first tick).
import { RootContext, HttpContext, HeadersAction, registerRootContext, response, sharedData, setTickPeriod, config, log } from "proxy-wasm-as/sdk";

class TickCounter extends RootContext {
  onConfigure(size: u32): bool {
    const period = size > 0 ? I32.parseInt(config.plugin()) : 20;
    if (period <= 0) {
      log.error(`tick_counter: the period must be a positive number of ms, not ${config.plugin()}`);
      return false;
    }
    setTickPeriod(<u32>period);
    return true;
  }

  onTick(): void {
    const current = sharedData.get("ticks");
    const count = current != null ? I32.parseInt(current.text()) + 1 : 1;
    sharedData.setText("ticks", count.toString(), current != null ? current.cas : 0);
  }
}

class TickReader extends RootContext {
  newHttpContext(contextId: u32): HttpContext | null {
    return new ReadTicks(contextId, this);
  }
}

class ReadTicks extends HttpContext {
  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const ticks = sharedData.get("ticks");
    response.headers.replace("x-ticks", ticks != null ? ticks.text() : "none");
    return HeadersAction.Continue;
  }
}

registerRootContext((id: u32): RootContext => new TickCounter(id), "tick_counter");
registerRootContext((id: u32): RootContext => new TickReader(id), "tick_reader");
