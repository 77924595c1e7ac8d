// The inspector in a real browser (issue 14): Chromium from Debian's packages, driven by
// playwright-core. The proxy runs in-process with the inspector on (a chain of three HTTP
// filters and a TCP listener); the page is loaded once, requests and a connection go through
// the proxy, and the page must show them as they pass, open one with its timeline, filter by
// path, status and plugin, and pause. Screenshots are left in build/inspector.png and
// build/inspector-timeline.png.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, type Page, chromium } from "playwright-core";
import { request } from "undici";
import type { WasmFilterConfig } from "../../host/config/index.ts";
import { Logger } from "../../host/log.ts";
import { Proxy } from "../../host/server/proxy.ts";
import { startEchoUpstream, startTcpEchoUpstream } from "../../host/testing/echo-upstream.ts";
import { exampleConfig, root } from "./proxy-fixture.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT = join(root, "build/inspector.png");

let browser: Browser;
let page: Page;
let proxy: Proxy;
let closeUpstreams: () => Promise<void>;

/** Without the browser the test fails (it is not skipped), saying what to install. */
const missing = existsSync(CHROMIUM) ? null
  : `the inspector's browser test needs Chromium at ${CHROMIUM} (Debian: apt-get install -y chromium; .ci/run installs it; CHROMIUM_PATH points elsewhere)`;

beforeAll(async () => {
  if (missing) return;
  const http = await startEchoUpstream(0);
  const tcp = await startTcpEchoUpstream(0);
  closeUpstreams = async () => void (await Promise.all([http.close(), tcp.close()]));
  // add_header → deny → trap on one HTTP listener; tcp_deny on a TCP one.
  const config = exampleConfig("add-header", http.port);
  const deny = exampleConfig("deny", http.port).listeners[0].wasmFilters[0];
  const trap: WasmFilterConfig = {
    name: "trap", rootId: "", vmId: "", configuration: "", vmConfiguration: "", failOpen: false, environment: {},
    code: { filename: join(root, "build/test-trap.wasm") },
  };
  config.listeners[0].wasmFilters.push(deny, trap);
  const tcpConfig = exampleConfig("tcp-deny", tcp.port);
  const tcpListener = tcpConfig.listeners[0] as typeof tcpConfig.listeners[0] & { cluster: string };
  tcpListener.cluster = tcpConfig.clusters[0].name = "tcp_upstream";
  config.listeners.push(tcpListener);
  config.clusters.push(tcpConfig.clusters[0]);
  proxy = await Proxy.start(config, new Logger("info", () => {}), { inspect: {} });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.stop(500);
  await closeUpstreams?.();
});

const url = (path: string) => `http://127.0.0.1:${proxy.ports[0]}${path}`;
const KEY = { "x-api-key": "good" };

async function send(path: string, headers: Record<string, string> = KEY): Promise<number> {
  const res = await request(url(path), { headers });
  await res.body.text();
  return res.statusCode;
}

function sendTcp(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(proxy.ports[1], "127.0.0.1", () => socket.end(text));
    let reply = "";
    socket.on("data", (d) => (reply += d));
    socket.on("close", () => resolve(reply));
    socket.on("error", reject);
  });
}

/** The rows the list shows, as their text. */
const rows = () => page.locator("#rows tr").allInnerTexts();
const waitRows = (n: number) => page.waitForFunction((n) => document.querySelectorAll("#rows tr").length === n, n, { timeout: 10_000 });

