/**
 * The one address parser of the `sockit` command line: hosts, ports (a number or a service
 * name), `HOST:PORT` with IPv6 in brackets (`[::1]:80`), and Unix socket paths. Every command
 * (connect, listen, relay, scan, serve, the service clients) parses with these functions, so
 * every mistake is reported the same way:
 *
 *     WHAT must be WANTED, got GIVEN (WHY)
 *
 * e.g. `PORT must be 1..65535, got 70000 (out of range: ports are 0..65535)`. Pure (nothing is
 * resolved here: a service name is looked up when the address is used); throws {@link UsageError}
 * and nothing else, whatever the text.
 *
 * @module
 */
import { ipFamily } from "../../addr/inet.js";
import { MAX_UNIX_PATH } from "../../limits.js";
import { UsageError } from "../exit.js";

/**
 * The longest host name accepted (DNS: 253 characters; 255 leaves room for an IPv6 zone).
 * @example `parseHost("h".repeat(MAX_HOST_LENGTH + 1)) // UsageError`
 */
export const MAX_HOST_LENGTH = 255;

/** A service name as /etc/services spells them (`http`, `domain`, `sql*net` is not one). */
const SERVICE_NAME = /^[A-Za-z][A-Za-z0-9+._-]{0,31}$/;

/**
 * How text is shown in messages: JSON-quoted, cut at 60 characters; "nothing" when empty.
 * @example `shown("a b") // "\"a b\""`
 */
export function shown(text: string): string {
  if (text === "") return "nothing";
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/**
 * The one message format: `WHAT must be WANTED, got GIVEN (WHY)`.
 * @example `addressError("PORT", "1..65535", "0", "out of range").message // "PORT must be 1..65535, got 0 (out of range)"`
 */
export function addressError(what: string, wanted: string, given: string, why?: string): UsageError {
  return new UsageError(`${what} must be ${wanted}, got ${given}${why === undefined ? "" : ` (${why})`}`);
}

/**
 * A port: a number 1..65535 (0 too when `zero`: listening, it picks a free port; leading zeros
 * allowed) or a service name (returned as text: it is looked up when connecting, and an unknown
 * name exits 2). `what` names it in messages.
 *
 * @example
 * ```ts
 * parsePort("8080");       // 8080
 * parsePort("http");       // "http"
 * parsePort("0", true);    // 0
 * parsePort("0");          // UsageError: PORT must be 1..65535, got 0 (out of range; …)
 * ```
 */
export function parsePort(text: string, zero = false, what = "PORT"): number | string {
  return portOf(text, zero, what, true);
}

/**
 * A port that must be a number (scan's PORTS, serve's `--port`, info's `--service`): as
 * {@link parsePort} without service names; messages ask for "an integer".
 * @example `parsePortNumber("22", false, "-p PORT") // 22`
 */
export function parsePortNumber(text: string, zero = false, what = "PORT"): number {
  return portOf(text, zero, what, false) as number;
}

function portOf(text: string, zero: boolean, what: string, names: boolean): number | string {
  const min = zero ? 0 : 1;
  if (typeof text === "string" && /^\d{1,5}$/.test(text)) {
    const n = Number(text);
    if (n > 65535 || n < min) {
      const why =
        n === 0
          ? "out of range; port 0 can only be used to listen (it picks a free port)"
          : "out of range: ports are 0..65535";
      throw addressError(what, names ? `${min}..65535` : `an integer ${min}..65535`, text, why);
    }
    return n;
  }
  if (names && typeof text === "string" && SERVICE_NAME.test(text)) return text;
  const wanted = names ? "a port number or a service name" : `an integer ${min}..65535`;
  const given = typeof text === "string" ? shown(text) : typeof text;
  throw addressError(what, wanted, given, text === "" ? "bad port: missing port" : "bad port");
}

/**
 * A host: a name or an address, IPv6 with or without brackets (`[::1]` → `::1`), an IPv6 zone
 * allowed (`fe80::1%eth0`). Rejects what no resolver could take: empty, longer than
 * {@link MAX_HOST_LENGTH}, blanks, NUL, slashes, stray brackets, a zone on a non-IPv6 host.
 *
 * @example `parseHost("[::1]") // "::1"`
 */
export function parseHost(text: string, what = "HOST"): string {
  if (typeof text !== "string") throw addressError(what, "a host name or an address", typeof text);
  const h = /^\[([^\]]*)\]$/.exec(text)?.[1] ?? text;
  const bad = (why: string) => addressError(what, "a host name or an address", shown(text), why);
  if (h.length === 0) throw bad("no host");
  if (h.length > MAX_HOST_LENGTH) throw bad(`bad host: longer than ${MAX_HOST_LENGTH} characters`);
  if (/[\s\0/\\[\]]/.test(h)) throw bad("bad host: no blanks, slashes or brackets in a host");
  if (h.includes("%") && !h.includes(":")) throw bad("bad host: a %zone needs an IPv6 address");
  return h;
}

