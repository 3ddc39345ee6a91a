/**
 * The RFC "simple services" as pure functions: what each service sends, and how a client reads
 * it. No I/O here; the servers (tcp.ts, udp.ts) and clients (client.ts) put these on the wire.
 *
 * - chargen (RFC 864): 72-character lines of the 95 printable ASCII characters (0x20–0x7E), each
 *   line starting one character later than the one before, ended by CRLF.
 * - time (RFC 868): 4 bytes, big-endian, seconds since 1900-01-01T00:00:00Z.
 * - daytime (RFC 867): one human-readable line.
 * - qotd (RFC 865): a short message, under 512 bytes.
 *
 * @module
 */

/**
 * The printable ASCII characters chargen rotates through: space (0x20) to tilde (0x7E).
 *
 * @example
 * ```ts
 * // line n is CHARGEN_WIDTH characters of the ring, starting at (n + 1) % 95
 * const line3 = Buffer.from(Array.from({ length: CHARGEN_WIDTH }, (_, i) => CHARGEN_RING[(4 + i) % 95]!));
 * line3.equals(chargenLine(3).subarray(0, CHARGEN_WIDTH)); // true
 * ```
 */
export const CHARGEN_RING = Buffer.from(
  Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).join(""),
  "latin1",
);

/**
 * Characters per chargen line (before the CRLF).
 *
 * @example
 * ```ts
 * const line = await conn.readLine({ max: CHARGEN_WIDTH + 2 });
 * const isRfcLine = line !== null && chargenLineStart(line.subarray(0, CHARGEN_WIDTH)) >= 0;
 * ```
 */
export const CHARGEN_WIDTH = 72;

/**
 * Bytes per chargen line on the wire (72 characters + CRLF).
 *
 * @example
 * ```ts
 * // a byte budget of 100 lines
 * const host = await serve({ services: [{ name: "chargen", port: 0 }], limits: { chargenBytes: 100 * CHARGEN_LINE_BYTES } });
 * ```
 */
export const CHARGEN_LINE_BYTES = CHARGEN_WIDTH + 2;

/**
 * Lines in one full chargen cycle (after 95 lines the pattern repeats).
 *
 * @example
 * ```ts
 * chargenCycle().length === CHARGEN_CYCLE_LINES * CHARGEN_LINE_BYTES; // true: 7030 bytes
 * chargenLine(CHARGEN_CYCLE_LINES).equals(chargenLine(0)); // true
 * ```
 */
export const CHARGEN_CYCLE_LINES = 95;

/**
 * Seconds from 1900-01-01 (RFC 868's epoch) to 1970-01-01 (the Unix epoch).
 *
 * @example
 * ```ts
 * const secs1900 = encodeTime(new Date()).readUInt32BE(0);
 * const unixSeconds = secs1900 - RFC868_OFFSET; // until the 32-bit count wraps in 2036
 * ```
 */
export const RFC868_OFFSET = 2_208_988_800;

/**
 * A qotd message must be shorter than this many bytes (RFC 865).
 *
 * @example
 * ```ts
 * const quote = "Well begun is half done.\r\n";
 * if (Buffer.byteLength(quote) >= QOTD_MAX) throw new RangeError("too long for RFC 865");
 * ```
 */
export const QOTD_MAX = 512;

/**
 * Chargen line number `n` (0-based) with its CRLF. Line 0 starts with "!" as in RFC 864's example
 * (and xinetd); line 94 starts with the space, then the cycle repeats.
 *
 * @example `chargenLine(0).toString().slice(0, 5) // '!"#$%'`
 */
export function chargenLine(n: number): Buffer {
  const start = (((n + 1) % 95) + 95) % 95;
  const out = Buffer.allocUnsafe(CHARGEN_LINE_BYTES);
  for (let i = 0; i < CHARGEN_WIDTH; i++) out[i] = CHARGEN_RING[(start + i) % 95]!;
  out[CHARGEN_WIDTH] = 0x0d;
  out[CHARGEN_WIDTH + 1] = 0x0a;
  return out;
}

let cycle: Buffer | undefined;

/**
 * One whole chargen cycle (95 lines, 7 030 bytes), built once and shared: writing it again and
 * again is exactly the chargen stream. Never modify it.
 *
 * @example `chargenCycle().length // 7030`
 */
export function chargenCycle(): Buffer {
  if (cycle === undefined) {
    cycle = Buffer.concat(Array.from({ length: CHARGEN_CYCLE_LINES }, (_, i) => chargenLine(i)));
  }
  return cycle;
}

/**
 * Checks one received chargen line (without its line end): 72 consecutive characters of the
 * printable ring, wrapping after "~". Returns the ring index of its first character, or -1 when
 * it is not a chargen line. Implementations differ in where they start, so any start is accepted.
 *
 * @example `chargenLineStart(chargenLine(3).subarray(0, 72)) // 4`
 */
export function chargenLineStart(line: Uint8Array): number {
  if (line.length !== CHARGEN_WIDTH) return -1;
  const first = line[0]! - 0x20;
  if (first < 0 || first >= 95) return -1;
  for (let i = 1; i < CHARGEN_WIDTH; i++) {
    if (line[i] !== 0x20 + ((first + i) % 95)) return -1;
  }
  return first;
}

/** True when `b` may follow `a` in a chargen line: the next character, or a wrap of the ring. */
function follows(a: number, b: number): boolean {
  return b === a + 1 || ((a === 0x7e || a === 0x7d) && (b === 0x20 || b === 0x21));
}

