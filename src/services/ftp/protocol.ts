/**
 * FTP's wire formats, sans I/O (RFC 959, RFC 2428, RFC 3659, draft-bryan-ftpext-hash): the
 * command-line parser, replies (single and multi-line) and their parser, the PORT/PASV/EPRT/EPSV
 * address forms, and the listing formats (LIST, MLSD/MLST facts, MDTM times). Nothing here
 * touches a socket or the file system.
 *
 * @module
 */

/**
 * The default longest command line (bytes, CRLF excluded); longer: 500 and the session ends.
 * @example `parseCommand("NOOP " + "x".repeat(MAX_COMMAND_LINE)).ok // false`
 */
export const MAX_COMMAND_LINE = 4096;

/**
 * A command line, parsed: the verb upper-cased, the argument as sent (spaces kept).
 *
 * @example `parseCommand("retr a b.txt\r\n") // { ok: true, verb: "RETR", arg: "a b.txt" }`
 */
export type ParsedCommand =
  | { readonly ok: true; readonly verb: string; readonly arg: string }
  | { readonly ok: false; readonly code: 500 | 501; readonly text: string };

/**
 * Drops Telnet commands (IAC sequences) from a control line: clients send IAC IP, IAC DM
 * ("Synch") before ABOR; IAC IAC stands for one 0xFF byte.
 *
 * @example `stripTelnet(Buffer.from([0xff, 0xf4, 0x41])) // <Buffer 41>`
 */
export function stripTelnet(line: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(line.length);
  let n = 0;
  for (let i = 0; i < line.length; i++) {
    const b = line[i]!;
    if (b !== 0xff) {
      out[n++] = b;
      continue;
    }
    const next = line[i + 1];
    if (next === 0xff) {
      out[n++] = 0xff;
      i++;
    } else if (next !== undefined && next >= 0xfb && next <= 0xfe)
      i += 2; // WILL/WONT/DO/DONT opt
    else i++; // IP, DM, AO, …
  }
  return out.subarray(0, n);
}

/**
 * Parses one control line (with or without its CRLF): a verb of 1–8 ASCII letters and digits (a letter first), then an
 * optional single space and the argument. Invalid UTF-8, control characters other than the
 * final CRLF, and malformed verbs are refused (500/501), never thrown.
 *
 * @example `parseCommand("NOOP") // { ok: true, verb: "NOOP", arg: "" }`
 */
export function parseCommand(line: Uint8Array | string): ParsedCommand {
  const bytes = typeof line === "string" ? Buffer.from(line, "utf8") : stripTelnet(line);
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  const body = bytes.subarray(0, end);
  if (body.length > MAX_COMMAND_LINE) return { ok: false, code: 500, text: "Command line too long." };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    return { ok: false, code: 501, text: "Command line is not valid UTF-8." };
  }
  const sp = text.indexOf(" ");
  const verb = (sp < 0 ? text : text.slice(0, sp)).toUpperCase();
  if (!/^[A-Z][A-Z0-9]{0,7}$/.test(verb))
    return { ok: false, code: 500, text: "Syntax error, command unrecognized." };
  const arg = sp < 0 ? "" : text.slice(sp + 1);
  // NUL is refused here for every command; CR/LF inside would split a reply or a path
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(arg))
    return {
      ok: false,
      code: 501,
      text: "Control characters (NUL, CR, LF, …) are not allowed in arguments.",
    };
  return { ok: true, verb, arg };
}

/**
 * Formats a reply: one line `CODE text`, or a multi-line reply (`CODE-first`, the middle lines
 * each indented by a space so none can look like an end line, `CODE last`). CR and LF inside a
 * line split it; nothing a caller passes can forge a second reply.
 *
 * @example `formatReply(211, ["Features:", "SIZE", "End"]) // "211-Features:\r\n SIZE\r\n211 End\r\n"`
 */
export function formatReply(code: number, text: string | readonly string[]): string {
  const lines = (typeof text === "string" ? [text] : text).flatMap((l) => l.split(/\r\n|\r|\n/));
  if (lines.length <= 1) return `${code} ${lines[0] ?? ""}\r\n`;
  const mid = lines.slice(1, -1).map((l) => ` ${l}\r\n`);
  return `${code}-${lines[0]}\r\n${mid.join("")}${code} ${lines.at(-1)}\r\n`;
}

/**
 * A reply as the client reads it: the code and every line's text (codes and separators removed).
 *
 * @example `{ code: 227, lines: ["Entering Passive Mode (127,0,0,1,4,1)."] }`
 */
export interface FtpReply {
  readonly code: number;
  readonly lines: readonly string[];
}

