import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness, HeadersAction } from "../../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../../build/deny.wasm");
const configuration = JSON.stringify({
  required: ["x-api-key"],
  deny: [{ header: "x-api-key", values: ["revoked-key", "stolen-key"] }, { header: "user-agent", values: ["badbot/1.0"] }],
});

async function request(headers: Record<string, string>, config = configuration) {
  const h = await Harness.load(wasm, { rootId: "deny", configuration: config });
  const s = h.http();
  const action = s.sendRequestHeaders({ ":method": "GET", ":path": "/private", ...headers }, true);
  return { h, s, action };
}

describe("deny example", () => {
  it("lets a request with a good key through untouched", async () => {
    const { s, action } = await request({ "x-api-key": "good-key" });
    expect(action).toBe(HeadersAction.Continue);
    expect(s.localReply).toBeNull();
    expect(s.request.header("x-api-key")).toBe("good-key");
  });

  it("answers 403 with a body naming the missing header", async () => {
    const { s, action } = await request({});
    expect(action).not.toBe(HeadersAction.Continue);
    expect(s.localReply?.status).toBe(403);
    expect(s.localReply?.bodyText).toBe("access denied: missing header x-api-key\n");
    expect(s.localReply?.headers).toContainEqual(["content-type", "text/plain"]);
    expect(s.localReply?.details).toBe("wasm_deny");
  });

  it("answers 403 for a value on the deny list, in any header it names", async () => {
    const revoked = await request({ "x-api-key": "stolen-key" });
    expect(revoked.s.localReply?.status).toBe(403);
    expect(revoked.s.localReply?.bodyText).toContain("x-api-key is on the deny list");
    const bot = await request({ "x-api-key": "good-key", "user-agent": "badbot/1.0" });
    expect(bot.s.localReply?.bodyText).toContain("user-agent is on the deny list");
    expect(bot.h.logMessages("info")).toContain("deny: user-agent is on the deny list");
  });

  it("uses the configured status", async () => {
    const { s } = await request({}, JSON.stringify({ required: ["authorization"], status: 401 }));
    expect(s.localReply?.status).toBe(401);
    expect(s.localReply?.bodyText).toContain("missing header authorization");
  });

  it("refuses a configuration with a rule naming no header, or a status that is not HTTP", async () => {
    await expect(Harness.load(wasm, { rootId: "deny", configuration: '{"deny": [{"values": ["x"]}]}' }))
      .rejects.toThrow(/deny\[0\]\.header is empty/);
    await expect(Harness.load(wasm, { rootId: "deny", configuration: '{"status": 42}' }))
      .rejects.toThrow(/status 42 is not an HTTP status/);
  });
});
