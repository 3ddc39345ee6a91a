/**
 * The SMTP server's input, sans I/O: bytes in, commands and messages out. Two modes — command
 * lines, and the message after DATA up to the line holding one dot — and every limit of RFC 5321
 * §4.5.3.1 enforced while reading: a command line or a text line longer than 1000 bytes with its
 * CRLF, and a message larger than the server's maximum. Nothing is held beyond those limits: an
 * over-long line is skipped up to its line feed, and a message past the maximum is read to its
 * end without being kept, so that the server can answer and go on.
 *
 * The codec's `lines()` fails for good on an over-long line (a framing error ends a stream); SMTP
 * answers 500 and reads the next command, hence this reader of its own.
 *
 * @module
 */
import { checkInt } from "../../errors/index.js";

/**
 * RFC 5321 §4.5.3.1.4/.6: a command line or a text line is at most 1000 bytes with its CRLF.
 *
 * @example
 * ```ts
 * const longest = "x".repeat(SMTP_LINE_LIMIT - 2); // the most a line may hold before its CRLF
 * ```
 */
export const SMTP_LINE_LIMIT = 1000;

/**
 * What {@link SmtpReader.next} yields.
 *
 * - `command`: one command line, without its line ending (latin1-safe bytes).
 * - `too-long`: a command line past the limit; its bytes up to the next LF were skipped.
 * - `message`: the text between DATA and the final dot, dot-unstuffed, lines ending CRLF.
 * - `refused-message`: the text ended but was not kept: `"size"` (past the maximum) or `"line"`
 *   (a line past 1000 bytes); `size` is how many bytes it had (unstuffed, with CRLFs).
 *
 * @example
 * ```ts
 * const item: SmtpInput = { kind: "command", line: Buffer.from("NOOP") };
 * ```
 */
export type SmtpInput =
  | { readonly kind: "command"; readonly line: Buffer }
  | { readonly kind: "too-long" }
  | { readonly kind: "message"; readonly data: Buffer }
  | { readonly kind: "refused-message"; readonly reason: "size" | "line"; readonly size: number };

/**
 * Options of {@link SmtpReader}.
 *
 * @example
 * ```ts
 * new SmtpReader({ maxMessage: 10 * 1024 * 1024 });
 * ```
 */
export interface SmtpReaderOptions {
  /** Largest message kept, in bytes (unstuffed, with CRLF line endings). */
  readonly maxMessage: number;
  /** Longest line, CRLF included (default 1000, RFC 5321's minimum). */
  readonly maxLine?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const CRLF = Buffer.from("\r\n");

/**
 * Splits an SMTP byte stream into commands and messages. Push bytes with {@link push}, then take
 * items with {@link next} until it returns undefined; after answering DATA with 354, call
 * {@link startData}: the bytes already pushed after the DATA line are then read as the message
 * (a client that does not wait for the 354 is served the same way). Lines may end with CRLF or a
 * bare LF. At most maxLine bytes of a partial line and maxMessage bytes of a message are held.
 *
 * @example
 * ```ts
 * const r = new SmtpReader({ maxMessage: 1 << 20 });
 * r.push(Buffer.from("DATA\r\nSubject: hi\r\n\r\n..x\r\n.\r\n"));
 * r.next();      // { kind: "command", line: <"DATA"> }
 * r.startData();
 * r.next();      // { kind: "message", data: <"Subject: hi\r\n\r\n.x\r\n"> }
 * ```
 */
export class SmtpReader {
  readonly #maxMessage: number;
  readonly #maxLine: number;
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  #data = false;
  /** Skipping the rest of an over-long line (to its LF). */
  #skipping = false;
  #skippedReported = false;
  // the message being read
  #parts: Buffer[] = [];
  #size = 0;
  #tooBig = false;
  #lineTooLong = false;

  /** See {@link SmtpReaderOptions}. */
  constructor(opts: SmtpReaderOptions) {
    this.#maxMessage = checkInt("maxMessage", opts.maxMessage, 0, Number.MAX_SAFE_INTEGER);
    this.#maxLine = checkInt("maxLine", opts.maxLine ?? SMTP_LINE_LIMIT, 3, 2 ** 30);
  }

  /** True between {@link startData} and the end of the message. */
  get inData(): boolean {
    return this.#data;
  }

  /** Bytes held: the unread input plus the message so far. */
  get buffered(): number {
    const kept = this.#tooBig || this.#lineTooLong ? 0 : this.#size;
    return this.#buf.length - this.#pos + kept;
  }

  /** Adds bytes from the client. */
  push(chunk: Uint8Array): void {
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const rest = this.#buf.length - this.#pos;
    this.#buf = rest === 0 ? Buffer.from(b) : Buffer.concat([this.#buf.subarray(this.#pos), b]);
    this.#pos = 0;
  }

  /** Reads the next message instead of commands (call it after answering DATA with 354). */
  startData(): void {
    this.#data = true;
    this.#parts = [];
    this.#size = 0;
    this.#tooBig = false;
    this.#lineTooLong = false;
  }

  /** The next complete item, or undefined when more bytes are needed. */
  next(): SmtpInput | undefined {
    for (;;) {
      const line = this.#line();
      if (line === undefined) return undefined;
      if (line === "skipped") {
        if (this.#data) {
          this.#lineTooLong = true;
          this.#parts = [];
          continue;
        }
        if (this.#skippedReported) continue;
        this.#skippedReported = true;
        return { kind: "too-long" };
      }
      if (!this.#data) return { kind: "command", line };
      if (line.length === 1 && line[0] === DOT) return this.#endData();
      this.#add(line[0] === DOT ? line.subarray(1) : line);
    }
  }

  /**
   * The next line without its ending, "skipped" once an over-long line has been skipped to its
   * LF, or undefined when the buffer holds no complete line (then it keeps at most maxLine bytes).
   */
  #line(): Buffer | "skipped" | undefined {
    const buf = this.#buf;
    const lf = buf.indexOf(LF, this.#pos);
    if (this.#skipping) {
      if (lf === -1) {
        this.#drop();
        return undefined;
      }
      this.#pos = lf + 1;
      this.#skipping = false;
      return "skipped";
    }
    if (lf === -1) {
      if (buf.length - this.#pos > this.#maxLine - 1) {
        // no LF within maxLine - 1 bytes: past the limit, even if a LF comes next
        this.#skipping = true;
        this.#skippedReported = false;
        this.#drop();
      }
      return undefined;
    }
    const end = lf > this.#pos && buf[lf - 1] === CR ? lf - 1 : lf;
    const start = this.#pos;
    this.#pos = lf + 1;
    if (lf + 1 - start > this.#maxLine) {
      this.#skippedReported = false;
      return "skipped";
    }
    this.#skippedReported = false;
    return buf.subarray(start, end);
  }

  #drop(): void {
    this.#buf = Buffer.alloc(0);
    this.#pos = 0;
  }

  #add(line: Buffer): void {
    this.#size += line.length + 2;
    if (this.#tooBig || this.#lineTooLong) return;
    if (this.#size > this.#maxMessage) {
      this.#tooBig = true;
      this.#parts = [];
      return;
    }
    // copy: the input buffer is reused for the rest of the stream
    this.#parts.push(Buffer.from(line), CRLF);
  }

  #endData(): SmtpInput {
    this.#data = false;
    const size = this.#size;
    const parts = this.#parts;
    this.#parts = [];
    this.#size = 0;
    if (this.#lineTooLong) return { kind: "refused-message", reason: "line", size };
    if (this.#tooBig) return { kind: "refused-message", reason: "size", size };
    return { kind: "message", data: Buffer.concat(parts, size) };
  }
}