/**
 * Collects the lines of one reply (RFC 959 §4.2): `feed` each line as read; it returns the reply
 * when the end line (`CODE text`, same code as the first `CODE-`) arrives, else undefined. Throws
 * on a first line that is not a reply.
 *
 * @example
 * ```ts
 * const r = new ReplyReader();
 * r.feed("211-Features:"); r.feed(" SIZE");
 * r.feed("211 End"); // { code: 211, lines: ["Features:", " SIZE", "End"] }
 * ```
 */
export class ReplyReader {
  #code: number | undefined;
  #lines: string[] = [];
  /** The maximum number of lines one reply may have. */
  static readonly MAX_LINES = 10_000;

  feed(raw: string): FtpReply | undefined {
    const line = raw.replace(/\r?\n$/, "");
    const m = /^(\d{3})([ -])(.*)$/s.exec(line);
    if (this.#code === undefined) {
      if (!m) throw new SyntaxError(`not an FTP reply: ${JSON.stringify(line.slice(0, 80))}`);
      const code = Number(m[1]);
      if (m[2] === " ") return { code, lines: [m[3]!] };
      this.#code = code;
      this.#lines = [m[3]!];
      return undefined;
    }
    if (m && Number(m[1]) === this.#code && m[2] === " ") {
      const reply = { code: this.#code, lines: [...this.#lines, m[3]!] };
      this.#code = undefined;
      this.#lines = [];
      return reply;
    }
    if (this.#lines.length >= ReplyReader.MAX_LINES) throw new SyntaxError("reply longer than 10000 lines");
    this.#lines.push(m && Number(m[1]) === this.#code && m[2] === "-" ? m[3]! : line);
    return undefined;
  }
}

/**
 * A data-connection address from PORT/EPRT/PASV/EPSV.
 * @example `{ host: "127.0.0.1", port: 1025 }`
 */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

function octets(text: string): number[] | undefined {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.length !== 6 || !parts.every((p) => /^\d{1,3}$/.test(p))) return undefined;
  const n = parts.map(Number);
  return n.every((x) => x <= 255) ? n : undefined;
}

/**
 * Parses PORT's argument `h1,h2,h3,h4,p1,p2`; undefined when malformed.
 * @example `parsePort("127,0,0,1,4,1") // { host: "127.0.0.1", port: 1025 }`
 */
export function parsePort(arg: string): HostPort | undefined {
  const n = octets(arg);
  if (!n) return undefined;
  return { host: n.slice(0, 4).join("."), port: n[4]! * 256 + n[5]! };
}

/**
 * Formats an IPv4 address and port as PORT's argument (and PASV's reply numbers).
 * @example `formatPort("127.0.0.1", 1025) // "127,0,0,1,4,1"`
 */
export function formatPort(host: string, port: number): string {
  return `${host.split(".").join(",")},${port >> 8},${port & 255}`;
}

/**
 * Parses EPRT's argument `|af|address|port|` (any printable delimiter, RFC 2428); undefined
 * when malformed.
 * @example `parseEprt("|2|::1|5282|") // { family: 2, host: "::1", port: 5282 }`
 */
export function parseEprt(arg: string): (HostPort & { readonly family: 1 | 2 }) | undefined {
  if (arg.length < 7) return undefined;
  const d = arg[0]!;
  if (d < "!" || d > "~") return undefined;
  const parts = arg.split(d);
  if (parts.length !== 5 || parts[0] !== "" || parts[4] !== "") return undefined;
  const [, af, host, port] = parts as [string, string, string, string];
  if ((af !== "1" && af !== "2") || !/^\d{1,5}$/.test(port) || host === "") return undefined;
  const p = Number(port);
  if (p < 1 || p > 65535) return undefined;
  return { family: af === "1" ? 1 : 2, host, port: p };
}

/**
 * Formats EPRT's argument.
 * @example `formatEprt("::1", 5282) // "|2|::1|5282|"`
 */
export function formatEprt(host: string, port: number): string {
  return `|${host.includes(":") ? 2 : 1}|${host}|${port}|`;
}

/**
 * The address in a 227 reply: the six numbers anywhere in the text (RFC 1123 §4.1.2.6).
 * @example `parsePasvReply("Entering Passive Mode (127,0,0,1,4,1).") // { host: "127.0.0.1", port: 1025 }`
 */
export function parsePasvReply(text: string): HostPort | undefined {
  const m = /(\d{1,3}(?:\s*,\s*\d{1,3}){5})/.exec(text);
  return m ? parsePort(m[1]!) : undefined;
}

/**
 * The port in a 229 reply `(|||port|)`.
 * @example `parseEpsvReply("Entering Extended Passive Mode (|||6446|)") // 6446`
 */
export function parseEpsvReply(text: string): number | undefined {
  const m = /\(([!-~])\1\1(\d{1,5})\1\)/.exec(text);
  const p = m ? Number(m[2]) : NaN;
  return p >= 1 && p <= 65535 ? p : undefined;
}

/**
 * A time as MDTM and MLSx facts write it: `YYYYMMDDHHMMSS`, UTC (RFC 3659 §2.3).
 * @example `formatFtpTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5))) // "20260102030405"`
 */
export function formatFtpTime(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/**
 * What a listing needs to know about one entry.
 * @example `{ name: "a.bin", kind: "file", size: 1024, mtime: new Date(), writable: false }`
 */
export interface EntryInfo {
  readonly name: string;
  readonly kind: "file" | "dir" | "other";
  readonly size: number;
  readonly mtime: Date;
  /** Whether this session may change it (shown in `perm` facts and the mode bits). */
  readonly writable: boolean;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * One `ls -l`-style LIST line (the format curl shows and lftp parses): times within six months
 * as `Mon DD HH:MM`, older ones as `Mon DD  YYYY`, UTC.
 * @example `listLine(entry, new Date()) // "-rw-r--r-- 1 ftp ftp     1024 Jan 02 03:04 a.bin"`
 */
export function listLine(e: EntryInfo, now: Date): string {
  const t = e.mtime;
  const recent = Math.abs(now.getTime() - t.getTime()) < 182 * 86_400_000;
  const day = String(t.getUTCDate()).padStart(2, " ");
  const when = recent
    ? `${String(t.getUTCHours()).padStart(2, "0")}:${String(t.getUTCMinutes()).padStart(2, "0")}`
    : ` ${t.getUTCFullYear()}`;
  const mode = e.kind === "dir" ? "drwxr-xr-x" : e.writable ? "-rw-r--r--" : "-r--r--r--";
  return `${mode} 1 ftp ftp ${String(e.size).padStart(12)} ${MONTHS[t.getUTCMonth()]} ${day} ${when} ${e.name}`;
}

/**
 * The RFC 3659 facts of an entry, as MLSD and MLST write them (`type`, `size`, `modify`,
 * `perm`), followed by a space and the name.
 * @example `mlsxLine(entry) // "type=file;size=1024;modify=20260102030405;perm=r; a.bin"`
 */
export function mlsxLine(e: EntryInfo, type?: "cdir"): string {
  const perm =
    e.kind === "dir" ? (e.writable ? "elcdmf" : "el") : e.kind === "file" ? (e.writable ? "radfw" : "r") : "";
  const kind = type ?? (e.kind === "other" ? "OS.unix=other" : e.kind);
  const size = e.kind === "file" ? `size=${e.size};` : "";
  return `type=${kind};${size}modify=${formatFtpTime(e.mtime)};perm=${perm}; ${e.name}`;
}

/**
 * Quotes a path for a 257 reply (RFC 959 appendix II: double quotes doubled).
 * @example `quotePath('/a"b') // '"/a""b"'`
 */
export function quotePath(p: string): string {
  return `"${p.replaceAll('"', '""')}"`;
}

/**
 * The path inside a 257 reply, undoing {@link quotePath}; undefined when there is none.
 * @example `unquotePath('"/a""b" created') // '/a"b'`
 */
export function unquotePath(text: string): string | undefined {
  const m = /^"((?:[^"]|"")*)"/.exec(text);
  return m ? m[1]!.replaceAll('""', '"') : undefined;
}

