/**
 * Name resolution: `getaddrinfo`, `gethostbyname`, `gethostbyaddr`, `getnameinfo`, `getfqdn`,
 * `gethostname`, and `resolveHost` for the socket layers. The only module that imports node:dns;
 * it uses the system resolver only (`dns.lookup` = getaddrinfo, honouring /etc/hosts, and
 * `dns.lookupService` = getnameinfo), never DNS queries of its own.
 *
 * @module
 */
import { promises as dns } from "node:dns";
import { hostname } from "node:os";
import {
  argRangeError,
  argTypeError,
  checkInt,
  herror,
  makeGaiError,
  makeOSError,
  OSError,
  show,
} from "../errors/index.js";
import type { Inet6Address, InetAddress } from "./address.js";
import { normalizeHost } from "./address.js";
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  AI_ADDRCONFIG,
  AI_ALL,
  AI_CANONNAME,
  AI_NUMERICHOST,
  AI_NUMERICSERV,
  AI_PASSIVE,
  AI_V4MAPPED,
  MAX_ADDRESS_LENGTH,
  NI_DGRAM,
  NI_NAMEREQD,
  NI_NUMERICHOST,
  NI_NUMERICSERV,
} from "./constants.js";
import { isIPv4, isIPv6 } from "./inet.js";
import { ifIndexToName, isScopedIPv6, parseNumericHost } from "./numeric.js";
import { getservbyport } from "./services.js";
import { servTuples } from "./servtuples.js";

/**
 * One getaddrinfo result, shaped as Python's: `[family, type, proto, canonname, sockaddr]`.
 * @example `const [family, type, proto, canon, [ip, port]] = (await getaddrinfo("localhost", 80))[0]!;`
 */
export type AddrInfo = [
  family: number,
  type: number,
  proto: number,
  canonname: string,
  sockaddr: InetAddress | Inet6Address,
];

/**
 * Options for waits: an AbortSignal and/or a timeout in milliseconds.
 * @example `await resolveHost("localhost", 0, { timeout: 2000 })`
 */
export interface WaitOptions {
  signal?: AbortSignal;
  timeout?: number;
}

const KNOWN_FLAGS = 0x7ff;
const LOOKUP_HINTS = AI_ADDRCONFIG | AI_V4MAPPED | AI_ALL;

interface Resolved {
  family: 4 | 6;
  address: string;
  scopeId: number;
}
/** Races `p` against opts.timeout / opts.signal; the lookup itself runs on in the thread pool. */
function withDeadline<T>(p: Promise<T>, opts: WaitOptions, op: string, address: string): Promise<T> {
  const { signal, timeout } = opts;
  if (signal === undefined && timeout === undefined) return p;
  if (timeout !== undefined) checkInt("timeout", timeout, 0, 2 ** 31 - 1);
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => finish(() => reject(makeOSError("EINTR", { op, address, hint: "aborted" })));
    const finish = (f: () => void): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      f();
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeout !== undefined) {
      timer = setTimeout(
        () =>
          finish(() =>
            reject(makeOSError("ETIMEDOUT", { op, address, hint: "name resolution took too long" })),
          ),
        timeout,
      );
    }
    p.then(
      (v) => finish(() => resolve(v)),
      (e: unknown) => finish(() => reject(e)),
    );
  });
}

function lookupError(err: unknown, op: string, address: string): OSError {
  const code = (err as { code?: unknown } | null)?.code;
  const c = typeof code === "string" && (code === "ENOTFOUND" || code.startsWith("EAI_")) ? code : "EAI_FAIL";
  return makeGaiError(c, { op, address, cause: err });
}

function checkHostString(host: string, op: string): void {
  if (host.length > MAX_ADDRESS_LENGTH || host.includes("\0") || host === "") {
    throw makeGaiError("EAI_NONAME", {
      op,
      address: show(host),
      hint:
        host === "" ? "the host is empty" : `not a host name (NUL, or over ${MAX_ADDRESS_LENGTH} characters)`,
    });
  }
}

/** True for names in the special-use `.invalid` domain (RFC 6761), answered without a query. */
function isInvalidName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return h === "invalid" || h.endsWith(".invalid");
}

