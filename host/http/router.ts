// Route selection as Envoy's router does it: the virtual host by the request's authority,
// then the first route whose match fits the path; prefix_rewrite applied to the path.
import type { RouteConfig, VirtualHostConfig } from "../config/model.ts";

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

/** The path sent upstream: the matched prefix (or whole path) replaced by prefix_rewrite. */
export function rewritePath(route: RouteConfig, path: string): string {
  if (route.prefixRewrite === null) return path;
  if ("prefix" in route.match) return route.prefixRewrite + path.slice(route.match.prefix.length);
  if ("path" in route.match) return route.prefixRewrite + path.slice(route.match.path.length);
  return path;
}
