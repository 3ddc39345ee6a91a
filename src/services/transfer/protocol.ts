/**
 * The direct-transfer protocol, versions 1 and 2 (pure: parsing and formatting, no I/O). One TCP
 * connection carries one session; every control message is one line of UTF-8 ending in `\n`, at
 * most {@link MAX_LINE} bytes; file contents travel raw between a `DATA` line and the receiver's
 * answer. docs/file-transfer.md ("The protocol") shows a whole session.
 *
 * ```text
 * sender                                   receiver
 * XFER/1                              →         (version 1: the receiver says nothing)
 * DIR photos                          →
 *                                     ←    OK 0
 * FILE <size> <sha256> photos/a.jpg   →
 *                                     ←    OK <have> <sha256 of those bytes>  | HAVE | NO <ERRNO> <text>
 * DATA <from>                         →    (from = have when the hashes agree, else 0)
 * <size - from raw bytes>             →
 *                                     ←    ACK <sha256>   | NO <ERRNO> <text>
 * END                                 →
 *                                     ←    BYE
 * ```
 *
 * Version 2 (`XFER/2`, answered `XFER/2`) is version 1 plus one header form: `FILE <size> -
 * <path>` announces a file whose SHA-256 comes after its data, as `SHA256 <sha256>`, so the sender
 * hashes while it sends instead of reading the file twice. The receiver answers such a header
 * `HASH` when a file of that name is there already (the sender then sends the version-1 header,
 * with the hash, and the session goes on as in version 1); otherwise as above, and it answers
 * the data after the `SHA256` line.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The first line of a version-1 session. @example `conn.write(`${HELLO}\n`)` */
export const HELLO = "XFER/1";

/**
 * The first line of a version-2 session; the receiver answers the same line.
 * @example `conn.write(`${HELLO2}\n`)`
 */
export const HELLO2 = "XFER/2";

/**
 * The longest control line, newline included (bytes): a path of 16 components of 255 bytes fits.
 * @example `await conn.readLine({ max: MAX_LINE })`
 */
export const MAX_LINE = 4352;

/** The longest name component (bytes of UTF-8), as Linux's NAME_MAX. @example `NAME_MAX // 255` */
export const NAME_MAX = 255;

/** The deepest path a `-r` transfer may create (components). @example `MAX_DEPTH // 16` */
export const MAX_DEPTH = 16;

/** The largest file size a header may announce: 2^53 - 1. @example `MAX_SIZE === Number.MAX_SAFE_INTEGER` */
export const MAX_SIZE = Number.MAX_SAFE_INTEGER;

/** The SHA-256 of nothing (what `OK 0` carries). @example `EMPTY_SHA256.length // 64` */
export const EMPTY_SHA256 = createHash("sha256").digest("hex");

/**
 * Why a name or a message was refused: an errno name and a sentence saying what to check.
 * @example `{ errno: "EINVAL", text: "name \"..\" refused: only a plain file name is accepted" }`
 */
export interface Refusal {
  /** The errno name the refusal stands for (`EINVAL`, `EEXIST`, `ENOSPC`, …). */
  readonly errno: string;
  /** What was refused and what to check. */
  readonly text: string;
  /** Never set: tells a refusal from a message (a receiver's `NO` has an errno too). */
  readonly kind?: undefined;
}

/** A message of the sender (after {@link HELLO}). */
export type SenderMessage =
  /** `sha256` undefined: version 2's `FILE <size> - <path>`, the hash follows the data. */
  | { readonly kind: "FILE"; readonly size: number; readonly sha256?: string; readonly path: string }
  | { readonly kind: "SHA256"; readonly sha256: string }
  | { readonly kind: "DIR"; readonly path: string }
  | { readonly kind: "DATA"; readonly from: number }
  | { readonly kind: "END" };

/** A message of the receiver. */
export type ReceiverMessage =
  | { readonly kind: "OK"; readonly have: number; readonly sha256: string }
  | { readonly kind: "HAVE" }
  | { readonly kind: "HASH" }
  | { readonly kind: "HELLO"; readonly version: 2 }
  | { readonly kind: "ACK"; readonly sha256: string }
  | { readonly kind: "NO"; readonly errno: string; readonly text: string }
  | { readonly kind: "BYE" };

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;
const HEX64 = /^[0-9a-f]{64}$/;
const ERRNO = /^E[A-Z0-9]{1,15}$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** C0 and C1 control characters and DEL. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function count(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_SIZE ? n : undefined;
}

