/**
 * CIDR blocks for `sockit listen --allow/--deny`: parsing user input (IPv4 and IPv6, a bare
 * address is a single host) and matching peer addresses. IPv4 blocks also match IPv4-mapped
 * IPv6 peers (`::ffff:127.0.0.1`, what a dual-stack listener on `::` reports for an IPv4 client).
 *
 * @module
 */
import { isIPv4, parseIPv6 } from "../addr/inet.js";
import { UsageError } from "./exit.js";

/** The longest CIDR text accepted (a full IPv6 address with an embedded IPv4 and /128 fits). */
export const MAX_CIDR_LENGTH = 64;

/**
 * A parsed CIDR block. `bytes` is always 16 bytes (IPv4 blocks are stored IPv4-mapped,
 * `::ffff:a.b.c.d`, with `bits` = prefix + 96); host bits are zero.
 *
 * @example `parseCidr("10.0.0.0/8") // { family: 4, prefix: 8, bits: 104, text: "10.0.0.0/8", … }`
 */
export interface Cidr {
  /** 4 or 6: how the block was written. */
  readonly family: 4 | 6;
  /** The prefix length as written (0..32 for IPv4, 0..128 for IPv6). */
  readonly prefix: number;
  /** The prefix length over the 16-byte form. */
  readonly bits: number;
  /** The network address, 16 bytes, host bits cleared. */
  readonly bytes: Uint8Array;
  /** The canonical text: the network address and the prefix ("10.0.0.0/8", "fe80::/10"). */
  readonly text: string;
}

const DIGITS = /^\d{1,3}$/;

function mapped(v4: string): Uint8Array {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  const parts = v4.split(".");
  for (let i = 0; i < 4; i++) out[12 + i] = Number(parts[i]);
  return out;
}

/**
 * An address string as 16 bytes (IPv4 as IPv4-mapped), or undefined if it is not an IP address.
 * A `%zone` suffix is ignored.
 *
 * @example `addressBytes("127.0.0.1")?.[15] // 1`
 */
export function addressBytes(address: string): Uint8Array | undefined {
  if (typeof address !== "string" || address.length > MAX_CIDR_LENGTH) return undefined;
  if (isIPv4(address)) return mapped(address);
  const pct = address.indexOf("%");
  const bare = pct >= 0 ? address.slice(0, pct) : address;
  const b = parseIPv6(bare);
  return b === undefined ? undefined : new Uint8Array(b);
}

function mask(bytes: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

function format(family: 4 | 6, b: Uint8Array, prefix: number): string {
  if (family === 4) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}/${prefix}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // the longest run of two or more zero groups becomes "::" (RFC 5952)
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  const text =
    best < 0 ? hex.join(":") : `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
  return `${text}/${prefix}`;
}

function bad(text: string, why: string): UsageError {
  const shown = text.length > MAX_CIDR_LENGTH ? `${text.slice(0, MAX_CIDR_LENGTH)}…` : text;
  return new UsageError(
    `bad CIDR ${JSON.stringify(shown)}: ${why} (use ADDRESS/PREFIX like 10.0.0.0/8 or fe80::/10, or one address)`,
  );
}

/**
 * Parses `ADDRESS/PREFIX` or a bare address (a single host: /32 or /128). Host bits set in
 * the address are cleared ("10.1.2.3/8" is 10.0.0.0/8), as `ipaddress.ip_network(strict=False)`.
 * @throws UsageError for anything else (exit code 1)
 * @example `parseCidr("::1").text // "::1/128"`
 */
export function parseCidr(text: string): Cidr {
  if (typeof text !== "string" || text.length === 0) throw bad(String(text), "empty");
  if (text.length > MAX_CIDR_LENGTH) throw bad(text, `longer than ${MAX_CIDR_LENGTH} characters`);
  const slash = text.indexOf("/");
  const addr = slash < 0 ? text : text.slice(0, slash);
  const v4 = isIPv4(addr);
  const v6 = !v4 && !addr.includes("%") && parseIPv6(addr) !== undefined;
  if (!v4 && !v6) throw bad(text, "not an IPv4 or IPv6 address");
  const family = v4 ? 4 : 6;
  const max = v4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!DIGITS.test(p) || (p.length > 1 && p.startsWith("0"))) throw bad(text, "the prefix is not a number");
    prefix = Number(p);
    if (prefix > max) throw bad(text, `the prefix must be 0..${max}`);
  }
  const bits = v4 ? prefix + 96 : prefix;
  const bytes = mask(addressBytes(addr)!, bits);
  return { family, prefix, bits, bytes, text: format(family, bytes, prefix) };
}

/**
 * True if `address` (an IP address string) is inside the block. An IPv4 block matches both
 * `10.1.2.3` and `::ffff:10.1.2.3`; a non-IP address (a Unix peer, "") matches nothing.
 * @example `cidrContains(parseCidr("127.0.0.0/8"), "::ffff:127.0.0.1") // true`
 */
export function cidrContains(block: Cidr, address: string): boolean {
  const b = addressBytes(address);
  if (b === undefined) return false;
  const m = mask(b, block.bits);
  for (let i = 0; i < 16; i++) if (m[i] !== block.bytes[i]) return false;
  return true;
}

/** What {@link AccessPolicy.check} decided, and why. */
export type AccessDecision = { readonly ok: true } | { readonly ok: false; readonly why: string };

/**
 * `--allow` / `--deny` together: a peer matching any deny block is refused (deny wins); when
 * allow blocks are given, a peer must match one of them; with no blocks everyone is allowed.
 *
 * @example
 * ```ts
 * const p = new AccessPolicy(["127.0.0.1/32"].map(parseCidr), []);
 * p.check("::1") // { ok: false, why: "not in --allow 127.0.0.1/32" }
 * ```
 */
export class AccessPolicy {
  readonly allow: readonly Cidr[];
  readonly deny: readonly Cidr[];

  constructor(allow: readonly Cidr[], deny: readonly Cidr[]) {
    this.allow = allow;
    this.deny = deny;
  }

  /** True when neither list has a block (every peer is allowed). */
  get open(): boolean {
    return this.allow.length === 0 && this.deny.length === 0;
  }

  /** Decides for one peer address. */
  check(address: string): AccessDecision {
    const denied = this.deny.find((c) => cidrContains(c, address));
    if (denied) return { ok: false, why: `matches --deny ${denied.text}` };
    if (this.allow.length === 0 || this.allow.some((c) => cidrContains(c, address))) return { ok: true };
    return { ok: false, why: `not in --allow ${this.allow.map((c) => c.text).join(", ")}` };
  }
}
