/**
 * Who a limit counts as one client. An IPv4 address is one source; an IPv6 host usually owns a
 * whole /64 (SLAAC, privacy addresses: 2^64 addresses to pick from), so per-source limits and
 * rate limits count every IPv6 address of one /64 together. An IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.1`, what a dual-stack listener sees) is its IPv4 address.
 *
 * @module
 */
import { parseIPv6 } from "../../addr/index.js";

/**
 * The key a limit counts `address` under: the IPv4 address itself, or the /64 of an IPv6
 * address written as `2001:db8:0:1::/64`. Anything else (a Unix path, text that is no address)
 * is its own key.
 *
 * @example
 * ```ts
 * sourceKey("2001:db8::1") === sourceKey("2001:db8::ffff:2")   // true: one /64
 * sourceKey("2001:db8:0:1::1")                                 // "2001:db8:0:1::/64"
 * sourceKey("::ffff:127.0.0.1")                                // "127.0.0.1"
 * ```
 */
export function sourceKey(address: string): string {
  if (!address.includes(":")) return address;
  const zone = address.indexOf("%");
  const b = parseIPv6(zone >= 0 ? address.slice(0, zone) : address);
  if (b === undefined) return address;
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  // the shortest form of the first four groups: trailing zero groups fold into "::"
  while (groups.length > 0 && groups.at(-1) === "0") groups.pop();
  return `${groups.join(":")}::/64`;
}