/**
 * What {@link parseHostPort} accepts beyond `HOST:PORT`.
 * @example `parseHostPort("0", { hostOptional: true, zero: true }) // { host: "", port: 0 }`
 */
export interface HostPortRules {
  /** Names the port in messages (default "port"). */
  readonly what?: string | undefined;
  /** Port 0 is allowed (listening). */
  readonly zero?: boolean | undefined;
  /** `PORT` alone (no colon) means host "" (listening: every interface). */
  readonly hostOptional?: boolean | undefined;
  /** `HOST` alone (or a bare IPv6 address) means this port. */
  readonly defaultPort?: number | undefined;
}

/**
 * `HOST:PORT`, `[IPv6]:PORT`, and, as the rules allow, `PORT` alone (host "") or `HOST` alone / a
 * bare IPv6 address (the default port). The port is returned as written by {@link parsePort}
 * (a number or a service name).
 *
 * @example
 * ```ts
 * parseHostPort("[::1]:80");                        // { host: "::1", port: 80 }
 * parseHostPort("8080", { hostOptional: true });    // { host: "", port: 8080 }
 * parseHostPort("::1", { defaultPort: 7 });         // { host: "::1", port: 7 }
 * ```
 */
export function parseHostPort(
  text: string,
  rules: HostPortRules = {},
): { host: string; port: number | string } {
  const form = rules.hostOptional
    ? "[HOST:]PORT"
    : rules.defaultPort !== undefined
      ? "HOST[:PORT]"
      : "HOST:PORT";
  const wanted = rules.hostOptional ? "a port, or a host and a port" : "a host and a port";
  const port1 = (p: string) => parsePort(p, rules.zero === true, rules.what ?? "port");
  if (typeof text !== "string") throw addressError(form, wanted, typeof text);
  const syntax = () =>
    addressError(form, wanted, shown(text), `expected ${form}; IPv6 in brackets: [::1]:80`);
  if (rules.hostOptional && /^[^:[\]]*$/.test(text)) return { host: "", port: port1(text) };
  let host: string;
  let port: string | undefined;
  const bracket = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracket) [, host = "", port] = bracket;
  else if (/[[\]]/.test(text)) throw syntax();
  else {
    const colons = (text.match(/:/g) ?? []).length;
    if (colons > 1 && rules.defaultPort !== undefined)
      host = text; // a bare IPv6 address
    else if (colons !== 1) {
      if (colons === 0 && rules.defaultPort !== undefined) host = text;
      else throw syntax();
    } else {
      const i = text.indexOf(":");
      host = text.slice(0, i);
      port = text.slice(i + 1);
    }
  }
  if (port === undefined && rules.defaultPort === undefined) throw syntax();
  if (host === "" && !rules.hostOptional)
    throw addressError(form, wanted, shown(text), "no host: missing host");
  const h = host === "" ? "" : parseHost(host, "host");
  return { host: h, port: port === undefined ? rules.defaultPort! : port1(port) };
}

/**
 * A Unix socket path: not empty, no NUL, at most {@link MAX_UNIX_PATH} bytes (sun_path).
 * @example `parseUnixPath("/tmp/s.sock") // "/tmp/s.sock"`
 */
export function parseUnixPath(text: string, what = "PATH"): string {
  const wanted = "a socket path";
  if (typeof text !== "string") throw addressError(what, wanted, typeof text);
  if (text === "") throw addressError(what, wanted, "nothing", "missing socket path; PATH must not be empty");
  if (text.includes("\0")) throw addressError(what, wanted, shown(text), "a path cannot contain NUL");
  if (Buffer.byteLength(text) > MAX_UNIX_PATH)
    throw addressError(what, wanted, shown(text), `a Unix path has at most ${MAX_UNIX_PATH} bytes`);
  return text;
}

/**
 * `-4`/`-6` against a literal address: the family must agree.
 * @example `checkFamily("::1", true, false) // throws UsageError`
 */
export function checkFamily(host: string, v4: boolean, v6: boolean): void {
  if (v4 && v6) throw new UsageError("-4 and -6 exclude each other");
  const fam = ipFamily(host.replace(/%.*$/, ""));
  if ((v4 && fam === 6) || (v6 && fam === 4)) {
    throw new UsageError(`${host} is an IPv${fam} address but -${v4 ? 4 : 6} was given`);
  }
}