/**
 * A looser check than {@link chargenLineStart}, for other implementations: at most 72 printable
 * characters, each the successor of the one before, where the ring may end at "}" or "~" and
 * start at space or "!" (xinetd's ring is "!" to "}", 93 characters).
 *
 * @example `chargenLike(Buffer.from("{|}!\"#")) // true`
 */
export function chargenLike(line: Uint8Array): boolean {
  if (line.length === 0 || line.length > CHARGEN_WIDTH) return false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c < 0x20 || c > 0x7e) return false;
    if (i > 0 && !follows(line[i - 1]!, c)) return false;
  }
  return true;
}

/**
 * True when a line starting with `b` may follow one starting with `a` (same loose ring rules).
 *
 * @example `chargenFollows(0x21, 0x22) // true`
 */
export function chargenFollows(a: number, b: number): boolean {
  return follows(a, b);
}

/**
 * The RFC 868 time for a date: 4 bytes, big-endian seconds since 1900, modulo 2^32 (so dates
 * after 2036-02-07T06:28:16Z wrap to small numbers, which {@link decodeTime} reads back).
 *
 * @example `encodeTime(new Date(0)).toString("hex") // "83aa7e80"`
 */
export function encodeTime(date: Date): Buffer {
  const secs = Math.floor(date.getTime() / 1000) + RFC868_OFFSET;
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(((secs % 2 ** 32) + 2 ** 32) % 2 ** 32, 0);
  return out;
}

/**
 * A decoded time reply.
 *
 * @example
 * ```ts
 * const reply: TimeReply = decodeTime(await conn.readExactly(4));
 * console.log(reply.date.toISOString(), reply.seconds1900);
 * ```
 */
export interface TimeReply {
  /** The server's time (whole seconds). */
  readonly date: Date;
  /** Seconds since 1900 as the server sent them (after era and 8-byte handling). */
  readonly seconds1900: number;
  /** How many bytes the reply had (4, or 8 from some 64-bit inetd implementations). */
  readonly bytes: 4 | 8;
}

/**
 * Why a time reply could not be read.
 *
 * @example
 * ```ts
 * try {
 *   decodeTime(Buffer.from([1, 2]));
 * } catch (e) {
 *   if (e instanceof TimeReplyError) console.log(e.message); // a time reply is 4 bytes (RFC 868; some servers send 8), got 2
 * }
 * ```
 */
export class TimeReplyError extends Error {
  override readonly name = "TimeReplyError";
}

/**
 * Reads a 32-bit RFC 868 value. Values with the top bit clear are taken to be in the era after
 * 2036-02-07 (as NTP does), so the decodable range is 1968-01-20 to 2104-02-26.
 *
 * @example `secondsToDate(0x83aa7e80).toISOString() // "1970-01-01T00:00:00.000Z"`
 */
export function secondsToDate(secs1900: number): Date {
  return new Date((secs1900 - RFC868_OFFSET) * 1000);
}

function unwrap32(v: number): number {
  return v >= 2 ** 31 ? v : v + 2 ** 32;
}

/**
 * Decodes a time reply: exactly 4 bytes, or the 8 bytes some inetd implementations send (a
 * 64-bit big-endian value, or — from `sizeof(long)` bugs — the 4 real bytes followed by 4 bytes
 * of padding). Anything else throws {@link TimeReplyError}.
 *
 * @example `decodeTime(encodeTime(new Date("2026-11-21T22:30:00Z"))).date.toISOString() // "2026-11-21T22:30:00.000Z"`
 */
export function decodeTime(reply: Uint8Array): TimeReply {
  const b = Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength);
  if (b.length === 4) {
    const s = unwrap32(b.readUInt32BE(0));
    return { date: secondsToDate(s), seconds1900: s, bytes: 4 };
  }
  if (b.length === 8) {
    const hi = b.readUInt32BE(0);
    const lo = b.readUInt32BE(4);
    // a true 64-bit count has a small high word (0 until 2036, 1 until 2172); otherwise the
    // first 4 bytes are the 32-bit answer and the rest is padding
    const s = hi <= 1 ? hi * 2 ** 32 + lo : unwrap32(hi);
    return { date: secondsToDate(s), seconds1900: s, bytes: 8 };
  }
  const text = looksLikeText(b) ? `: "${b.toString("latin1").trim().slice(0, 200)}"` : "";
  throw new TimeReplyError(`a time reply is 4 bytes (RFC 868; some servers send 8), got ${b.length}${text}`);
}

/**
 * True when every byte is printable ASCII or whitespace (a server's text message rather than
 * binary data).
 *
 * @example `looksLikeText(Buffer.from("busy\r\n")) // true`
 */
export function looksLikeText(b: Uint8Array): boolean {
  if (b.length === 0) return false;
  for (const c of b) if (!(c === 9 || c === 10 || c === 13 || (c >= 0x20 && c < 0x7f))) return false;
  return true;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * The daytime line for a date, in UTC, ctime-style with the zone spelled out, ended by CRLF
 * (RFC 867 leaves the format open; this one is what inetd sends, plus the zone).
 *
 * @example `formatDaytime(new Date("2026-11-21T22:30:00Z")) // "Sat Nov 21 22:30:00 2026 UTC\r\n"`
 */
export function formatDaytime(date: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const day = String(date.getUTCDate()).padStart(2, " ");
  return (
    `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${day} ` +
    `${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())} ` +
    `${date.getUTCFullYear()} UTC\r\n`
  );
}