/**
 * Splits the control connection's bytes into command lines. A line ends at LF, CR or CRLF
 * (empty lines are dropped), because a client that sends `ABOR` as urgent data (Python's
 * `ftplib` sends the whole line with MSG_OOB) loses its last byte, the LF, to the urgent
 * pointer: the line arrives as `IAC IP IAC DM ABOR CR`. `push` returns the lines completed so
 * far, or `"too-long"` once `maxLine` bytes arrive without an end.
 *
 * @example
 * ```ts
 * const s = new CommandSplitter(4096);
 * s.push(Buffer.from("NOOP\r\nAB")); // [<Buffer "NOOP">]
 * s.push(Buffer.from("OR\r"));       // [<Buffer "ABOR">]
 * ```
 */
export class CommandSplitter {
  readonly #max: number;
  #parts: Buffer[] = [];
  #len = 0;

  constructor(maxLine: number) {
    this.#max = maxLine;
  }

  /** Bytes of an unfinished line held back (something sent after the last line end). */
  get pending(): number {
    return this.#len;
  }

  push(chunk: Uint8Array): Buffer[] | "too-long" {
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c !== 0x0a && c !== 0x0d) continue;
      const piece = b.subarray(start, i);
      const line = this.#len === 0 ? Buffer.from(piece) : Buffer.concat([...this.#parts, piece]);
      this.#parts = [];
      this.#len = 0;
      start = i + 1;
      if (line.length > this.#max) return "too-long";
      if (line.length > 0) out.push(line);
    }
    if (start < b.length) {
      this.#parts.push(Buffer.from(b.subarray(start)));
      this.#len += b.length - start;
      if (this.#len > this.#max) return "too-long";
    }
    return out;
  }
}
