/**
 * Service names ⇄ port numbers: `getservbyname`/`getservbyport`, read from `/etc/services`
 * (once, lazily, synchronously) with a built-in table of the common services as a fallback.
 *
 * @module
 */
import { readFileSync, statSync } from "node:fs";
import { argTypeError, checkInt, OSError } from "../errors/index.js";

/**
 * One `/etc/services` entry: the official name, its aliases, the port and the protocol.
 * @example `const e: ServiceEntry = { name: "http", aliases: ["www"], port: 80, proto: "tcp" };`
 */
export interface ServiceEntry {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly port: number;
  readonly proto: string;
}

/**
 * Entries in file order; lookups take the first match, as glibc does.
 * @example `const t: ServiceTable = parseServices("echo 7/tcp\necho 7/udp");`
 */
export type ServiceTable = readonly ServiceEntry[];

/**
 * Files larger than this are ignored (the built-in table is used instead).
 * @example `statSync(path).size <= MAX_SERVICES_FILE_SIZE`
 */
export const MAX_SERVICES_FILE_SIZE = 4 * 1024 * 1024;

/** Lines longer than this are skipped by the parser. */
const MAX_LINE = 4096;

const NAME = /^[\x21-\x7e]+$/;
const PORT_PROTO = /^([0-9]{1,5})\/([\x21-\x7e]+)$/;

/**
 * Parses `/etc/services` text ("name port/proto aliases... # comment"); malformed lines are skipped.
 * @example `parseServices("http 80/tcp www # web")[0] // { name: "http", aliases: ["www"], port: 80, proto: "tcp" }`
 */
export function parseServices(text: string): ServiceTable {
  const out: ServiceEntry[] = [];
  for (const raw of text.split("\n")) {
    if (raw.length > MAX_LINE) continue;
    const hash = raw.indexOf("#");
    const fields = (hash >= 0 ? raw.slice(0, hash) : raw).split(/[ \t\r\f\v]+/).filter((f) => f !== "");
    const [name, portProto, ...aliases] = fields;
    if (name === undefined || portProto === undefined || !NAME.test(name)) continue;
    const m = PORT_PROTO.exec(portProto);
    if (m === null) continue;
    const port = Number(m[1]);
    if (port > 0xffff) continue;
    out.push({ name, aliases: aliases.filter((a) => NAME.test(a)), port, proto: m[2] ?? "" });
  }
  return out;
}

/**
 * The common services (as Debian's netbase lists them, plus irc 194/tcp), used when
 * /etc/services is missing or lacks the entry.
 * @example `BUILTIN_SERVICES.find((e) => e.name === "ssh")?.port // 22`
 */
export const BUILTIN_SERVICES: ServiceTable = parseServices(`
echo 7/tcp
echo 7/udp
discard 9/tcp sink null
discard 9/udp sink null
daytime 13/tcp
daytime 13/udp
qotd 17/tcp quote
chargen 19/tcp ttytst source
chargen 19/udp ttytst source
ftp-data 20/tcp
ftp 21/tcp
ssh 22/tcp
telnet 23/tcp
smtp 25/tcp mail
time 37/tcp timserver
time 37/udp timserver
whois 43/tcp nicname
domain 53/tcp
domain 53/udp
tftp 69/udp
finger 79/tcp
http 80/tcp www
pop3 110/tcp pop-3
sunrpc 111/tcp portmapper
sunrpc 111/udp portmapper
nntp 119/tcp readnews untp
ntp 123/udp
imap2 143/tcp imap
snmp 161/tcp
snmp 161/udp
irc 194/tcp
ldap 389/tcp
https 443/tcp
https 443/udp
submission 587/tcp
imaps 993/tcp
pop3s 995/tcp
socks 1080/tcp
ircd 6667/tcp
ircs-u 6697/tcp
http-alt 8080/tcp webcache
`);

let cached: ServiceTable | undefined;

/**
 * The system table: `/etc/services` parsed once and cached (empty if missing, unreadable or
 * larger than {@link MAX_SERVICES_FILE_SIZE}).
 * @example `systemServices().length > 0`
 */
export function systemServices(path = "/etc/services"): ServiceTable {
  if (cached !== undefined && path === "/etc/services") return cached;
  let table: ServiceTable = [];
  try {
    if (statSync(path).size <= MAX_SERVICES_FILE_SIZE) table = parseServices(readFileSync(path, "latin1"));
  } catch {
    table = [];
  }
  if (path === "/etc/services") cached = table;
  return table;
}

function findByName(table: ServiceTable, name: string, proto: string | undefined): ServiceEntry | undefined {
  return table.find(
    (e) => (proto === undefined || e.proto === proto) && (e.name === name || e.aliases.includes(name)),
  );
}

function findByPort(table: ServiceTable, port: number, proto: string | undefined): ServiceEntry | undefined {
  return table.find((e) => e.port === port && (proto === undefined || e.proto === proto));
}

function checkProto(proto: unknown): string | undefined {
  if (proto !== undefined && typeof proto !== "string") throw argTypeError("proto", "a string", proto);
  return proto;
}

/**
 * Looks a service name (or alias) up: its port for `proto` ("tcp", "udp"…), or for the first
 * protocol listed when `proto` is omitted. Case-sensitive, as in C.
 * @throws OSError (ENOENT) "service/proto not found"; TypeError for non-strings
 * @example `getservbyname("http", "tcp") // 80`
 */
export function getservbyname(name: string, proto?: string): number {
  if (typeof name !== "string") throw argTypeError("name", "a string", name);
  const p = checkProto(proto);
  const e = findByName(systemServices(), name, p) ?? findByName(BUILTIN_SERVICES, name, p);
  if (e === undefined) {
    throw new OSError(
      "ENOENT",
      { op: "getservbyname", address: `${name.slice(0, 64)}/${p ?? "*"}`, hint: "see /etc/services" },
      undefined,
      "service/proto not found",
    );
  }
  return e.port;
}

/**
 * Looks a port up: the official service name for `proto`, or for the first protocol listed.
 * @throws OSError (ENOENT) "port/proto not found"; RangeError outside 0..65535; TypeError for bad types
 * @example `getservbyport(53, "udp") // "domain"`
 */
export function getservbyport(port: number, proto?: string): string {
  checkInt("port", port, 0, 0xffff);
  const p = checkProto(proto);
  const e = findByPort(systemServices(), port, p) ?? findByPort(BUILTIN_SERVICES, port, p);
  if (e === undefined) {
    throw new OSError(
      "ENOENT",
      { op: "getservbyport", address: `${port}/${p ?? "*"}`, hint: "see /etc/services" },
      undefined,
      "port/proto not found",
    );
  }
  return e.name;
}
