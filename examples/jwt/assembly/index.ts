// jwt: lets a request through only with a valid HS256 JSON Web Token (RFC 7519) in
// `Authorization: Bearer <token>`: the signature under the configured secret, `exp` and `nbf`
// against the host's clock (with some leeway), and `iss` when one is configured. Chosen
// claims are copied into request headers for the upstream; a client cannot set those headers
// itself (they are removed first). Anything else gets 401 with `WWW-Authenticate: Bearer`
// (RFC 6750) saying why.
//
//   configuration: {
//     "secret": "a long random string",
//     "issuer": "https://auth.example.com",
//     "claims_to_headers": {"sub": "x-jwt-sub", "role": "x-jwt-role"},
//     "leeway_seconds": 30
//   }
import {
  RootContext, HttpContext, HeadersAction, Header, registerRootContext, request, sendLocalReply, config, safeJson, log, time,
  base64url, hmacSha256, constantTimeEqual, lowerAscii, trimOws, JsonNumber, StringPairs, decimal,
} from "proxy-wasm-as/sdk";

@json
class JwtConfig {
  /** The HMAC key, as text (its UTF-8 bytes). */
  secret: string = "";
  /** When set, the token's `iss` must be exactly this. */
  @optional issuer: string | null = null;
  /** Claim name → request header that carries its value upstream (names[i] → values[i]). */
  @optional claims_to_headers: StringPairs = new StringPairs();
  /** Clock skew tolerated for `exp` and `nbf`. */
  @optional leeway_seconds: u32 = 0;
  /** Whether the upstream still gets the Authorization header. */
  @optional forward_token: bool = false;
}

/** The JOSE header: only `alg` matters here (HS256 and nothing else: never "none"). */
@json
class JoseHeader {
  alg: string = "";
  @optional typ: string | null = null;
  @optional kid: string | null = null;
}

/**
 * The registered claims checked here; others are the issuer's business (ignored when parsing).
 * `exp` and `nbf` are NumericDates (seconds, fractions allowed), kept as written and compared
 * exactly in milliseconds: no float parsing. "" when absent.
 */
@json
class RegisteredClaims {
  @optional exp: JsonNumber = new JsonNumber();
  @optional nbf: JsonNumber = new JsonNumber();
  @optional iss: string | null = null;
}

class JwtRoot extends RootContext {
  settings: JwtConfig = new JwtConfig();
  key: ArrayBuffer = new ArrayBuffer(0);

  onConfigure(configurationSize: u32): bool {
    const parsed = config.parse<JwtConfig>(config.plugin());
    if (parsed == null) return false; // config.parse logged the path and position of what is wrong
    // RFC 7518 §3.2: an HS256 key must be at least as long as the hash (32 bytes).
    this.key = String.UTF8.encode(parsed.secret);
    if (this.key.byteLength < 32) {
      log.error("jwt: secret is " + decimal(this.key.byteLength) + " bytes; HS256 needs at least 32");
      return false;
    }
    this.settings = parsed;
    log.info("jwt: HS256, " + decimal(parsed.claims_to_headers.names.length) + " claims to headers");
    return true;
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new JwtCheck(contextId, this);
  }
}

class JwtCheck extends HttpContext {
  owner: JwtRoot;

  constructor(contextId: u32, root: JwtRoot) {
    super(contextId, root);
    this.owner = root;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const settings = this.owner.settings;
    // Only the filter may set the claim headers.
    const headers = settings.claims_to_headers.values;
    for (let i = 0; i < headers.length; i++) request.headers.remove(headers[i]);

    const authorization = request.headers.get("authorization");
    if (authorization == null) return this.deny("", "no bearer token");
    // The scheme is case-insensitive (RFC 7235 §2.1).
    if (authorization.length < 7 || lowerAscii(authorization.substring(0, 7)) != "bearer ") {
      return this.deny("invalid_request", "the Authorization header is not a Bearer token");
    }
    const problem = this.check(trimOws(authorization.substring(7, authorization.length)));
    if (problem != null) return this.deny("invalid_token", problem);
    if (!settings.forward_token) request.headers.remove("authorization");
    return HeadersAction.Continue;
  }

  /** null when `token` is valid (its claims then copied to headers), else why not. */
  check(token: string): string | null {
    const dot = token.indexOf(".");
    const lastDot = token.indexOf(".", dot + 1); // (-1 too without a first)
    if (lastDot < 0 || token.indexOf(".", lastDot + 1) >= 0) return "the token is not three base64url parts";
    const headerText = base64url.decodeText(token.substring(0, dot));
    const payloadText = base64url.decodeText(token.substring(dot + 1, lastDot));
    const signature = base64url.decode(token.substring(lastDot + 1, token.length));
    if (headerText == null || payloadText == null || signature == null) return "the token is not base64url";

    const header = safeJson.tryParse<JoseHeader>(headerText, true);
    if (header == null) return "bad token header: " + safeJson.error();
    if (header.alg != "HS256") return "the token is signed with " + header.alg + "; only HS256 is accepted";
    // The signature covers the first two parts exactly as they were sent.
    const expected = hmacSha256(this.owner.key, String.UTF8.encode(token.substring(0, lastDot)));
    if (!constantTimeEqual(expected, signature)) return "the signature does not match";

    const claims = safeJson.tryParse<RegisteredClaims>(payloadText, true);
    if (claims == null) return "bad token claims: " + safeJson.error();
    // In milliseconds: expired when now ≥ exp + leeway, not valid yet when now < nbf - leeway.
    const now = <i64>time.nowMillis();
    const leeway = <i64>this.owner.settings.leeway_seconds * 1000;
    if (claims.exp.text.length > 0 && claims.exp.ceil(3) <= now - leeway) return "the token has expired";
    if (claims.nbf.text.length > 0 && claims.nbf.ceil(3) > now + leeway) return "the token is not valid yet";
    const issuer = this.owner.settings.issuer;
    if (issuer != null && claims.iss != issuer) return "the token is from another issuer";

    this.copyClaims(payloadText);
    return null;
  }

  copyClaims(payloadText: string): void {
    const claims = this.owner.settings.claims_to_headers;
    for (let i = 0; i < claims.names.length; i++) {
      // Strings as they are; numbers, booleans, arrays and objects as JSON text.
      const value = safeJson.member(payloadText, claims.names[i]);
      if (value != null) request.headers.replace(claims.values[i], value);
    }
  }

  deny(error: string, description: string): HeadersAction {
    // RFC 6750 §3: no error code when the request carried no credentials at all.
    let challenge = 'Bearer realm="proxy"';
    if (error.length > 0) challenge += ', error="' + error + '", error_description="' + quotable(description) + '"';
    log.debug("jwt: 401 for " + request.path + ": " + description);
    sendLocalReply(401, description + "\n", [new Header("www-authenticate", challenge)], "wasm_jwt_unauthorized");
    return HeadersAction.StopIteration;
  }
}

/** `text` as RFC 6750 §3 allows inside error_description: printable ASCII but `"` and `\` (`'` and `/` stand in), "?" for the rest. */
function quotable(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c == 0x22 ? "'" : c == 0x5c ? "/" : c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : "?";
  }
  return out;
}

registerRootContext((contextId: u32): RootContext => new JwtRoot(contextId), "jwt");
