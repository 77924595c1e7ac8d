// Envoy configs from other projects, read unchanged: TypedStruct-wrapped typed_config,
// extensions picked by their config's type, direct_response and redirect routes,
// bootstrap_extensions with a WasmService.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseEnvoyConfig } from "../../host/config/envoy.ts";
import { redirectLocation } from "../../host/http/router.ts";
import type { RedirectConfig } from "../../host/config/model.ts";

const example = readFileSync(join(import.meta.dirname, "../../examples/add-header/envoy.yaml"), "utf8");
const parse = (text: string) => parseEnvoyConfig(text, "envoy.yaml");

/** The add-header example's wasm filter entry, as its YAML has it (to wrap it differently). */
const WASM_FILTER = `          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:`;

describe("typed_config wrapped in a TypedStruct", () => {
  for (const wrapper of ["udpa.type.v1.TypedStruct", "xds.type.v3.TypedStruct"]) {
    it(`${wrapper}: the filter's config is its value, the filter the one its type_url names`, () => {
      const wrapped = example.replace(WASM_FILTER, `          - name: my-plugin
            typed_config:
              "@type": type.googleapis.com/${wrapper}
              type_url: type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              value:
                config:`).replace(/\n( {16})(name: add_header|root_id|configuration|vm_config)/g, "\n  $1$2")
        .replace(/\n( {18})("@type": type.googleapis.com\/google.protobuf.StringValue|value: \||\{"request"|vm_id|runtime|code)/g, "\n  $1$2")
        .replace(/\n( {20})(\{"request"|local:)/g, "\n  $1$2");
      const { config, warnings } = parse(wrapped);
      expect(warnings).toEqual([]);
      expect(config.listeners[0].wasmFilters[0]).toMatchObject({
        name: "add_header", rootId: "add_header", vmId: "add_header", code: { filename: "build/add-header.wasm" },
        configuration: expect.stringContaining('"x-added-by": "proxy-wasm-as"'),
      });
    });
  }

  it("an error inside a TypedStruct names the path in the file, through value", () => {
    const wrapped = example.replace(WASM_FILTER, `          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/udpa.type.v1.TypedStruct
              type_url: type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              value:
                config:
                  fail_open: sometimes
                  vm_config: { code: { local: { filename: x.wasm } } }`)
      .replace(/\n {16}name: add_header[\s\S]*?(?=\n {10}- name: envoy\.filters\.http\.router)/, ""); // the old filter's own fields
    expect(() => parse(wrapped)).toThrow(/^envoy\.yaml:\d+: static_resources\.listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.typed_config\.http_filters\[0\]\.typed_config\.value\.config\.fail_open: expected true or false/);
  });

  it("a TypedStruct without a type_url is refused at its own path", () => {
    const wrapped = example.replace(WASM_FILTER, `          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/udpa.type.v1.TypedStruct
              value:
                config:`);
    expect(() => parse(wrapped)).toThrow(/http_filters\[0\]\.typed_config\.type_url: expected the type_url of the message this udpa\.type\.v1\.TypedStruct carries/);
  });

  it("an extension is the one its config's type names, whatever its name (as Envoy looks factories up by type first)", () => {
    const renamed = example.replace("name: envoy.filters.http.wasm", "name: anything").replace("name: envoy.filters.http.router", "name: last");
    const { config } = parse(renamed);
    expect(config.listeners[0].wasmFilters.map((f) => f.name)).toEqual(["add_header"]);
  });
});

describe("direct_response and redirect routes", () => {
  const withRoutes = (routes: string) => example.replace(`              - match: { prefix: "/" }
                route: { cluster: upstream, timeout: 15s }`, routes);

  it("reads direct_response with an inline body, a file body, or none, and redirects with their parts", () => {
    const bodyFile = join(import.meta.dirname, "../../examples/add-header/envoy.yaml");
    const { config } = parse(withRoutes(`              - match: { path: "/health" }
                direct_response: { status: 200, body: { inline_string: "ok\\n" } }
              - match: { prefix: "/file" }
                direct_response: { status: 503, body: { filename: ${bodyFile} } }
              - match: { prefix: "/gone" }
                direct_response: { status: 410 }
              - match: { prefix: "/old/" }
                redirect: { prefix_rewrite: "/new/", response_code: PERMANENT_REDIRECT }
              - match: { prefix: "/" }
                redirect: { https_redirect: true, host_redirect: "example.com", strip_query: true }`));
    if (config.listeners[0].kind !== "http") throw new Error("expected an HTTP listener");
    const actions = config.listeners[0].virtualHosts[0].routes.map((r) => r.action);
    expect(actions[0]).toEqual({ kind: "direct", status: 200, body: new TextEncoder().encode("ok\n") });
    expect(actions[1]).toEqual({ kind: "direct", status: 503, body: new Uint8Array(readFileSync(bodyFile)) });
    expect(actions[2]).toEqual({ kind: "direct", status: 410, body: new Uint8Array(0) });
    expect(actions[3]).toEqual({ kind: "redirect", redirect: { scheme: null, host: null, port: null, path: null, prefixRewrite: "/new/", status: 308, stripQuery: false } });
    expect(actions[4]).toEqual({ kind: "redirect", redirect: { scheme: "https", host: "example.com", port: null, path: null, prefixRewrite: null, status: 301, stripQuery: true } });
  });

  it("refuses a route with two actions, a status out of range, and an unknown redirect code", () => {
    expect(() => parse(withRoutes(`              - match: { prefix: "/" }
                route: { cluster: upstream }
                direct_response: { status: 200 }`))).toThrow(/routes\[0\]: expected a route with exactly one action/);
    expect(() => parse(withRoutes(`              - match: { prefix: "/" }
                direct_response: { status: 99 }`))).toThrow(/direct_response\.status: expected an HTTP status from 200 to 599/);
    expect(() => parse(withRoutes(`              - match: { prefix: "/" }
                redirect: { response_code: MOVED }`))).toThrow(/redirect\.response_code: expected one of MOVED_PERMANENTLY, FOUND/);
  });

  it("builds a redirect's Location as Envoy's newUri does", () => {
    const redirect = (r: Partial<RedirectConfig>): RedirectConfig =>
      ({ scheme: null, host: null, port: null, path: null, prefixRewrite: null, status: 301, stripQuery: false, ...r });
    const request = { scheme: "http", authority: "shop.example:80", path: "/old/a?x=1" };
    const prefix = { prefix: "/old/" };
    expect(redirectLocation(redirect({ scheme: "https" }), prefix, request)).toBe("https://shop.example/old/a?x=1"); // :80 is wrong for https
    expect(redirectLocation(redirect({}), prefix, request)).toBe("http://shop.example:80/old/a?x=1");
    expect(redirectLocation(redirect({ port: 8443 }), prefix, request)).toBe("http://shop.example:8443/old/a?x=1");
    expect(redirectLocation(redirect({ host: "other.example" }), prefix, request)).toBe("http://other.example/old/a?x=1");
    expect(redirectLocation(redirect({ prefixRewrite: "/new/" }), prefix, request)).toBe("http://shop.example:80/new/a?x=1");
    expect(redirectLocation(redirect({ path: "/landing" }), prefix, request)).toBe("http://shop.example:80/landing?x=1");
    expect(redirectLocation(redirect({ path: "/landing?y=2", stripQuery: true }), prefix, request)).toBe("http://shop.example:80/landing?y=2");
    expect(redirectLocation(redirect({ stripQuery: true }), prefix, request)).toBe("http://shop.example:80/old/a");
    expect(redirectLocation(redirect({ scheme: "https" }), prefix, { ...request, authority: "[::1]:80" })).toBe("https://[::1]/old/a?x=1");
  });
});

describe("bootstrap_extensions", () => {
  const service = (typedConfig: string) => `${example}
bootstrap_extensions:
- name: envoy.bootstrap.wasm
  typed_config:
${typedConfig}`;

  it("reads a WasmService (envoy.bootstrap.wasm) into a service with its plugin config", () => {
    const { config, warnings } = parse(service(`    "@type": type.googleapis.com/envoy.extensions.wasm.v3.WasmService
    singleton: true
    config:
      name: refresher
      root_id: refresher
      configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: "every 1s" }
      vm_config:
        vm_id: shared_vm
        runtime: envoy.wasm.runtime.v8
        code: { local: { filename: build/add-header.wasm } }`));
    expect(warnings).toEqual([]);
    expect(config.services).toEqual([expect.objectContaining({
      name: "refresher", rootId: "refresher", vmId: "shared_vm", configuration: "every 1s", singleton: true, code: { filename: "build/add-header.wasm" },
    })]);
  });

  it("reads a WasmService wrapped in a TypedStruct; warns about another bootstrap extension and runs without it", () => {
    const wrapped = parse(service(`    "@type": type.googleapis.com/xds.type.v3.TypedStruct
    type_url: type.googleapis.com/envoy.extensions.wasm.v3.WasmService
    value:
      config:
        root_id: refresher
        vm_config: { code: { local: { filename: build/add-header.wasm } } }`));
    expect(wrapped.config.services).toMatchObject([{ rootId: "refresher", singleton: false }]);
    const other = parse(service(`    "@type": type.googleapis.com/envoy.extensions.network.socket_interface.v3.DefaultSocketInterface`).replace("name: envoy.bootstrap.wasm", "name: envoy.extensions.network.socket_interface.default_socket_interface"));
    expect(other.config.services).toEqual([]);
    expect(other.warnings).toEqual([expect.stringMatching(/bootstrap_extensions\[0\]: bootstrap extension .*DefaultSocketInterface.* is not supported by this host; ignored/)]);
  });
});
