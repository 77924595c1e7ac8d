// Splitter through the host: the request body is cut into records at the delimiter the
// plugin configuration holds (default "\n"), and each chunk goes upstream as the records
// complete in it, each as `offset:record;` (`!` for a last record no delimiter ended), so a
// test sees every record whole, and where it started, however the body was cut. Driven by
// tests/records.test.ts.
import { RootContext, HttpContext, HeadersAction, DataAction, Splitter, registerRootContext, request, config } from "proxy-wasm-as/sdk";

class Records extends RootContext {
  splitter: Splitter = new Splitter("\n");

  onConfigure(size: u32): bool {
    if (size > 0) this.splitter = Splitter.bytes(Uint8Array.wrap(config.pluginBytes()));
    return true;
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new RecordStream(contextId, this, this.splitter.fresh());
  }
}

class RecordStream extends HttpContext {
  constructor(contextId: u32, root: RootContext, private splitter: Splitter) {
    super(contextId, root);
  }

  onRequestHeaders(count: u32, endOfStream: bool): HeadersAction {
    request.headers.remove("content-length");
    return HeadersAction.Continue;
  }

  onRequestBody(size: u32, endOfStream: bool): DataAction {
    const records = request.body.split(this.splitter, endOfStream);
    let out = "";
    while (records.next()) {
      out += records.offset.toString() + ":" + String.UTF8.decodeUnsafe(records.record.dataStart, records.record.length) + (records.delimited ? ";" : "!");
    }
    request.body.replace(out);
    return DataAction.Continue;
  }
}

registerRootContext((id: u32): RootContext => new Records(id), "records");
