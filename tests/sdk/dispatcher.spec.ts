// The dispatcher: root choice (a pure function), then the whole path from the ABI exports to
// the author's objects, against the mock host of as-pect.config.js.
import { chooseRoot } from "../../sdk/dispatcher";
import { HeadersAction, HttpContext, RootContext, registerRootContext } from "../../sdk";
import { proxy_set_property } from "../../sdk/abi/imports";
import { properties } from "../../sdk/properties";
import {
  proxy_on_context_create, proxy_on_delete, proxy_on_done, proxy_on_request_headers, proxy_on_vm_start,
} from "../../sdk/abi/exports";
// The mock host hands values over through the module's allocator.
export { malloc } from "../../sdk/abi/exports";

describe("choosing a root context", () => {
  it("picks the exact root id", () => {
    expect(chooseRoot(["auth", "metrics"], "metrics")).toBe(1);
  });
  it("uses the only registered root whatever the host asks for", () => {
    expect(chooseRoot(["my_root"], "")).toBe(0);
    expect(chooseRoot(["my_root"], "something_else")).toBe(0);
  });
  it("falls back to the root registered as the default (\"\")", () => {
    expect(chooseRoot(["auth", ""], "unknown")).toBe(1);
  });
  it("finds none among several named roots when nothing matches", () => {
    expect(chooseRoot(["auth", "metrics"], "unknown")).toBe(-1);
    expect(chooseRoot([], "any")).toBe(-1);
  });
});

const events = new Array<string>();

class NamedRoot extends RootContext {
  onVmStart(vmConfigurationSize: u32): bool {
    events.push(`vm_start ${this.rootId} ${this.contextId}`);
    return true;
  }
  // Root "a" filters HTTP streams; root "b" lets them pass.
  newHttpContext(contextId: u32): HttpContext | null {
    return this.rootId == "a" ? new Stream(contextId, this) : null;
  }
}

class Stream extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    events.push(`request_headers ${this.contextId} ${(<NamedRoot>this.root).rootId} ${headerCount}`);
    return HeadersAction.StopIteration;
  }
  onDelete(): void {
    events.push(`delete ${this.contextId}`);
  }
}

registerRootContext((contextId: u32): RootContext => new NamedRoot(contextId), "a");
registerRootContext((contextId: u32): RootContext => new NamedRoot(contextId), "b");

function setProperty(path: string, value: string): void {
  const k = String.UTF8.encode(path), v = String.UTF8.encode(value);
  proxy_set_property(changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength);
}

function lastLog(): string {
  const text = properties.getString(["test", "last_log"]);
  return text != null ? text : "";
}

describe("dispatching through the ABI exports", () => {
  it("creates the root the plugin_root_id property names, with that rootId", () => {
    setProperty("plugin_root_id", "b");
    proxy_on_context_create(1, 0);
    expect(proxy_on_vm_start(1, 0)).toBe(true);
    setProperty("plugin_root_id", "a");
    proxy_on_context_create(2, 0);
    expect(proxy_on_vm_start(2, 0)).toBe(true);
    expect(events.join("; ")).toBe("vm_start b 1; vm_start a 2");
  });

  it("logs the requested id and the registered names when nothing matches", () => {
    setProperty("plugin_root_id", "nomatch");
    proxy_on_context_create(3, 0);
    expect(lastLog()).toBe('4 no root context for root id "nomatch"; registered: "a", "b"');
    expect(proxy_on_vm_start(3, 0)).toBe(false);
  });

  it("gives a stream its context on the first callback, and releases it on delete", () => {
    events.length = 0;
    proxy_on_context_create(10, 2);
    expect(proxy_on_request_headers(10, 5, false)).toBe(HeadersAction.StopIteration);
    expect(proxy_on_done(10)).toBe(true);
    proxy_on_delete(10);
    // Released: a late callback for the id reaches nothing and continues.
    expect(proxy_on_request_headers(10, 5, false)).toBe(HeadersAction.Continue);
    expect(events.join("; ")).toBe("request_headers 10 a 5; delete 10");
  });

  it("lets a stream pass when the root makes no context, saying so at debug level", () => {
    proxy_on_context_create(11, 1);
    expect(proxy_on_request_headers(11, 1, true)).toBe(HeadersAction.Continue);
    expect(lastLog()).toBe("1 context 11: newHttpContext gave null, the stream passes through this filter untouched");
  });

  it("sends nothing below the host's log level", () => {
    setProperty("test\0log_level", "2"); // info
    setProperty("test\0last_log", "");
    proxy_on_context_create(12, 1);
    proxy_on_request_headers(12, 1, true); // the debug message of the previous test
    expect(lastLog()).toBe("");
    setProperty("test\0log_level", "0");
  });
});
