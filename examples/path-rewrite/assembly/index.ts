// path-rewrite: rewrites the request path by the first configured rule that matches, keeps
// the query string, and records the original path in `x-envoy-original-path` as Envoy's own
// prefix_rewrite does.
//
//   configuration: {"rules": [{"from": "/banana/{n}", "to": "/status/{n}"}]}
//
// Pattern syntax: see pattern.ts ({name} one segment, {name*} the rest of the path).
import { RootContext, HttpContext, HeadersAction, LogLevel, registerRootContext, request, config, log } from "proxy-wasm-as/sdk";
import { PathPattern, PathTemplate } from "./pattern";

@json
class RuleConfig {
  @optional
  from: string = "";
  @optional
  to: string = "";
}

@json
class PathRewriteConfig {
  @optional
  rules: RuleConfig[] = [];
}

class Rule {
  constructor(public from: PathPattern, public to: PathTemplate) {}
}

class PathRewriteRoot extends RootContext {
  rules: Rule[] = [];

  onConfigure(configurationSize: u32): bool {
    const parsed = config.parse<PathRewriteConfig>(config.plugin());
    if (parsed == null) return false;
    if (parsed.rules.length == 0) {
      log.error(`path-rewrite: configuration has no rules; expected {"rules": [{"from": "/a/{x}", "to": "/b/{x}"}]}`);
      return false;
    }
    const rules: Rule[] = [];
    const errors: string[] = [];
    for (let i = 0; i < parsed.rules.length; i++) {
      const from = PathPattern.parse(parsed.rules[i].from, errors);
      const to = from != null ? PathTemplate.parse(parsed.rules[i].to, from, errors) : null;
      if (from == null || to == null) {
        log.error(`path-rewrite: rules[${i}]: ${errors.join("; ")}`);
        return false;
      }
      rules.push(new Rule(from, to));
    }
    this.rules = rules;
    return true;
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new PathRewrite(contextId, this);
  }
}

class PathRewrite extends HttpContext {
  rules: Rule[];

  constructor(contextId: u32, root: PathRewriteRoot) {
    super(contextId, root);
    this.rules = root.rules;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const original = request.headers.get(":path");
    if (original == null) return HeadersAction.Continue;
    const query = original.indexOf("?");
    const path = query < 0 ? original : original.substring(0, query);
    for (let i = 0; i < this.rules.length; i++) {
      const captures = this.rules[i].from.match(path);
      if (captures == null) continue;
      const rewritten = this.rules[i].to.render(captures) + (query < 0 ? "" : original.substring(query));
      request.headers.replace(":path", rewritten);
      request.headers.replace("x-envoy-original-path", original);
      if (log.enabled(LogLevel.Debug)) log.debug(`path-rewrite: ${original} -> ${rewritten}`);
      break;
    }
    return HeadersAction.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new PathRewriteRoot(contextId), "path_rewrite");
