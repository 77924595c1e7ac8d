// Typed JSON through the host: config.parse<T> at configure (a wrong type, a missing or an
// unknown field refuses the plugin with the message in the log), and safeJson.tryParse<T> on
// request bodies (the request path names the type; the reply carries the value read back, or
// the error with status 400). Driven by tests/json.test.ts.
import {
  RootContext, HttpContext, HeadersAction, DataAction, registerRootContext, request, sendLocalReply, config, safeJson, log,
} from "proxy-wasm-as/sdk";
import { JsonNumber, StringPairs } from "proxy-wasm-as/sdk/json-values";
import { JSON } from "json-as";

@json
class Limit {
  rate: i32 = 0;
  @optional burst: u8 = 10;
  @optional label: string | null = null;
}

@json
class Base {
  id: string = "";
}

@json
class ProbeConfig extends Base {
  @alias("limit-list") limits: Limit[] = [];
  @optional scale: f64 = 1.0;
  @optional names: Map<string, Array<i64>> = new Map<string, Array<i64>>();
  @optional note: string | null = null;
}

@json
class Claims {
  sub: string = "";
  @optional exp: i64 = 0;
  @optional admin: bool = false;
}

// The README's example, to keep its messages true.
@json
class ReadmeLimit {
  rate: i32 = 0;
  @optional burst: u8 = 10;
  @optional label: string | null = null;
}
@json
class ReadmeLimits {
  limits: ReadmeLimit[] = [];
  @optional scale: f64 = 1.0;
}

// A lazy field: json-as lowers it to a private slot parsed on first read.
@json
class WithLazy {
  id: string = "";
  @lazy detail: Limit = new Limit();
}

// The SDK's JsonNumber and StringPairs in a class json-as builds (its lazy field): json-as
// reads and writes them through their own (de)serializers, as a number and an object. It
// finds a deserializer only in the file a type is imported from (not through sdk/index.ts's
// re-export: imported from "proxy-wasm-as/sdk", rate would keep its initializer), hence the
// import from sdk/json-values above.
@json
class Quota {
  rate: JsonNumber = new JsonNumber("1");
  headers: StringPairs = new StringPairs();
  @lazy detail: Limit = new Limit();
}

class ProbeRoot extends RootContext {
  settings: ProbeConfig = new ProbeConfig();
  onConfigure(size: u32): bool {
    const parsed = config.parse<ProbeConfig>(config.plugin());
    if (parsed == null) return false;
    this.settings = parsed;
    const first = parsed.limits.length > 0 ? parsed.limits[0] : new Limit();
    const label = first.label;
    log.info(`configured ${parsed.id}: ${parsed.limits.length} limits, first rate ${first.rate} burst ${first.burst} label ${label != null ? label : "(none)"}, scale ${parsed.scale}, ${parsed.names.size} names`);
    return true;
  }
  newHttpContext(id: u32): HttpContext | null {
    return new Probe(id, this);
  }
}

class Probe extends HttpContext {
  onRequestHeaders(count: u32, endOfStream: bool): HeadersAction {
    return HeadersAction.Continue;
  }

  onRequestBody(size: u32, endOfStream: bool): DataAction {
    if (!endOfStream) return DataAction.StopIterationAndBuffer;
    const text = request.body.getText();
    const path = request.headers.get(":path")!;
    let answer = "";
    if (path == "/claims") {
      const claims = safeJson.tryParse<Claims>(text);
      if (claims != null) answer = `sub=${claims.sub} exp=${claims.exp} admin=${claims.admin}`;
    } else if (path == "/claims/lenient") {
      const claims = safeJson.tryParse<Claims>(text, true);
      if (claims != null) answer = `sub=${claims.sub} exp=${claims.exp} admin=${claims.admin}`;
    } else if (path == "/object") {
      // @ts-ignore: json-as types beyond the editor's declarations (sdk/types/json-as.d.ts)
      const object = safeJson.tryParse<JSON.Obj>(text);
      if (object != null) {
        const role = object.get("role");
        answer = `${object.size} members, role ${role != null ? role.toString() : "(none)"}`;
      }
    } else if (path == "/lazy") {
      const value = safeJson.tryParse<WithLazy>(text);
      if (value != null) answer = `${value.id} rate ${value.detail.rate}`;
    } else if (path == "/quota") {
      const quota = safeJson.tryParse<Quota>(text);
      if (quota != null) answer = `rate ${quota.rate.ceil(2)} first ${quota.headers.names.length ? quota.headers.names[0] : "-"}: ${safeJson.stringify(quota)}`;
    } else if (path == "/readme") {
      if (safeJson.tryParse<ReadmeLimits>(text) != null) answer = "ok";
    } else if (path.startsWith("/member/")) {
      const value = safeJson.member(text, path.substring(8));
      answer = value != null ? "[" + value + "]" : "null";
    } else if (path == "/u64s") {
      const values = safeJson.tryParse<u64[]>(text);
      if (values != null) answer = values.join(",");
    } else if (path == "/names") {
      const names = safeJson.tryParse<Map<string, string>>(text);
      if (names != null) answer = names.keys().join(",");
    }
    if (answer.length > 0) sendLocalReply(200, answer);
    else sendLocalReply(400, safeJson.error());
    return DataAction.StopIterationNoBuffer;
  }
}

registerRootContext((id: u32): RootContext => new ProbeRoot(id), "");
