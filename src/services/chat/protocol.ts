/**
 * The IRC wire format (RFC 1459 §2.3, RFC 2812 §2.3), pure: {@link parseLine} turns one line into
 * an {@link IrcMessage} or throws a typed {@link ChatProtocolError}; {@link formatMessage} writes
 * one, never longer than {@link MAX_LINE} bytes with its CR LF; {@link LineReader} cuts a byte
 * stream into lines holding at most {@link MAX_LINE} bytes, so a peer that never sends a newline
 * costs 512 bytes, not memory without bound; {@link ircLower} is the rfc1459 casemapping.
 *
 * Text is handled as "binary strings": one char per byte (latin1), so whatever bytes a client
 * sends (UTF-8 or not) pass through unchanged and byte limits are string lengths.
 *
 * @module
 */

/**
 * Longest IRC line in bytes, CR LF included (RFC 1459 §2.3).
 * @example `Buffer.byteLength(formatMessage(m), "latin1") <= MAX_LINE // always`
 */
export const MAX_LINE = 512;

/**
 * Longest nickname (ISUPPORT NICKLEN).
 * @example `isValidNick("a".repeat(NICKLEN)) // true`
 */
export const NICKLEN = 16;

/**
 * Longest channel name, `#` included (ISUPPORT CHANNELLEN).
 * @example `isValidChannel("#" + "a".repeat(CHANNELLEN - 1)) // true`
 */
export const CHANNELLEN = 50;

/** At most this many parameters (RFC 1459: 14 middle + 1 trailing). */
const MAX_PARAMS = 15;

/**
 * Why a line is not an IRC message.
 * @example `try { parseLine(l) } catch (e) { if (e instanceof ChatProtocolError && e.code === "ELINETOOLONG") … }`
 */
export type ChatProtocolCode = "EEMPTY" | "ELINETOOLONG" | "EBADPREFIX" | "EBADCOMMAND" | "EBADBYTE";

/**
 * A line that is not an IRC message: `code` says why, the message what to check.
 *
 * @example
 * ```ts
 * try { parseLine(":only-a-prefix"); } catch (e) { (e as ChatProtocolError).code; } // "EBADCOMMAND"
 * ```
 */
export class ChatProtocolError extends Error {
  /** Stable machine-readable reason. */
  readonly code: ChatProtocolCode;
  /** Makes the error. */
  constructor(code: ChatProtocolCode, message: string) {
    super(message);
    this.code = code;
    this.name = "ChatProtocolError";
  }
}

/**
 * One IRC message: an optional prefix (`nick!user@host` or a server name), the command (upper
 * case letters, or a 3-digit numeric) and its parameters (the last may contain spaces).
 *
 * @example
 * ```ts
 * const m: IrcMessage = { prefix: "alice!a@host", command: "PRIVMSG", params: ["#lobby", "hello there"] };
 * ```
 */
export interface IrcMessage {
  readonly prefix?: string | undefined;
  readonly command: string;
  readonly params: readonly string[];
}

/**
 * Parses one line (without CR LF; a trailing CR or CR LF is dropped). IRCv3 message tags
 * (`@k=v …`) are skipped. The command is returned upper-cased. Throws {@link ChatProtocolError}:
 * EEMPTY (nothing but spaces), ELINETOOLONG (over 510 bytes), EBADPREFIX (`:` with nothing
 * after), EBADCOMMAND (not letters nor 3 digits), EBADBYTE (NUL, CR or LF inside).
 *
 * @example
 * ```ts
 * parseLine(":alice!a@h PRIVMSG #lobby :hello there");
 * // { prefix: "alice!a@h", command: "PRIVMSG", params: ["#lobby", "hello there"] }
 * ```
 */
