// Socket addresses as Envoy writes them in `source.address`, `destination.address` and
// `upstream.address`: "1.2.3.4:5678", "[::1]:80", "[fe80::1%eth0]:80" (a link-local IPv6
// address with its zone). Parsed into the IP, the zone and the port, with the IP checked.
import { properties } from "./properties";
import { decimal } from "./format";

export class Address {
  constructor(
    /** The IP without brackets or zone: "1.2.3.4", "::1", "fe80::1". */
    public readonly ip: string,
    /** The port, or -1 when the text had none. */
    public readonly port: i32,
    /** 4 or 6. */
    public readonly family: i32,
    /** An IPv6 zone ("eth0" in fe80::1%eth0), else "". */
    public readonly zone: string,
  ) {}

  /** As Envoy writes it: brackets around IPv6, the zone after %, the port after a colon. */
  toString(): string {
    const host = this.zone.length > 0 ? this.ip + "%" + this.zone : this.ip;
    const shown = this.family == 6 && this.port >= 0 ? "[" + host + "]" : host;
    return this.port >= 0 ? shown + ":" + decimal(<u32>this.port) : shown;
  }
}

/** A decimal port 0..65535, or -1. */
function parsePort(text: string): i32 {
  if (text.length == 0 || text.length > 5) return -1;
  let port = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - 0x30;
    if (<u32>c > 9) return -1;
    port = port * 10 + c;
  }
  return port <= 65535 ? port : -1;
}

/** Dotted-quad IPv4: four decimal parts 0..255, no leading zeros (they would read as octal elsewhere). */
export function isIPv4(text: string): bool {
  let parts = 0;
  let value = -1;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c == 0x2e) {
      if (digits == 0 || ++parts > 4) return false;
      value = -1;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value == 0) return false; // a leading zero
      value = (value < 0 ? 0 : value * 10) + (c - 0x30);
      if (++digits > 3 || value > 255) return false;
    } else {
      return false;
    }
  }
  return parts == 4;
}

/** IPv6 text (RFC 4291 §2.2): eight groups of 1–4 hex digits, one "::" standing for one or more zero groups, optionally a dotted IPv4 tail. */
export function isIPv6(text: string): bool {
  const n = text.length;
  if (n < 2) return false;
  let groups = 0;
  let compressed = false;
  let i = 0;
  if (text.startsWith("::")) { compressed = true; i = 2; if (n == 2) return true; }
  else if (text.charCodeAt(0) == 0x3a) return false;
  while (i < n) {
    // One group (or an IPv4 tail) starting at i.
    let j = i;
    while (j < n && isHex(text.charCodeAt(j))) j++;
    if (j < n && text.charCodeAt(j) == 0x2e) {
      if (!isIPv4(text.substring(i))) return false;
      groups += 2;
      i = n;
      break;
    }
    if (j == i || j - i > 4) return false;
    groups++;
    if (j == n) { i = n; break; }
    if (text.charCodeAt(j) != 0x3a) return false;
    if (j + 1 < n && text.charCodeAt(j + 1) == 0x3a) {
      if (compressed) return false; // a second "::"
      compressed = true;
      i = j + 2;
      if (i == n) break;
    } else {
      i = j + 1;
      if (i == n) return false; // a trailing single ":"
    }
  }
  return compressed ? groups <= 7 : groups == 8;
}

// @ts-ignore: decorator
@inline function isHex(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** An IPv6 address with an optional %zone. */
function v6(text: string, port: i32): Address | null {
  const percent = text.indexOf("%");
  const ip = percent < 0 ? text : text.substring(0, percent);
  const zone = percent < 0 ? "" : text.substring(percent + 1);
  if (percent >= 0 && zone.length == 0) return null;
  return isIPv6(ip) ? new Address(ip, port, 6, zone) : null;
}

export namespace address {
  /**
   * "1.2.3.4:5678", "[::1]:80", "[fe80::1%eth0]:80", or an IP alone ("1.2.3.4", "::1"), into
   * its parts; null for anything else (a hostname, a pipe path, a bad IP or port).
   */
  export function parse(text: string): Address | null {
    if (text.startsWith("[")) {
      const close = text.indexOf("]");
      if (close < 0) return null;
      const rest = text.substring(close + 1);
      let port = -1;
      if (rest.length > 0) {
        if (!rest.startsWith(":")) return null;
        port = parsePort(rest.substring(1));
        if (port < 0) return null;
      }
      return v6(text.substring(1, close), port);
    }
    const colon = text.indexOf(":");
    if (colon < 0) return isIPv4(text) ? new Address(text, -1, 4, "") : null;
    if (text.indexOf(":", colon + 1) >= 0) return v6(text, -1); // bare IPv6, no port
    const port = parsePort(text.substring(colon + 1));
    const ip = text.substring(0, colon);
    return port >= 0 && isIPv4(ip) ? new Address(ip, port, 4, "") : null;
  }

  /** The downstream client's address (`source.address`), or null when the host has none that parses. */
  export function source(): Address | null {
    return fromProperty("source");
  }

  /** The address the client connected to (`destination.address`), or null. */
  export function destination(): Address | null {
    return fromProperty("destination");
  }
}

function fromProperty(area: string): Address | null {
  const text = properties.getString([area, "address"]);
  return text == null ? null : address.parse(text);
}
