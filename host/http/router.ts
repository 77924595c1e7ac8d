// Route selection as Envoy's router does it: the virtual host by the request's authority,
// then the first route whose match fits the path; prefix_rewrite applied to the path; the
// Location of a redirect route built from the request as Envoy builds it.
import type { RedirectConfig, RouteConfig, RouteMatch, VirtualHostConfig } from "../config/model.ts";

function domainMatches(domain: string, host: string): boolean {
  if (domain === "*") return true;
  if (domain.startsWith("*")) return host.endsWith(domain.slice(1));
  if (domain.endsWith("*")) return host.startsWith(domain.slice(0, -1));
  return host === domain;
}

export function selectVirtualHost(hosts: VirtualHostConfig[], authority: string): VirtualHostConfig | null {
  const host = authority.toLowerCase();
  const withoutPort = host.replace(/:\d+$/, "");
  // Exact domains win over wildcards, as in Envoy.
  return hosts.find((vh) => vh.domains.includes(host) || vh.domains.includes(withoutPort)) ??
    hosts.find((vh) => vh.domains.some((d) => d !== "*" && (domainMatches(d, host) || domainMatches(d, withoutPort)))) ??
    hosts.find((vh) => vh.domains.includes("*")) ?? null;
}

export function selectRoute(routes: RouteConfig[], path: string): RouteConfig | null {
  const pathOnly = path.split("?")[0];
  return routes.find((r) =>
    "prefix" in r.match ? path.startsWith(r.match.prefix) :
    "path" in r.match ? pathOnly === r.match.path :
    r.match.regex.test(pathOnly)) ?? null;
}

/** The path with the matched prefix (or whole path) replaced by `rewrite` (null: unchanged). */
export function rewritePath(match: RouteMatch, rewrite: string | null, path: string): string {
  if (rewrite === null) return path;
  if ("prefix" in match) return rewrite + path.slice(match.prefix.length);
  if ("path" in match) return rewrite + path.slice(match.path.length);
  return path;
}

/**
 * A redirect's Location, as Envoy's Http::Utility::newUri makes it: the scheme (the
 * redirect's, else the request's x-forwarded-proto or :scheme), the host (the redirect's,
 * else the request's, without a port the new port replaces or the new scheme makes wrong),
 * the port, the path (path_redirect, keeping the request's query unless it has its own; or
 * prefix_rewrite) and strip_query.
 */
export function redirectLocation(redirect: RedirectConfig, match: RouteMatch, request: { scheme: string; authority: string; path: string }): string {
  const requestProtocol = request.scheme;
  const scheme = redirect.scheme ?? requestProtocol;
  const port = redirect.port === null ? "" : `:${redirect.port}`;
  let host = redirect.host;
  if (host === null) {
    host = request.authority;
    const end = host.startsWith("[") ? (host.lastIndexOf("]:") < 0 ? -1 : host.lastIndexOf("]:") + 1) : host.lastIndexOf(":");
    if (end >= 0) {
      const requestPort = host.slice(end);
      const remove = port !== "" || (scheme !== requestProtocol &&
        ((requestProtocol === "https" && requestPort === ":443") || (requestProtocol === "http" && requestPort === ":80")));
      if (remove) host = host.slice(0, end);
    }
  }
  let path: string;
  const pathHasQuery = redirect.path !== null && redirect.path.includes("?");
  if (redirect.path !== null) {
    const query = request.path.indexOf("?");
    path = pathHasQuery || query < 0 ? redirect.path : redirect.path + request.path.slice(query);
  } else {
    path = rewritePath(match, redirect.prefixRewrite, request.path);
  }
  if (!path.startsWith("/")) path = `/${path}`;
  if (!pathHasQuery && redirect.stripQuery && path.includes("?")) path = path.slice(0, path.indexOf("?"));
  return `${scheme}://${host}${port}${path}`;
}
