/**
 * The address syntax of `sockit relay` (socat-style), parsed without touching the network:
 *
 * | form | meaning |
 * |---|---|
 * | `tcp:HOST:PORT` (`tcp4:`, `tcp6:`) | connect; IPv6 hosts in brackets: `tcp:[::1]:80` |
 * | `tcp-listen:PORT[,fork]`, `tcp-listen:HOST:PORT[,fork]` | accept (all interfaces by default) |
 * | `udp:HOST:PORT` (`udp4:`, `udp6:`) | a UDP socket sending to HOST:PORT |
 * | `udp-listen:PORT`, `udp-listen:HOST:PORT` | a bound UDP socket; replies go to the last sender |
 * | `unix:PATH` | connect to a Unix stream socket |
 * | `unix-listen:PATH[,fork]` | accept on a Unix stream socket |
 * | `stdio` or `-` | this process's stdin and stdout |
 * | `exec:CMD` | a child process (CMD split like a shell, no shell): its stdin and stdout |
 *
 * Keywords are case-insensitive (`TCP-LISTEN:80` works). Options follow a comma; the only one is
 * `fork` (listening stream addresses). A Unix path therefore cannot contain a comma; `exec:` takes
 * everything after the colon as the command (commas included).
 *
 * @module
 */
import { UsageError } from "../exit.js";
import { shellwords } from "../listen/shellwords.js";
import { parseHostPort, parseUnixPath } from "../session/address.js";

/** The longest address text accepted (longer is a UsageError). */
export const MAX_RELAY_ADDRESS = 4096;

/** IP networks as `dial`/`listen` name them. */
export type TcpNetwork = "tcp" | "tcp4" | "tcp6";
/** Datagram networks as `dial`/`listenPacket` name them. */
export type UdpNetwork = "udp" | "udp4" | "udp6";

/**
 * The TLS options of a `tls:` / `tls-listen:` address (socat's OPENSSL forms): files are read
 * when the relay starts.
 * @example `const t: RelayTLS = { cafile: "ca.pem", verify: true }`
 */
export interface RelayTLS {
  readonly cert?: string;
  readonly key?: string;
  readonly cafile?: string;
  readonly servername?: string;
  /** Verify the peer (client default true; `verify=0` turns it off, with a warning). */
  readonly verify: boolean;
}

/** One side of a relay, as parsed. */
export type RelayAddress =
  | {
      readonly kind: "tcp";
      readonly network: TcpNetwork;
      readonly host: string;
      readonly port: string;
      readonly tls?: RelayTLS;
    }
  | {
      readonly kind: "tcp-listen";
      readonly network: TcpNetwork;
      readonly host: string;
      readonly port: string;
      readonly fork: boolean;
      readonly tls?: RelayTLS;
    }
  | { readonly kind: "udp"; readonly network: UdpNetwork; readonly host: string; readonly port: string }
  | {
      readonly kind: "udp-listen";
      readonly network: UdpNetwork;
      readonly host: string;
      readonly port: string;
    }
  | { readonly kind: "unix"; readonly path: string }
  | { readonly kind: "unix-listen"; readonly path: string; readonly fork: boolean }
  | { readonly kind: "stdio" }
  | { readonly kind: "exec"; readonly command: string; readonly argv: readonly string[] };

function show(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

function bad(text: string, why: string): UsageError {
  return new UsageError(`relay address ${show(text)}: ${why}`);
}

/** `f()`, its UsageError said about the address `text`. */
function about<T>(text: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof UsageError) throw bad(text, err.message);
    throw err;
  }
}

/** `HOST:PORT` (host required) or, when listening, also `PORT` alone (host "" = any). */
function hostPort(
  text: string,
  rest: string,
  network: string,
  listening: boolean,
): { host: string; port: string } {
  const hp = about(text, () => parseHostPort(rest, { hostOptional: listening, zero: listening }));
  if (network.endsWith("4") && hp.host.includes(":")) throw bad(text, `${network} needs an IPv4 host`);
  return { host: hp.host, port: String(hp.port) };
}