/**
 * Checks one name component the receiver's way: not empty, not `.` or `..`, no `/` or `\`, no
 * control character, at most {@link NAME_MAX} bytes of UTF-8. Answers the refusal, or undefined.
 * @example `checkName("..")?.errno // "EINVAL"`
 */
export function checkName(name: string): Refusal | undefined {
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  if (name.length === 0) return { errno: "EINVAL", text: "empty name refused" };
  if (name === "." || name === "..")
    return { errno: "EINVAL", text: `name ${shown} refused: only a plain file name is accepted` };
  if (name.includes("/") || name.includes("\\"))
    return { errno: "EINVAL", text: `name ${shown} refused: it contains a path separator` };
  if (CONTROL.test(name))
    return { errno: "EINVAL", text: `name ${shown} refused: it contains a control character` };
  if (Buffer.byteLength(name, "utf8") > NAME_MAX)
    return { errno: "ENAMETOOLONG", text: `name ${shown} refused: longer than ${NAME_MAX} bytes` };
  return undefined;
}

/**
 * Splits a relative path of the protocol (components joined by `/`) and checks each component
 * with {@link checkName}; at most {@link MAX_DEPTH} components. Answers the components, or the
 * refusal.
 * @example `splitPath("a/b.txt") // ["a", "b.txt"]`
 */
export function splitPath(path: string): string[] | Refusal {
  const parts = path.split("/");
  if (parts.length > MAX_DEPTH)
    return { errno: "ENAMETOOLONG", text: `path refused: deeper than ${MAX_DEPTH} directories` };
  for (const p of parts) {
    const bad = checkName(p);
    if (bad !== undefined) return bad;
  }
  return parts;
}

/**
 * Whether `x` is a refusal (not a list of components, not a message: a receiver's `NO` message
 * carries an errno too, but also its `kind`).
 * @example `if (isRefusal(splitPath(p))) …`
 */
export function isRefusal<T>(x: T | Refusal): x is Refusal {
  return typeof x === "object" && x !== null && !Array.isArray(x) && "errno" in x && !("kind" in x);
}

/**
 * The name of a file's partial copy beside it: `.NAME.part`; when that would pass NAME_MAX, a
 * name made from the SHA-256 of NAME (so a re-run finds the same one).
 * @example `partName("a.bin") // ".a.bin.part"`
 */
export function partName(name: string): string {
  const p = `.${name}.part`;
  if (Buffer.byteLength(p, "utf8") <= NAME_MAX) return p;
  return `.${createHash("sha256").update(name).digest("hex").slice(0, 32)}.part`;
}

/** One line without its newline, as text; undefined when it is not UTF-8 or holds a control char. */
function lineText(line: Buffer): string | undefined {
  if (line.length === 0 || line.length > MAX_LINE || line[line.length - 1] !== 0x0a) return undefined;
  let text: string;
  try {
    text = utf8.decode(line.subarray(0, line.length - 1));
  } catch {
    return undefined;
  }
  return text;
}

function protocolError(what: string, line: Buffer): Refusal {
  const shown = JSON.stringify(line.subarray(0, 60).toString("latin1"));
  return { errno: "EPROTO", text: `${what}: not a message of this protocol: ${shown}` };
}

/**
 * Parses one line of the sender (newline included). Names are checked with {@link splitPath}: a
 * bad one is a refusal, as is anything that is not a message of the protocol (EPROTO).
 * @example `parseSenderLine(Buffer.from("DATA 0\n")) // { kind: "DATA", from: 0 }`
 */