/** The addresses of a host for `family` (0, 2 or 10), as glibc's getaddrinfo finds them. */
async function resolveAll(
  host: string,
  family: number,
  flags: number,
  op: string,
  opts: WaitOptions = {},
): Promise<Resolved[]> {
  checkHostString(host, op);
  const num = parseNumericHost(host, family, flags);
  if (num !== undefined) return [{ family: num.family, address: num.address, scopeId: num.scopeId }];
  if (flags & AI_NUMERICHOST) {
    throw makeGaiError("EAI_NONAME", {
      op,
      address: show(host),
      hint: "AI_NUMERICHOST needs a numeric address",
    });
  }
  if (isInvalidName(host)) {
    // RFC 6761 §6.4: resolvers may answer names under .invalid with NXDOMAIN themselves
    throw makeGaiError("EAI_NONAME", {
      op,
      address: show(host),
      hint: "names under .invalid never exist (RFC 6761)",
    });
  }
  const lookup = dns.lookup(host, {
    all: true,
    verbatim: true,
    family: family === AF_INET ? 4 : family === AF_INET6 ? 6 : 0,
    hints: flags & LOOKUP_HINTS,
  });
  let found: Array<{ address: string; family: number }>;
  try {
    found = await withDeadline(lookup, opts, op, show(host));
  } catch (err) {
    throw err instanceof OSError ? err : lookupError(err, op, show(host));
  }
  if (found.length === 0) throw makeGaiError("EAI_NONAME", { op, address: show(host) });
  return found.map((a) => {
    // Re-format through inet_ntop so names and literals print alike (Node drops scope ids).
    const n = parseNumericHost(a.address.split("%")[0] ?? a.address);
    return { family: n?.family ?? (a.family === 6 ? 6 : 4), address: n?.address ?? a.address, scopeId: 0 };
  });
}

/**
 * Python's `socket.getaddrinfo`: the addresses for a host and service, one entry per address
 * and socket type (`type` 0 gives SOCK_STREAM/6, SOCK_DGRAM/17 and SOCK_RAW/0). A null host is
 * the loopback address, or the wildcard with AI_PASSIVE. Numeric hosts need no lookup. The port
 * may be a number, a numeric string or a service name. `canonname` is set on the first entry with
 * AI_CANONNAME (the name as given, or the numeric text).
 * @throws gaierror (EAI_NONAME, EAI_SERVICE, EAI_FAMILY, EAI_SOCKTYPE, EAI_BADFLAGS, EAI_ADDRFAMILY);
 *   RangeError for ports outside 0..65535 (Python wraps them); TypeError for bad types
 * @example `await getaddrinfo("localhost", 80, AF_INET, SOCK_STREAM) // [[2, 1, 6, "", ["127.0.0.1", 80]]]`
 */
export async function getaddrinfo(
  host: string | null,
  port: string | number | null,
  family = 0,
  type = 0,
  proto = 0,
  flags = 0,
  opts: WaitOptions = {},
): Promise<AddrInfo[]> {
  if (host !== null && host !== undefined && typeof host !== "string")
    throw argTypeError("host", "a string or null", host);
  if (port !== null && port !== undefined && typeof port !== "string" && typeof port !== "number") {
    throw argTypeError("port", "a number, a string or null", port);
  }
  // glibc treats "*" as a null host or service.
  const h = host === "*" ? null : (host ?? null);
  const p = port === "*" ? null : (port ?? null);
  for (const [n, v] of [
    ["family", family],
    ["type", type],
    ["proto", proto],
    ["flags", flags],
  ] as const) {
    checkInt(n, v, -(2 ** 31), 2 ** 31 - 1);
  }
  const op = "getaddrinfo";
  if (h === null && p === null) throw makeGaiError("EAI_NONAME", { op, hint: "give a host or a port" });
  if ((flags & ~KNOWN_FLAGS) !== 0 || flags < 0) throw makeGaiError("EAI_BADFLAGS", { op });
  if (h === null && flags & AI_CANONNAME)
    throw makeGaiError("EAI_BADFLAGS", { op, hint: "AI_CANONNAME needs a host" });
  if (family !== AF_UNSPEC && family !== AF_INET && family !== AF_INET6)
    throw makeGaiError("EAI_FAMILY", { op });
  if (typeof p === "string" && p !== "" && !/^[0-9]+$/.test(p) && flags & AI_NUMERICSERV) {
    throw makeGaiError("EAI_NONAME", { op, address: show(p), hint: "AI_NUMERICSERV needs a numeric port" });
  }
  const servs = servTuples(p, type, proto);
  let addrs: Resolved[];
  if (h === null) {
    const passive = (flags & AI_PASSIVE) !== 0;
    const v4: Resolved = { family: 4, address: passive ? "0.0.0.0" : "127.0.0.1", scopeId: 0 };
    const v6: Resolved = { family: 6, address: passive ? "::" : "::1", scopeId: 0 };
    addrs = family === AF_INET ? [v4] : family === AF_INET6 ? [v6] : passive ? [v4, v6] : [v6, v4];
  } else {
    addrs = await resolveAll(h, family, flags, op, opts);
  }
  const out: AddrInfo[] = [];
  for (const a of addrs) {
    for (const s of servs) {
      const canon = out.length === 0 && flags & AI_CANONNAME ? (h ?? "") : "";
      const sa: InetAddress | Inet6Address =
        a.family === 4 ? [a.address, s.port] : [a.address, s.port, 0, a.scopeId];
      out.push([a.family === 4 ? AF_INET : AF_INET6, s.socktype, s.protocol, canon, sa]);
    }
  }
  return out;
}

