/**
 * `contentLength()`: messages framed by HTTP-style headers, `Content-Length: N` then a blank line
 * then N bytes — the framing of the Language Server Protocol and of JSON-RPC peers that use it.
 *
 * @module
 */
import { BaseDecoder, checkMaxFrame } from "./decoder.js";
import { FrameTooLargeError, MalformedFrameError, TruncatedFrameError } from "./errors.js";
import type { Codec, Decoder } from "./types.js";

/**
 * Options of {@link contentLength}.
 *
 * @example
 * ```ts
 * contentLength({ maxFrame: 1 << 20, maxHeader: 1024 })
 * ```
 */
export interface ContentLengthOptions {
  /** Largest body in bytes. Required. */
  readonly maxFrame: number;
  /** Largest header block in bytes, blank line included (default 1024). */
  readonly maxHeader?: number;
}

const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1");

class ContentLengthDecoder extends BaseDecoder<Buffer> {
  readonly #max: number;
  readonly #maxHeader: number;
  #chunks: Buffer[] = [];
  #held = 0;
  /** Body length once the header block is parsed; -1 while reading headers. */
  #need = -1;
  /** Stream offset of the current message's first byte. */
  #at = 0;

  constructor(max: number, maxHeader: number) {
    super();
    this.#max = max;
    this.#maxHeader = maxHeader;
  }

  #take(): Buffer {
    const b = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#held);
    this.#chunks = [];
    this.#held = 0;
    return b;
  }

  protected decode(chunk: Buffer, out: Buffer[]): void {
    if (chunk.length === 0) return;
    // copy: the caller may reuse the chunk's memory after push returns
    this.#chunks.push(Buffer.from(chunk));
    this.#held += chunk.length;
    for (;;) {
      if (this.#need < 0) {
        const head = this.#take();
        this.#chunks = [head];
        this.#held = head.length;
        const end = head.indexOf(CRLFCRLF);
        if (end < 0) {
          if (head.length > this.#maxHeader)
            throw new MalformedFrameError(
              `no blank line after ${this.#maxHeader} bytes of headers`,
              this.#at,
              "the peer must send `Content-Length: N` and an empty line (CRLF CRLF) before each message",
            );
          return;
        }
        if (end + 4 > this.#maxHeader)
          throw new MalformedFrameError(`header block longer than ${this.#maxHeader} bytes`, this.#at);
        this.#need = this.#parseHeaders(head.toString("latin1", 0, end));
        const rest = head.subarray(end + 4);
        this.#at += end + 4;
        this.#chunks = rest.length > 0 ? [rest] : [];
        this.#held = rest.length;
      }
      if (this.#held < this.#need) return;
      const all = this.#take();
      out.push(all.subarray(0, this.#need));
      const rest = all.subarray(this.#need);
      this.#at += this.#need;
      this.#need = -1;
      if (rest.length === 0) return;
      this.#chunks = [rest];
      this.#held = rest.length;
    }
  }

  #parseHeaders(text: string): number {
    let length: number | undefined;
    for (const line of text.split("\r\n")) {
      const m = /^([!-9;-~]+):[ \t]*(.*?)[ \t]*$/.exec(line);
      if (!m) throw new MalformedFrameError(`bad header line ${JSON.stringify(line.slice(0, 80))}`, this.#at);
      if (m[1]!.toLowerCase() !== "content-length") continue;
      if (!/^\d{1,15}$/.test(m[2]!) || length !== undefined)
        throw new MalformedFrameError(`bad Content-Length ${JSON.stringify(m[2]!.slice(0, 40))}`, this.#at);
      length = Number(m[2]);
    }
    if (length === undefined)
      throw new MalformedFrameError(
        "header block without Content-Length",
        this.#at,
        "each message needs one",
      );
    if (length > this.#max)
      throw new FrameTooLargeError(
        `message of ${length} bytes announced, past maxFrame ${this.#max} — raise maxFrame`,
        this.#max,
        length,
      );
    return length;
  }

  protected finish(): Buffer[] {
    if (this.#held === 0 && this.#need < 0) return [];
    const held = this.#held;
    const what = this.#need < 0 ? "the headers" : `a ${this.#need}-byte body`;
    this.release();
    throw new TruncatedFrameError(`stream ended inside ${what} (${held} bytes received)`, held);
  }

  protected held(): number {
    return this.#held;
  }

  protected release(): void {
    this.#chunks = [];
    this.#held = 0;
  }
}

/**
 * Header-framed messages: frames are the bodies (Buffers).
 *
 * Wire format (headers end with an empty line; only Content-Length is read, any other header,
 * such as LSP's Content-Type, is skipped):
 * ```
 * +----------------------+------+-----------+----------------------+------+----------+
 * | Content-Length: 17   | CRLF | CRLF      | {"jsonrpc":"2.0"...} | Content-Length: …
 * +----------------------+------+-----------+----------------------+------+----------+
 * ```
 * Errors: headers without a blank line within maxHeader bytes, a header line that is not
 * `Name: value`, a missing or non-numeric Content-Length throw MalformedFrameError; a length past
 * maxFrame throws FrameTooLargeError before any of the body is held; EOF inside a message throws
 * TruncatedFrameError.
 *
 * @example
 * ```ts
 * const codec = contentLength({ maxFrame: 1 << 20 });
 * codec.encode(Buffer.from("{}"));                                 // 'Content-Length: 2\r\n\r\n{}'
 * codec.decoder().push(Buffer.from("Content-Length: 2\r\n\r\n{}")); // [<Buffer 7b 7d>]
 * ```
 */
export function contentLength(opts: ContentLengthOptions): Codec<Buffer> {
  const max = checkMaxFrame("maxFrame", opts.maxFrame);
  const maxHeader = checkMaxFrame("maxHeader", opts.maxHeader ?? 1024);
  return {
    name: "contentLength",
    maxFrame: max,
    decoder: (): Decoder<Buffer> => new ContentLengthDecoder(max, maxHeader),
    encode(body: Buffer): Buffer {
      if (!(body instanceof Uint8Array))
        throw new TypeError("contentLength encodes Buffers (the body bytes)");
      if (body.length > max)
        throw new FrameTooLargeError(
          `body of ${body.length} bytes is past maxFrame ${max} — raise maxFrame`,
          max,
          body.length,
        );
      return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, "latin1"), body]);
    },
  };
}