export function parseLine(input: string): IrcMessage {
  let line = input;
  if (line.endsWith("\n")) line = line.slice(0, -1);
  if (line.endsWith("\r")) line = line.slice(0, -1);
  if (line.length > MAX_LINE - 2)
    throw new ChatProtocolError("ELINETOOLONG", `line is ${line.length} bytes; IRC allows ${MAX_LINE - 2}`);
  if (/[\0\r\n]/.test(line))
    throw new ChatProtocolError("EBADBYTE", "line contains NUL, CR or LF, which IRC does not allow");
  let i = 0;
  const skipSpaces = () => {
    while (line.charCodeAt(i) === 0x20) i++;
  };
  const word = (): string => {
    const end = line.indexOf(" ", i);
    const w = end === -1 ? line.slice(i) : line.slice(i, end);
    i = end === -1 ? line.length : end;
    return w;
  };
  skipSpaces();
  if (line[i] === "@") {
    word(); // tags: not used here
    skipSpaces();
  }
  let prefix: string | undefined;
  if (line[i] === ":") {
    i++;
    prefix = word();
    if (prefix === "") throw new ChatProtocolError("EBADPREFIX", "':' starts a prefix but no name follows");
    skipSpaces();
  }
  if (i >= line.length) {
    throw new ChatProtocolError(prefix === undefined ? "EEMPTY" : "EBADCOMMAND", "no command in the line");
  }
  const command = word().toUpperCase();
  if (!/^([A-Z]+|\d{3})$/.test(command))
    throw new ChatProtocolError(
      "EBADCOMMAND",
      `command ${JSON.stringify(command.slice(0, 32))} is neither letters nor a 3-digit numeric`,
    );
  const params: string[] = [];
  for (;;) {
    skipSpaces();
    if (i >= line.length) break;
    if (line[i] === ":" || params.length === MAX_PARAMS - 1) {
      params.push(line[i] === ":" ? line.slice(i + 1) : line.slice(i));
      break;
    }
    params.push(word());
  }
  return prefix === undefined ? { command, params } : { prefix, command, params };
}

/**
 * Writes a message as one line ending in CR LF, at most {@link MAX_LINE} bytes: a last parameter
 * that would make it longer is cut. The last parameter is written with `:` when it follows
 * others (as servers do) or needs one (empty, has a space, or starts with `:`). Throws {@link ChatProtocolError} (EBADBYTE) when a
 * parameter contains NUL, CR or LF, or when a middle one is empty, has a space or starts
 * with `:`; EBADCOMMAND for a command that is neither letters nor 3 digits.
 *
 * @example
 * ```ts
 * formatMessage({ prefix: "srv", command: "001", params: ["alice", "Welcome"] }); // ":srv 001 alice :Welcome\r\n"
 * ```
 */
export function formatMessage(m: IrcMessage): string {
  if (!/^([A-Za-z]+|\d{3})$/.test(m.command))
    throw new ChatProtocolError(
      "EBADCOMMAND",
      `cannot send command ${JSON.stringify(m.command.slice(0, 32))}`,
    );
  let head = m.prefix === undefined ? m.command : `:${m.prefix} ${m.command}`;
  if (m.prefix !== undefined && (m.prefix === "" || /[\0\r\n ]/.test(m.prefix)))
    throw new ChatProtocolError("EBADPREFIX", "a prefix must be one word without NUL, CR or LF");
  const n = m.params.length;
  for (let k = 0; k < n; k++) {
    const p = m.params[k]!;
    if (/[\0\r\n]/.test(p))
      throw new ChatProtocolError("EBADBYTE", `parameter ${k + 1} contains NUL, CR or LF`);
    if (k < n - 1) {
      if (p === "" || p.includes(" ") || p.startsWith(":"))
        throw new ChatProtocolError(
          "EBADBYTE",
          `middle parameter ${k + 1} is empty, has a space or starts with ':'`,
        );
      head += ` ${p}`;
    }
  }
  if (head.length > MAX_LINE - 2) head = head.slice(0, MAX_LINE - 2); // only a hostile prefix gets here
  if (n > 0) {
    const last = m.params[n - 1]!;
    // as servers do: a last parameter after others is always written as trailing text
    const colon = n > 1 || last === "" || last.includes(" ") || last.startsWith(":");
    const room = MAX_LINE - 2 - head.length - (colon ? 2 : 1);
    if (room >= 0) head += `${colon ? " :" : " "}${cutBytes(last, room)}`;
  }
  return `${head}\r\n`;
}

/**
 * `s` (a binary string) cut to at most `max` bytes, not inside a UTF-8 character.
 * @example `cutBytes("h\xc3\xa9llo", 2) // "h"`
 */
export function cutBytes(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = Math.max(0, max);
  // back up over UTF-8 continuation bytes (at most 3) so a character is not split
  for (let k = 0; k < 3 && end > 0 && (s.charCodeAt(end) & 0xc0) === 0x80; k++) end--;
  return s.slice(0, end);
}