/**
 * The address to use for `host` before connect/bind, so traces show IPs: numeric hosts as they
 * are, "" as the wildcard, "<broadcast>" as 255.255.255.255, names by the first lookup result.
 * `family` 2 or 10 restricts the answer; 0 takes whichever comes first.
 * @throws gaierror (EAI_NONAME, EAI_ADDRFAMILY…); TimeoutError/InterruptedError from `opts`
 * @example `await resolveHost("localhost", AF_INET) // { address: "127.0.0.1", family: 4 }`
 */
export async function resolveHost(
  host: string,
  family: 2 | 10 | 0,
  opts: WaitOptions = {},
): Promise<{ address: string; family: 4 | 6 }> {
  if (typeof host !== "string") throw argTypeError("host", "a string", host);
  if (family !== 0 && family !== AF_INET && family !== AF_INET6) {
    throw argRangeError("family", "0, AF_INET (2) or AF_INET6 (10)", family);
  }
  if (host === "" || host === "<broadcast>") {
    const address = normalizeHost(host, family === 0 ? AF_INET : family);
    return { address, family: isIPv4(address) ? 4 : 6 };
  }
  const v4 = isIPv4(host);
  if (v4 || isIPv6(host)) {
    if ((v4 && family === AF_INET6) || (!v4 && family === AF_INET)) {
      throw makeGaiError("EAI_ADDRFAMILY", { op: "getaddrinfo", address: show(host) });
    }
    return { address: host, family: v4 ? 4 : 6 };
  }
  const [first] = await resolveAll(host, family, 0, "getaddrinfo", opts);
  if (first === undefined) throw makeGaiError("EAI_NONAME", { op: "getaddrinfo", address: show(host) });
  const scope = first.scopeId ? `%${first.scopeId}` : "";
  return { address: first.address + scope, family: first.family };
}

/**
 * Every address of `host` for `family` (0, AF_INET or AF_INET6), in the resolver's order: what
 * a connect that tries each address in turn needs. Numeric hosts, "" and "<broadcast>" give one.
 * @throws gaierror (EAI_NONAME, EAI_ADDRFAMILY…); TimeoutError/InterruptedError from `opts`
 * @example `await resolveHostAll("localhost", 0) // [{ address: "::1", family: 6 }, { address: "127.0.0.1", family: 4 }]`
 */
export async function resolveHostAll(
  host: string,
  family: 2 | 10 | 0,
  opts: WaitOptions = {},
): Promise<Array<{ address: string; family: 4 | 6 }>> {
  if (typeof host !== "string") throw argTypeError("host", "a string", host);
  if (host === "" || host === "<broadcast>" || isIPv4(host) || isIPv6(host)) {
    return [await resolveHost(host, family, opts)];
  }
  const found = await resolveAll(host, family, 0, "getaddrinfo", opts);
  return found.map((a) => ({ address: a.address + (a.scopeId ? `%${a.scopeId}` : ""), family: a.family }));
}

/**
 * The host name of this machine (`os.hostname()`).
 * @example `gethostname() // "vm"`
 */
export function gethostname(): string {
  return hostname();
}

/**
 * The IPv4 address of a host ("" is 0.0.0.0, "<broadcast>" 255.255.255.255).
 * @throws gaierror (EAI_NONAME for unknown names, EAI_ADDRFAMILY for IPv6 literals)
 * @example `await gethostbyname("localhost") // "127.0.0.1"`
 */
export async function gethostbyname(name: string): Promise<string> {
  return (await resolveHost(name, AF_INET)).address;
}

/**
 * `[name, aliases, ipv4addrs]` for a host. The name is the one given (Node's resolver does not
 * report canonical names or aliases, so aliases is always empty).
 * @throws gaierror for unknown names
 * @example `await gethostbyname_ex("localhost") // ["localhost", [], ["127.0.0.1"]]`
 */
