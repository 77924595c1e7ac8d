import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { request as send } from "undici";
import { Harness, HeadersAction } from "../../host/testing/index.ts";
import { startEchoUpstream } from "../../host/testing/echo-upstream.ts";
import { exampleConfig, startProxy } from "../../tests/integration/proxy-fixture.ts";

const wasm = join(import.meta.dirname, "../../build/jwt.wasm");
const secret = "a-test-secret-of-at-least-32-bytes!!";
const settings = { secret, issuer: "https://auth.example.com", claims_to_headers: { sub: "x-jwt-sub", role: "x-jwt-role", n: "x-jwt-n" }, leeway_seconds: 5 };
const load = (configuration: object = settings) => Harness.load(wasm, { rootId: "jwt", configuration: JSON.stringify(configuration) });

const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

/** A token signed with `key` (the configured secret unless given), its header and claims as given. */
function token(claims: object, { key = secret, header = { alg: "HS256", typ: "JWT" } as object } = {}) {
  const signed = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${signed}.${createHmac("sha256", key).update(signed).digest("base64url")}`;
}
const valid = () => ({ sub: "ann", role: "admin", n: 7, iss: "https://auth.example.com", exp: now() + 60, nbf: now() - 1, custom: { any: ["shape"] } });

function attempt(h: Harness, authorization?: string, more: Record<string, string> = {}) {
  const s = h.http();
  const headers: Record<string, string> = { ":method": "GET", ":path": "/api", ":authority": "example.com", ...more };
  if (authorization !== undefined) headers.authorization = authorization;
  const action = s.sendRequestHeaders(headers, true);
  return { s, action, challenge: s.localReply ? s.response.header("www-authenticate") : undefined };
}

describe("jwt example", () => {
  it("lets a valid token through with its claims as request headers, and drops the Authorization header", async () => {
    const h = await load();
    const { s, action } = attempt(h, `Bearer ${token(valid())}`);
    expect(action).toBe(HeadersAction.Continue);
    expect(s.localReply).toBeNull();
    expect(s.request.header("x-jwt-sub")).toBe("ann");
    expect(s.request.header("x-jwt-role")).toBe("admin");
    expect(s.request.header("x-jwt-n")).toBe("7");
    expect(s.request.header("authorization")).toBeUndefined();
  });

  it("removes claim headers a client sent itself, whether or not the token carries that claim", async () => {
    const h = await load();
    const { role: _, ...withoutRole } = valid();
    const { s } = attempt(h, `Bearer ${token(withoutRole)}`, { "x-jwt-role": "admin", "x-jwt-sub": "mallory" });
    expect(s.request.header("x-jwt-sub")).toBe("ann");
    expect(s.request.header("x-jwt-role")).toBeUndefined();
  });

  it("answers 401 with a bare Bearer challenge when there is no token", async () => {
    const h = await load();
    const { s, action, challenge } = attempt(h);
    expect(action).toBe(HeadersAction.StopIteration);
    expect(s.localReply).toMatchObject({ status: 401, bodyText: "no bearer token\n", details: "wasm_jwt_unauthorized" });
    expect(challenge).toBe('Bearer realm="proxy"');
    expect(s.request.headersSent).toBe(false);
  });

  it("answers 401 invalid_token saying why, for each way a token can be wrong", async () => {
    const h = await load();
    const late = { ...valid(), exp: "tomorrow" };
    const cases: [string, string][] = [
      [token(valid(), { key: "another-secret-of-at-least-32-bytes!" }), "the signature does not match"],
      [token({ ...valid(), exp: now() - 60 }), "the token has expired"],
      [token({ ...valid(), nbf: now() + 60 }), "the token is not valid yet"],
      [token({ ...valid(), iss: "https://evil.example.com" }), "the token is from another issuer"],
      [token(valid(), { header: { alg: "none" } }), "the token is signed with none; only HS256 is accepted"],
      [token(valid(), { header: { alg: "HS512" } }), "the token is signed with HS512; only HS256 is accepted"],
      [token(valid(), { header: { typ: "JWT" } }), 'bad token header: $: missing field "alg" at line 1 column 1'],
      [token(late), `bad token claims: $.exp: expected a number, found "tomorrow" at line 1 column ${JSON.stringify(late).indexOf('"tomorrow"') + 1}`],
      [token(valid()).split(".").slice(0, 2).join("."), "the token is not three base64url parts"],
      [token(valid()).replace(/\.(.)/, ".*"), "the token is not base64url"],
      [token(valid()) + "xx", "the token is not base64url"],
      [token(valid()) + "x", "the signature does not match"], // 33 bytes of signature
      // The payload truncated: a signature over it that matches, but no JSON object.
      [token(valid()).split(".")[0] + "." + b64url('{"sub": "ann", "ex') + "." + createHmac("sha256", secret).update(token(valid()).split(".")[0] + "." + b64url('{"sub": "ann", "ex')).digest("base64url"),
        "bad token claims: $: expected a closing quote, found end of input at line 1 column 19"],
    ];
    for (const [bad, why] of cases) {
      const { s, challenge } = attempt(h, `Bearer ${bad}`);
      expect(s.localReply?.status, why).toBe(401);
      expect(s.localReply?.bodyText).toBe(`${why}\n`);
      // RFC 6750 §3: no " or \ inside error_description.
      expect(challenge).toBe(`Bearer realm="proxy", error="invalid_token", error_description="${why.replaceAll('"', "'")}"`);
    }
    // The VM survived all of it.
    expect(attempt(h, `Bearer ${token(valid())}`).s.localReply).toBeNull();
    expect(h.logMessages("critical")).toEqual([]);
  });

  it("takes tokens without exp, nbf or iss when no issuer is configured, and tolerates the configured leeway", async () => {
    const h = await load({ secret, leeway_seconds: 30 });
    expect(attempt(h, `Bearer ${token({ sub: "x" })}`).s.localReply).toBeNull();
    expect(attempt(h, `Bearer ${token({ exp: now() - 10 })}`).s.localReply).toBeNull();
    expect(attempt(h, `Bearer ${token({ exp: now() - 60 })}`).s.localReply?.status).toBe(401);
    expect(attempt(h, `Bearer ${token({ nbf: now() + 10 })}`).s.localReply).toBeNull();
    expect(attempt(h, `bearer ${token({ sub: "x" })}`).s.localReply).toBeNull(); // the scheme in any case
  });

  it("answers invalid_request for another authorization scheme", async () => {
    const h = await load();
    const { challenge } = attempt(h, "Basic YWxhZGRpbjpvcGVuc2VzYW1l");
    expect(challenge).toBe('Bearer realm="proxy", error="invalid_request", error_description="the Authorization header is not a Bearer token"');
  });

  it("keeps the Authorization header with forward_token", async () => {
    const h = await load({ secret, forward_token: true });
    const t = token({ sub: "x" });
    expect(attempt(h, `Bearer ${t}`).s.request.header("authorization")).toBe(`Bearer ${t}`);
  });

  it("refuses to start with a short secret, a mistyped field or no secret", async () => {
    await expect(load({ secret: "short" })).rejects.toThrow(/secret is 5 bytes; HS256 needs at least 32/);
    await expect(load({ secret, leeway_seconds: "30" })).rejects.toThrow(/\$\.leeway_seconds: expected an integer from 0 to 4294967295, found "30"/);
    await expect(load({ secret, claim_to_headers: {} })).rejects.toThrow(/\$\.claim_to_headers: unknown field/);
    await expect(load({})).rejects.toThrow(/\$: missing field "secret"/);
  });
});

describe("jwt example through the proxy", () => {
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  beforeAll(async () => (upstream = await startEchoUpstream()));
  afterAll(async () => upstream.close());

  it("answers 401 itself, and passes a valid token's request with the sub header", async () => {
    const p = await startProxy(exampleConfig("jwt", upstream.port));
    try {
      const denied = await send(`${p.url}/api`);
      expect(denied.statusCode).toBe(401);
      expect(denied.headers["www-authenticate"]).toBe('Bearer realm="proxy"');
      await denied.body.text();
      const key = "change-me-to-32-or-more-random-bytes!"; // the secret in envoy.yaml
      const ok = await send(`${p.url}/api`, { headers: { authorization: `Bearer ${token({ sub: "ann", exp: now() + 60 }, { key })}` } });
      expect(ok.statusCode).toBe(200);
      const seen = JSON.parse(await ok.body.text());
      expect(seen.headers["x-jwt-sub"]).toBe("ann");
      expect(seen.headers.authorization).toBeUndefined();
    } finally {
      await p.proxy.stop(1000);
    }
  });
});
