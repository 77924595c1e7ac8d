// rate-limit: a token bucket kept in shared data, so every worker VM with the same vm_id
// draws from the same bucket. A request takes one token; with none left it is answered 429
// with `retry-after` (whole seconds until a token is back), without reaching the upstream.
//
//   configuration: {"capacity": 100, "refill_per_second": 10, "by_header": "x-api-key"}
//
// `by_header` (optional) gives each value of that request header its own bucket.
import {
  RootContext, HttpContext, HeadersAction, Header, Status, registerRootContext, request, response, sendLocalReply,
  sharedData, time, config, log, Counter, JsonNumber,
} from "proxy-wasm-as/sdk";

@json
class RateLimitConfig {
  @optional
  name: string = "global";
  // Numbers as written, converted once: a message quotes them as the configuration has them.
  @optional
  capacity: JsonNumber = new JsonNumber("10");
  @optional
  refill_per_second: JsonNumber = new JsonNumber("1");
  @optional
  by_header: string = "";
}

/** Tries to take a token; answers the tokens left (≥ 0) or, when refused, -(seconds to wait). */
function take(key: string, capacity: f64, rate: f64): f64 {
  for (let attempt = 0; attempt < 32; attempt++) {
    const now = time.nowNanos();
    const current = sharedData.get(key);
    let tokens = capacity;
    if (current != null && current.bytes.byteLength == 16) {
      const at = changetype<usize>(current.bytes);
      const elapsed = <f64>(now - load<u64>(at, 8)) / 1e9;
      tokens = Math.min(capacity, load<f64>(at) + elapsed * rate);
    }
    const allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    const next = new ArrayBuffer(16);
    store<f64>(changetype<usize>(next), tokens);
    store<u64>(changetype<usize>(next), now, 8);
    // Another VM may have taken a token since we read: then read again.
    if (sharedData.set(key, next, current != null ? current.cas : 0) == Status.Ok) {
      return allowed ? tokens : -Math.ceil((1 - tokens) / rate);
    }
  }
  log.warn("rate-limit: " + key + " stayed contended; letting the request pass");
  return 0;
}

class RateLimitRoot extends RootContext {
  settings: RateLimitConfig = new RateLimitConfig();
  capacity: f64 = 10;
  rate: f64 = 1;
  limited: Counter | null = null;

  onConfigure(configurationSize: u32): bool {
    if (configurationSize > 0) {
      const parsed = config.parse<RateLimitConfig>(config.plugin());
      if (parsed == null) return false;
      this.capacity = parsed.capacity.toF64();
      this.rate = parsed.refill_per_second.toF64();
      if (this.capacity < 1) {
        log.error("rate-limit: capacity " + parsed.capacity.text + " is below 1; expected the number of requests a full bucket admits");
        return false;
      }
      if (this.rate <= 0) {
        log.error("rate-limit: refill_per_second " + parsed.refill_per_second.text + " must be above 0");
        return false;
      }
      this.settings = parsed;
    }
    this.limited = new Counter("rate_limit." + this.settings.name + ".limited");
    return true;
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new RateLimit(contextId, this);
  }
}

class RateLimit extends HttpContext {
  limits: RateLimitRoot;
  remaining: f64 = -1;

  constructor(contextId: u32, root: RateLimitRoot) {
    super(contextId, root);
    this.limits = root;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const s = this.limits.settings;
    let key = "rate_limit." + s.name;
    if (s.by_header.length > 0) {
      const value = request.headers.get(s.by_header);
      key += "." + (value != null ? value : "-");
    }
    const left = take(key, this.limits.capacity, this.limits.rate);
    if (left >= 0) {
      this.remaining = Math.floor(left);
      return HeadersAction.Continue;
    }
    this.limits.limited!.increment();
    sendLocalReply(429, "rate limited\n", [
      new Header("retry-after", (<i64>(-left)).toString()),
      new Header("x-ratelimit-limit", (<i64>this.limits.capacity).toString()),
      new Header("x-ratelimit-remaining", "0"),
    ], "wasm_rate_limited");
    return HeadersAction.StopIteration;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    if (this.remaining >= 0) {
      response.headers.replace("x-ratelimit-limit", (<i64>this.limits.capacity).toString());
      response.headers.replace("x-ratelimit-remaining", (<i64>this.remaining).toString());
    }
    return HeadersAction.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new RateLimitRoot(contextId), "rate_limit");