export function parseSenderLine(line: Buffer): SenderMessage | Refusal {
  const text = lineText(line);
  if (text === undefined) return protocolError("sender", line);
  if (text === "END") return { kind: "END" };
  const sp = text.indexOf(" ");
  const verb = sp < 0 ? text : text.slice(0, sp);
  const rest = sp < 0 ? "" : text.slice(sp + 1);
  if (verb === "DATA") {
    const from = count(rest);
    return from === undefined ? protocolError("sender", line) : { kind: "DATA", from };
  }
  if (verb === "DIR") {
    const parts = splitPath(rest);
    return isRefusal(parts) ? parts : { kind: "DIR", path: parts.join("/") };
  }
  if (verb === "FILE") {
    const m = /^([0-9]+) ([0-9a-f]{64}|-) (.*)$/s.exec(rest);
    const size = m === null ? undefined : count(m[1]!);
    if (m === null || size === undefined) return protocolError("sender", line);
    const parts = splitPath(m[3]!);
    if (isRefusal(parts)) return parts;
    const path = parts.join("/");
    return m[2] === "-" ? { kind: "FILE", size, path } : { kind: "FILE", size, sha256: m[2]!, path };
  }
  if (verb === "SHA256" && HEX64.test(rest)) return { kind: "SHA256", sha256: rest };
  return protocolError("sender", line);
}

/**
 * Parses one line of the receiver (newline included); EPROTO refusal for anything else.
 * @example `parseReceiverLine(Buffer.from("NO EEXIST a.bin exists\n")) // { kind: "NO", errno: "EEXIST", … }`
 */
export function parseReceiverLine(line: Buffer): ReceiverMessage | Refusal {
  const text = lineText(line);
  if (text === undefined || CONTROL.test(text)) return protocolError("receiver", line);
  if (text === "HAVE") return { kind: "HAVE" };
  if (text === "HASH") return { kind: "HASH" };
  if (text === HELLO2) return { kind: "HELLO", version: 2 };
  if (text === "BYE") return { kind: "BYE" };
  const f = text.split(" ");
  if (f[0] === "OK" && f.length === 3 && count(f[1]!) !== undefined && HEX64.test(f[2]!))
    return { kind: "OK", have: count(f[1]!)!, sha256: f[2]! };
  if (f[0] === "ACK" && f.length === 2 && HEX64.test(f[1]!)) return { kind: "ACK", sha256: f[1]! };
  if (f[0] === "NO" && f.length >= 3 && ERRNO.test(f[1]!))
    return { kind: "NO", errno: f[1]!, text: f.slice(2).join(" ") };
  return protocolError("receiver", line);
}

/**
 * Formats a sender message as its line (newline included).
 * @example `formatSender({ kind: "DIR", path: "photos" }) // "DIR photos\n"`
 */
export function formatSender(m: SenderMessage): string {
  switch (m.kind) {
    case "FILE":
      return `FILE ${m.size} ${m.sha256 ?? "-"} ${m.path}\n`;
    case "SHA256":
      return `SHA256 ${m.sha256}\n`;
    case "DIR":
      return `DIR ${m.path}\n`;
    case "DATA":
      return `DATA ${m.from}\n`;
    case "END":
      return "END\n";
  }
}

/**
 * Formats a receiver message as its line (newline included); a refusal's text loses control
 * characters and is cut to fit the line.
 * @example `formatReceiver({ kind: "OK", have: 0, sha256: EMPTY_SHA256 }) // "OK 0 e3b0…\n"`
 */
export function formatReceiver(m: ReceiverMessage): string {
  switch (m.kind) {
    case "OK":
      return `OK ${m.have} ${m.sha256}\n`;
    case "HAVE":
      return "HAVE\n";
    case "HASH":
      return "HASH\n";
    case "HELLO":
      return `${HELLO2}\n`;
    case "ACK":
      return `ACK ${m.sha256}\n`;
    case "BYE":
      return "BYE\n";
    case "NO": {
      let text = m.text.replace(new RegExp(CONTROL.source, "g"), "?");
      while (Buffer.byteLength(text, "utf8") > MAX_LINE - 40) text = text.slice(0, -64);
      return `NO ${m.errno} ${text || m.errno}\n`;
    }
  }
}

/** Whether `s` is a lowercase hex SHA-256. @example `isSha256(EMPTY_SHA256) // true` */
export function isSha256(s: string): boolean {
  return HEX64.test(s);
}
