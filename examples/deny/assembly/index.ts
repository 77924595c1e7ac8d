// deny: answers 403 itself, without reaching the upstream, when a required request header is
// missing or a header carries a value on the deny list.
//
//   configuration: {
//     "required": ["x-api-key"],
//     "deny": [{"header": "x-api-key", "values": ["revoked-key"]}],
//     "status": 403
//   }
import {
  RootContext, HttpContext, HeadersAction, Header, registerRootContext, request, sendLocalReply, config, log,
} from "proxy-wasm-as/sdk";

@json
class DenyRule {
  @optional
  header: string = "";
  @optional
  values: string[] = [];
}

@json
class DenyConfig {
  @optional
  required: string[] = [];
  @optional
  deny: DenyRule[] = [];
  @optional
  status: u32 = 403;
}

class DenyRoot extends RootContext {
  settings: DenyConfig = new DenyConfig();

  onConfigure(configurationSize: u32): bool {
    if (configurationSize == 0) return true;
    const parsed = config.parse<DenyConfig>(config.plugin());
    if (parsed == null) return false;
    for (let i = 0; i < parsed.deny.length; i++) {
      if (parsed.deny[i].header.length == 0) {
        log.error(`deny: deny[${i}].header is empty; expected the name of a request header`);
        return false;
      }
    }
    if (parsed.status < 200 || parsed.status > 599) {
      log.error(`deny: status ${parsed.status} is not an HTTP status (expected 200-599)`);
      return false;
    }
    this.settings = parsed;
    return true;
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new Deny(contextId, this);
  }
}

class Deny extends HttpContext {
  settings: DenyConfig;

  constructor(contextId: u32, root: DenyRoot) {
    super(contextId, root);
    this.settings = root.settings;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const reason = this.refusal();
    if (reason == null) return HeadersAction.Continue;
    log.info(`deny: ${reason}`);
    sendLocalReply(this.settings.status, `access denied: ${reason}\n`,
      [new Header("content-type", "text/plain")], "wasm_deny");
    return HeadersAction.StopIteration;
  }

  /** Why this request is refused, or null when it may pass. */
  private refusal(): string | null {
    const required = this.settings.required;
    for (let i = 0; i < required.length; i++) {
      if (!request.headers.has(required[i])) return `missing header ${required[i]}`;
    }
    const rules = this.settings.deny;
    for (let i = 0; i < rules.length; i++) {
      const value = request.headers.get(rules[i].header);
      if (value != null && rules[i].values.includes(value)) return `${rules[i].header} is on the deny list`;
    }
    return null;
  }
}

registerRootContext((contextId: u32): RootContext => new DenyRoot(contextId), "deny");