export async function gethostbyname_ex(name: string): Promise<[string, string[], string[]]> {
  if (typeof name !== "string") throw argTypeError("name", "a string", name);
  if (name === "" || name === "<broadcast>" || isIPv4(name)) {
    const ip = await gethostbyname(name);
    return [ip, [], [ip]];
  }
  const addrs = await resolveAll(name, AF_INET, 0, "gethostbyname_ex");
  return [name, [], [...new Set(addrs.map((a) => a.address))]];
}

/**
 * `[hostname, aliases, [ip]]` for an address (or a name, resolved first), by reverse lookup in
 * /etc/hosts (and the system resolver).
 * @throws herror "Unknown host" (errno 1, code HOST_NOT_FOUND) when the address has no name; gaierror for bad names
 * @example `await gethostbyaddr("127.0.0.1") // ["localhost", [], ["127.0.0.1"]]`
 */
export async function gethostbyaddr(ip: string): Promise<[string, string[], string[]]> {
  if (typeof ip !== "string") throw argTypeError("ip", "a string", ip);
  const { address } = await resolveHost(ip, 0);
  try {
    const { hostname: name } = await dns.lookupService(address, 0);
    return [name, [], [address]];
  } catch (err) {
    throw new herror(
      "HOST_NOT_FOUND",
      { op: "gethostbyaddr", address, cause: err, hint: "no name is registered for that address" },
      1,
      "Unknown host",
    );
  }
}

/**
 * Python's `socket.getnameinfo`: `[host, service]` for a numeric socket address. NI_NUMERICHOST
 * gives the address text, NI_NUMERICSERV the port number, NI_DGRAM looks the service up as UDP,
 * NI_NAMEREQD fails when the address has no name (otherwise the numeric text is returned).
 * @throws gaierror EAI_NONAME for a non-numeric host (or no name with NI_NAMEREQD); TypeError/RangeError for bad sockaddrs
 * @example `await getnameinfo(["127.0.0.1", 80], 0) // ["localhost", "http"]`
 */
export async function getnameinfo(
  sockaddr: InetAddress | Inet6Address,
  flags: number,
): Promise<[string, string]> {
  const bad = () => argTypeError("sockaddr", "[host, port] or [host, port, flowinfo, scope_id]", sockaddr);
  if (!Array.isArray(sockaddr) || (sockaddr.length !== 2 && sockaddr.length !== 4)) throw bad();
  const [host, port] = sockaddr;
  if (typeof host !== "string") throw bad();
  checkInt("port", port, 0, 0xffff);
  if (sockaddr.length === 4) checkInt("flowinfo", sockaddr[2], 0, 0xfffff);
  const scopeId = sockaddr.length === 4 ? checkInt("scope_id", sockaddr[3], 0, 0xffffffff) : 0;
  checkInt("flags", flags, 0, 0x7fffffff);
  const op = "getnameinfo";
  checkHostString(host, op);
  const num = parseNumericHost(host);
  if (num === undefined)
    throw makeGaiError("EAI_NONAME", { op, address: show(host), hint: "give a numeric address" });
  if (num.family === 4 && sockaddr.length === 4) {
    throw new OSError("EINVAL", { op, address: host, hint: "IPv4 sockaddr must be [host, port]" });
  }
  let text = num.address;
  if (num.family === 6 && scopeId !== 0) {
    text += `%${(isScopedIPv6(num.bytes, false) ? ifIndexToName(scopeId) : undefined) ?? scopeId}`;
  }
  let name = text;
  if ((flags & NI_NUMERICHOST) === 0) {
    try {
      name = (await dns.lookupService(text, 0)).hostname;
    } catch (err) {
      if (flags & NI_NAMEREQD) throw makeGaiError("EAI_NONAME", { op, address: text, cause: err });
    }
  }
  let service = String(port);
  if ((flags & NI_NUMERICSERV) === 0) {
    try {
      service = getservbyport(port, flags & NI_DGRAM ? "udp" : "tcp");
    } catch {
      service = String(port);
    }
  }
  return [name, service];
}

/**
 * Python's `socket.getfqdn`: the fully qualified name of `name` (default: this host) — the first
 * of the reverse-lookup name and aliases that contains a dot, else the reverse-lookup name; the
 * name itself if the lookup fails.
 * @example `await getfqdn("127.0.0.1") // "localhost"`
 */
export async function getfqdn(name = ""): Promise<string> {
  if (typeof name !== "string") throw argTypeError("name", "a string", name);
  name = name.trim();
  if (name === "" || name === "0.0.0.0" || name === "::") name = gethostname();
  try {
    const [hn, aliases] = await gethostbyaddr(name);
    return [hn, ...aliases].find((n) => n.includes(".")) ?? hn;
  } catch (err) {
    if (err instanceof OSError) return name;
    throw err;
  }
}
