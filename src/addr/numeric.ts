/**
 * Numeric hosts as getaddrinfo sees them (no DNS): IPv4 in every `inet_aton` form ("127.1"),
 * IPv6 with an optional "%scope" (an interface name or index), and the interface
 * name ⇄ index mapping behind scope ids (read from /sys/class/net, as `if_nametoindex` does).
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { makeGaiError, show } from "../errors/index.js";
import { AF_INET, AF_INET6, AI_V4MAPPED } from "./constants.js";
import { inet_ntop, parseInetAton, parseIPv6 } from "./inet.js";

/**
 * A host that needed no lookup.
 * @example `const n: NumericHost | undefined = parseNumericHost("127.1"); n?.address // "127.0.0.1"`
 */
export interface NumericHost {
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** The address as `inet_ntop` prints it ("127.0.0.1" for "127.1"), without a scope. */
  readonly address: string;
  /** The packed address (4 or 16 bytes). */
  readonly bytes: Buffer;
  /** The IPv6 scope id (interface index), 0 if none. */
  readonly scopeId: number;
}

const IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/;
const SYS_NET = "/sys/class/net";

/**
 * The index of a network interface by name (C `if_nametoindex`), or 0 if there is none.
 * @example `ifNameToIndex("lo") // 1`
 */
export function ifNameToIndex(name: string): number {
  if (typeof name !== "string" || !IFNAME.test(name) || name === "." || name === "..") return 0;
  try {
    const n = Number(readFileSync(`${SYS_NET}/${name}/ifindex`, "latin1").trim());
    return Number.isInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/**
 * The name of a network interface by index (C `if_indextoname`), or undefined.
 * @example `ifIndexToName(1) // "lo"`
 */
export function ifIndexToName(index: number): string | undefined {
  if (!Number.isInteger(index) || index <= 0) return undefined;
  try {
    return readdirSync(SYS_NET).find((name) => ifNameToIndex(name) === index);
  } catch {
    return undefined;
  }
}

/**
 * True for link-local unicast (fe80::/10) and link-local multicast (ff02::/16 and its flag
 * variants), and, unless `nodeLocal` is false, node-local multicast (ff01::/16): the addresses
 * whose scope may name an interface (getaddrinfo accepts all three, getnameinfo names the first two).
 * @example `isScopedIPv6(parseIPv6("fe80::1")!) // true`
 */
export function isScopedIPv6(b: Uint8Array, nodeLocal = true): boolean {
  const b0 = b[0] ?? 0;
  const b1 = b[1] ?? 0;
  const mcScope = b0 === 0xff ? b1 & 0x0f : 0;
  return (b0 === 0xfe && (b1 & 0xc0) === 0x80) || mcScope === 2 || (nodeLocal && mcScope === 1);
}

/** glibc `__inet6_scopeid_pton`: interface name (scoped addresses only) or decimal index. */
function scopeIdOf(bytes: Buffer, scope: string): number | undefined {
  if (isScopedIPv6(bytes)) {
    const n = ifNameToIndex(scope);
    if (n !== 0) return n;
  }
  if (/^[0-9]+$/.test(scope)) {
    const n = Number(scope);
    if (n <= 0xffffffff) return n;
  }
  return undefined;
}

function gaiFail(code: string, host: string, hint?: string): never {
  throw makeGaiError(
    code,
    hint === undefined
      ? { op: "getaddrinfo", address: show(host) }
      : { op: "getaddrinfo", address: show(host), hint },
  );
}

function isV4Mapped(b: Uint8Array): boolean {
  return b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}

/**
 * Parses a numeric host as glibc's getaddrinfo does, for `family` (0, AF_INET or AF_INET6):
 * IPv4 by `inet_aton` rules over the whole string, IPv6 with an optional "%scope" (an interface
 * name for link-local addresses, or a decimal index). With AF_INET6 and AI_V4MAPPED an IPv4
 * address becomes "::ffff:a.b.c.d"; with AF_INET an IPv4-mapped IPv6 address becomes IPv4.
 * Returns undefined when the host is a name.
 * @throws gaierror EAI_ADDRFAMILY when the address is of the other family, then EAI_NONAME for an
 *   unknown scope ("fe80::1%nosuch"), in glibc's order
 * @example `parseNumericHost("fe80::1%lo") // { family: 6, address: "fe80::1", scopeId: 1, … }`
 */
export function parseNumericHost(host: string, family = 0, flags = 0): NumericHost | undefined {
  if (typeof host !== "string") return undefined;
  const v4 = parseInetAton(host, true);
  if (v4 !== undefined) {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(v4);
    if (family === AF_INET6) {
      if ((flags & AI_V4MAPPED) === 0) gaiFail("EAI_ADDRFAMILY", host);
      const mapped = Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), bytes]);
      return { family: 6, address: inet_ntop(AF_INET6, mapped), bytes: mapped, scopeId: 0 };
    }
    return { family: 4, address: inet_ntop(AF_INET, bytes), bytes, scopeId: 0 };
  }
  const pct = host.indexOf("%");
  const bytes = parseIPv6(pct >= 0 ? host.slice(0, pct) : host);
  if (bytes === undefined) return undefined;
  let result: NumericHost = { family: 6, address: inet_ntop(AF_INET6, bytes), bytes, scopeId: 0 };
  if (family === AF_INET) {
    if (!isV4Mapped(bytes)) gaiFail("EAI_ADDRFAMILY", host);
    const b4 = Buffer.from(bytes.subarray(12));
    result = { family: 4, address: inet_ntop(AF_INET, b4), bytes: b4, scopeId: 0 };
  }
  if (pct >= 0) {
    const id = scopeIdOf(bytes, host.slice(pct + 1));
    if (id === undefined)
      gaiFail("EAI_NONAME", host, "unknown interface in the scope (after %); see `ip link`");
    if (result.family === 6) result = { ...result, scopeId: id };
  }
  return result;
}