/**
 * The rfc1459 casemapping (ISUPPORT CASEMAPPING=rfc1459): A–Z are a–z and `[]\~` are `{}|^`.
 * Nicknames and channel names are compared by this form.
 *
 * @example `ircLower("Nick[A]") === ircLower("nick{a}") // true`
 */
export function ircLower(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out +=
      c >= 0x41 && c <= 0x5a
        ? String.fromCharCode(c + 32)
        : c === 0x5b
          ? "{"
          : c === 0x5d
            ? "}"
            : c === 0x5c
              ? "|"
              : c === 0x7e
                ? "^"
                : s[i];
  }
  return out;
}

const NICK_RE = new RegExp(`^[A-Za-z\\[\\]\\\\\`_^{|}][A-Za-z0-9\\[\\]\\\\\`_^{|}-]{0,${NICKLEN - 1}}$`);

/**
 * A nickname is 1–{@link NICKLEN} of letters, digits, `-` and `[]\`_^{|}`, not starting with a
 * digit or `-` (RFC 2812 §2.3.1).
 *
 * @example `isValidNick("alice_") // true; isValidNick("9lives") // false`
 */
export function isValidNick(nick: string): boolean {
  return NICK_RE.test(nick);
}

/**
 * A channel name is `#` and 1–49 bytes without space, comma, BEL, NUL, CR, LF or `:`.
 *
 * @example `isValidChannel("#lobby") // true; isValidChannel("lobby") // false`
 */
export function isValidChannel(name: string): boolean {
  return name.length >= 2 && name.length <= CHANNELLEN && name[0] === "#" && !/[\s,\x07\0:]/.test(name);
}

/**
 * What {@link LineReader} yields: a line (binary string, CR LF removed), or a note that a line
 * was longer than {@link MAX_LINE} bytes and was dropped up to its newline.
 *
 * @example
 * ```ts
 * const item: ReaderItem = { line: "NICK alice" }; // or { tooLong: true }
 * ```
 */
export type ReaderItem = { readonly line: string } | { readonly tooLong: true };

/**
 * Cuts a byte stream into lines ending in LF (a CR before it is dropped). A line longer than
 * {@link MAX_LINE} bytes with its CR LF is not held: it yields `{ tooLong: true }` once and
 * its bytes are skipped up to the next LF. At most {@link MAX_LINE} bytes are held at any time.
 * (The codec layer's `lines()` stops at the first overlong line; IRC goes on after it.)
 *
 * @example
 * ```ts
 * const r = new LineReader();
 * r.push(Buffer.from("NICK al"));        // []
 * r.push(Buffer.from("ice\r\nUSER a")); // [{ line: "NICK alice" }]
 * r.end();                               // [{ line: "USER a" }]
 * ```
 */
export class LineReader {
  #held = "";
  #skipping = false;

  /** Bytes held waiting for a newline (never more than {@link MAX_LINE}). */
  get buffered(): number {
    return this.#held.length;
  }

  /** Feeds bytes; returns the complete lines (and overlong-line notes) in order. */
  push(chunk: Uint8Array): ReaderItem[] {
    const out: ReaderItem[] = [];
    const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1");
    let start = 0;
    while (start <= text.length) {
      const lf = text.indexOf("\n", start);
      const end = lf === -1 ? text.length : lf;
      if (!this.#skipping) {
        const seg = text.slice(start, end);
        if (this.#held.length + seg.length > MAX_LINE - 1) {
          // longer than 510 bytes + CR: over the limit whatever comes next
          out.push({ tooLong: true });
          this.#held = "";
          this.#skipping = lf === -1;
        } else if (lf === -1) {
          this.#held += seg;
        } else {
          let line = this.#held + seg;
          this.#held = "";
          if (line.endsWith("\r")) line = line.slice(0, -1);
          out.push({ line });
        }
      } else if (lf !== -1) {
        this.#skipping = false;
      }
      if (lf === -1) break;
      start = lf + 1;
    }
    return out;
  }

  /**
   * At end of input: the last line if it had no LF (a CR at its end dropped), else nothing; the
   * reader is empty afterwards. (The chat server uses it for plain users only: an IRC line is
   * not complete without its newline.)
   */
  end(): ReaderItem[] {
    const held = this.#held;
    this.#held = "";
    const skipping = this.#skipping;
    this.#skipping = false;
    if (skipping || held === "") return [];
    const line = held.endsWith("\r") ? held.slice(0, -1) : held;
    return line === "" ? [] : [{ line }];
  }
}