function options(text: string, opts: readonly string[], allowFork: boolean): { fork: boolean } {
  let fork = false;
  for (const o of opts) {
    const name = o.toLowerCase();
    if (name === "fork" && allowFork) fork = true;
    else if (name === "fork") throw bad(text, "fork is only for tcp-listen and unix-listen");
    else throw bad(text, `unknown option ${show(o)} (the only option is fork)`);
  }
  return { fork };
}

function unixPath(text: string, path: string): string {
  return about(text, () => parseUnixPath(path, "the socket path"));
}

const TCP: Record<string, TcpNetwork> = { tcp: "tcp", tcp4: "tcp4", tcp6: "tcp6" };
const TLS_TYPES = new Set(["tls", "openssl", "ssl"]);

/** `tls:` / `tls-listen:` options: fork, cert=, key=, cafile= (ca=), servername=, verify=0|1. */
function tlsOptions(
  text: string,
  opts: readonly string[],
  listening: boolean,
): { fork: boolean; tls: RelayTLS } {
  let fork = false;
  const t: { -readonly [K in keyof RelayTLS]: RelayTLS[K] } = { verify: !listening };
  for (const o of opts) {
    const eq = o.indexOf("=");
    const name = (eq < 0 ? o : o.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? "" : o.slice(eq + 1);
    if (name === "fork" && listening) fork = true;
    else if (name === "cert" && value !== "") t.cert = value;
    else if (name === "key" && value !== "") t.key = value;
    else if ((name === "cafile" || name === "ca") && value !== "") t.cafile = value;
    else if (name === "servername" && value !== "" && !listening) t.servername = value;
    else if (name === "verify" && (value === "0" || value === "1")) t.verify = value === "1";
    else
      throw bad(
        text,
        `unknown or incomplete option ${show(o)} (tls options: cert=FILE, key=FILE, cafile=FILE, servername=NAME, verify=0|1${listening ? ", fork" : ""})`,
      );
  }
  if (listening && (t.cert === undefined || t.key === undefined))
    throw bad(text, "tls-listen needs cert=FILE,key=FILE");
  if ((t.cert === undefined) !== (t.key === undefined)) throw bad(text, "give both cert=FILE and key=FILE");
  return { fork, tls: t };
}
const UDP: Record<string, UdpNetwork> = { udp: "udp", udp4: "udp4", udp6: "udp6" };

/**
 * Parses one relay address (pure; throws {@link UsageError} and nothing else, whatever the text).
 *
 * @example
 * ```ts
 * parseRelayAddress("tcp-listen:8080,fork"); // { kind: "tcp-listen", network: "tcp", host: "", port: "8080", fork: true }
 * parseRelayAddress("tcp:[::1]:80");         // { kind: "tcp", network: "tcp", host: "::1", port: "80" }
 * parseRelayAddress("exec:cat -u");           // { kind: "exec", command: "cat -u", argv: ["cat", "-u"] }
 * parseRelayAddress("-");                     // { kind: "stdio" }
 * ```
 */
export function parseRelayAddress(text: string): RelayAddress {
  if (typeof text !== "string") throw new UsageError("a relay address must be a string");
  if (text.length > MAX_RELAY_ADDRESS) throw bad(text, `longer than ${MAX_RELAY_ADDRESS} characters`);
  if (text === "-" || text.toLowerCase() === "stdio") return { kind: "stdio" };
  const colon = text.indexOf(":");
  if (colon < 0) {
    throw bad(
      text,
      "expected TYPE:…, one of tcp, tcp-listen, udp, udp-listen, unix, unix-listen, exec, stdio",
    );
  }
  const type = text.slice(0, colon).toLowerCase();
  const body = text.slice(colon + 1);
  if (type === "exec") {
    const argv = shellwords(body);
    if (argv.length === 0 || argv[0] === "") throw bad(text, "exec needs a command");
    return { kind: "exec", command: body, argv };
  }
  const [rest = "", ...opts] = body.split(",");
  const listen = type.endsWith("-listen");
  const base = listen ? type.slice(0, -"-listen".length) : type === "unix-connect" ? "unix" : type;
  if (TLS_TYPES.has(base)) {
    const { fork, tls } = tlsOptions(text, opts, listen);
    const hp = hostPort(text, rest, "tcp", listen);
    return listen
      ? { kind: "tcp-listen", network: "tcp", host: hp.host, port: hp.port, fork, tls }
      : { kind: "tcp", network: "tcp", ...hp, tls };
  }
  const tcp = TCP[base];
  const udp = UDP[base];
  if (tcp !== undefined) {
    const { fork } = options(text, opts, listen);
    const hp = hostPort(text, rest, tcp, listen);
    return listen
      ? { kind: "tcp-listen", network: tcp, host: hp.host, port: hp.port, fork }
      : { kind: "tcp", network: tcp, ...hp };
  }
  if (udp !== undefined) {
    options(text, opts, false);
    const hp = hostPort(text, rest, udp, listen);
    return { kind: listen ? "udp-listen" : "udp", network: udp, ...hp };
  }
  if (base === "unix") {
    const { fork } = options(text, opts, listen);
    const path = unixPath(text, rest);
    return listen ? { kind: "unix-listen", path, fork } : { kind: "unix", path };
  }
  throw bad(
    text,
    `unknown type ${show(type)}; use tcp, tcp-listen, udp, udp-listen, unix, unix-listen, exec or stdio`,
  );
}

/**
 * Formats an address back into the relay syntax (for messages; `parseRelayAddress` accepts it).
 * @example `formatRelayAddress({ kind: "tcp", network: "tcp", host: "::1", port: "80" }) // "tcp:[::1]:80"`
 */
export function formatRelayAddress(a: RelayAddress): string {
  const hp = (host: string, port: string) =>
    host === "" ? port : host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  switch (a.kind) {
    case "tcp":
      return `${a.tls ? "tls" : a.network}:${hp(a.host, a.port)}`;
    case "udp":
      return `${a.network}:${hp(a.host, a.port)}`;
    case "tcp-listen":
      return `${a.tls ? "tls" : a.network}-listen:${hp(a.host, a.port)}${a.fork ? ",fork" : ""}`;
    case "udp-listen":
      return `${a.network}-listen:${hp(a.host, a.port)}`;
    case "unix":
      return `unix:${a.path}`;
    case "unix-listen":
      return `unix-listen:${a.path}${a.fork ? ",fork" : ""}`;
    case "stdio":
      return "stdio";
    case "exec":
      return `exec:${a.command}`;
  }
}

/** True for the addresses that wait for a peer (tcp-listen, udp-listen, unix-listen). */
export function isListening(a: RelayAddress): boolean {
  return a.kind === "tcp-listen" || a.kind === "udp-listen" || a.kind === "unix-listen";
}

/** What `relay ADDR1 ADDR2` will do: which side accepts repeatedly (fork) and which is opened per relay. */
export interface RelayPlan {
  readonly first: RelayAddress;
  readonly second: RelayAddress;
  /** 0 or 1 when that address has `,fork` (it accepts repeatedly); undefined otherwise. */
  readonly forkSide: 0 | 1 | undefined;
}

/**
 * Checks the pair (pure; throws UsageError): at most one `,fork`, and with fork the other side
 * must be something that can be opened again for every connection (not a listener, not stdio).
 *
 * @example `planRelay("tcp-listen:0,fork", "tcp:127.0.0.1:7").forkSide // 0`
 */
export function planRelay(first: string, second: string): RelayPlan {
  const a = parseRelayAddress(first);
  const b = parseRelayAddress(second);
  const forkA = "fork" in a && a.fork;
  const forkB = "fork" in b && b.fork;
  if (forkA && forkB) throw new UsageError("only one relay address may have ,fork");
  const forkSide = forkA ? 0 : forkB ? 1 : undefined;
  if (forkSide !== undefined) {
    const other = forkSide === 0 ? b : a;
    if (isListening(other)) {
      throw new UsageError(
        `with ,fork the other address is opened once per connection; it cannot listen (${formatRelayAddress(other)})`,
      );
    }
    if (other.kind === "stdio") {
      throw new UsageError(
        "with ,fork the other address is opened once per connection; stdio exists only once",
      );
    }
  }
  if (a.kind === "stdio" && b.kind === "stdio") throw new UsageError("relaying stdio to stdio does nothing");
  return { first: a, second: b, forkSide };
}