describe("the inspector page in Chromium", () => {
  it("shows requests and a connection live, opens one with its timeline, filters, pauses", async () => {
    if (missing) throw new Error(missing);
    await page.goto(`http://127.0.0.1:${proxy.adminPort}/inspector`);
    await page.waitForFunction(() => document.getElementById("state")?.textContent === "live");
    expect(await page.locator("#rows tr").count()).toBe(0);

    // Live: each exchange appears without a reload.
    expect(await send("/hello")).toBe(200);
    await waitRows(1);
    expect(await send("/private", {})).toBe(403);
    expect(await send("/throw")).toBe(503);
    expect(await sendTcp("hello\n")).toBe("hello\n");
    await waitRows(4);
    const texts = await rows();
    expect(texts[0]).toMatch(/TCP/); // newest first
    expect(texts.find((t) => t.includes("/private"))).toMatch(/403[\s\S]*local/);
    expect(texts.find((t) => t.includes("/throw"))).toMatch(/503[\s\S]*trap/);
    expect(texts.find((t) => t.includes("/hello"))).toMatch(/200[\s\S]*add_header → deny → trap/);

    // Open /hello: its headers before and after the filters, and the timeline in order.
    await page.locator("#rows tr", { hasText: "/hello" }).click();
    await expect.poll(() => page.locator("#detail-title").textContent()).toBe("GET /hello");
    const callbacks = await page.locator("#timeline li[data-type=callback]").allInnerTexts();
    const order = callbacks.map((t) => t.replace(/\s+/g, " ").match(/^[\d.]+ (\S+) (on\w+)/)?.slice(1).join(" "));
    expect(order.slice(0, 6)).toEqual([
      "add_header onRequestHeaders", "deny onRequestHeaders", "trap onRequestHeaders",
      "trap onResponseHeaders", "deny onResponseHeaders", "add_header onResponseHeaders",
    ]);
    expect(callbacks[0]).toMatch(/→\s*Continue/);
    expect(callbacks[0]).toMatch(/µs/);
    expect(callbacks[0]).toContain("+ x-added-by: proxy-wasm-as");
    expect(callbacks[5]).toContain("+ x-frame-options: DENY");
    expect(await page.locator("section.side").first().innerText()).toMatch(/1 change\(s\) by the filters[\s\S]*x-added-by: proxy-wasm-as/i);

    // Open /private: the log inside deny's callback, then its local reply.
    await page.locator("#rows tr", { hasText: "/private" }).click();
    await expect.poll(() => page.locator("#detail-title").textContent()).toBe("GET /private");
    const timeline = await page.locator("#timeline").innerText();
    expect(timeline).toMatch(/deny\s+onRequestHeaders[\s\S]*StopIteration[\s\S]*deny: missing header x-api-key[\s\S]*local reply\s*403/);

    // Filter by path, by status, by plugin.
    await page.fill("#path-filter", "priv");
    await waitRows(1);
    expect((await rows())[0]).toContain("/private");
    await page.fill("#path-filter", "");
    await page.fill("#status-filter", "5xx");
    await waitRows(1);
    expect((await rows())[0]).toContain("/throw");
    await page.fill("#status-filter", "");
    await page.selectOption("#plugin-filter", "tcp_deny");
    await waitRows(1);
    expect((await rows())[0]).toContain("TCP");
    await page.selectOption("#plugin-filter", "");
    await waitRows(4);

    // Pause: what passes meanwhile waits, and appears on resume.
    await page.click("#pause");
    expect(await page.locator("#state").textContent()).toBe("paused");
    expect(await send("/while-paused")).toBe(200);
    await page.waitForFunction(() => document.getElementById("count")!.textContent!.includes("waiting"));
    expect(await page.locator("#rows tr").count()).toBe(4);
    await page.click("#pause");
    await waitRows(5);
    expect((await rows())[0]).toContain("/while-paused");

    // The trap, opened: the author's source line.
    await page.locator("#rows tr", { hasText: "/throw" }).click();
    await expect.poll(() => page.locator("#detail-title").textContent()).toBe("GET /throw");
    expect(await page.locator("#timeline li.trap").innerText()).toMatch(/tests\/filters\/trap\/index\.ts:\d+:\d+/);

    // And the TCP connection, with its data callbacks.
    await page.locator("#rows tr", { hasText: "TCP" }).click();
    await expect.poll(() => page.locator("#detail-title").textContent()).toMatch(/^TCP /);
    const tcp = await page.locator("#timeline").innerText();
    expect(tcp).toMatch(/onNewConnection[\s\S]*onDownstreamData[\s\S]*Continue[\s\S]*onUpstreamData/);

    await page.locator("#rows tr", { hasText: "/hello" }).click();
    await expect.poll(() => page.locator("#detail-title").textContent()).toBe("GET /hello");
    await page.screenshot({ path: SCREENSHOT });
    await page.locator("#timeline").scrollIntoViewIfNeeded();
    await page.screenshot({ path: SCREENSHOT.replace(".png", "-timeline.png") });
  }, 60_000);
});
