/**
 * `lines()`: newline-terminated text, the framing of SMTP, FTP control, IRC, Redis inline
 * commands and most things typed into netcat.
 *
 * @module
 */
import { argTypeError } from "../errors/index.js";
import { checkMaxFrame } from "./decoder.js";
import { DelimitedDecoder, type DelimitedSpec } from "./delimiter.js";
import { FrameTooLargeError, MalformedFrameError, TruncatedFrameError } from "./errors.js";
import type { Codec, Decoder } from "./types.js";

const LF = 0x0a;
const CR = 0x0d;

/**
 * Options of {@link lines}.
 *
 * @example
 * ```ts
 * lines({ maxLine: 1000, crlf: "strict", encoding: "latin1" })
 * ```
 */
export interface LinesOptions {
  /** Longest line in bytes, not counting the CR/LF. Required. */
  readonly maxLine: number;
  /**
   * "lenient" (default): a line ends at LF; one CR before it is stripped.
   * "strict": every line must end with CRLF (a bare LF throws MalformedFrameError).
   */
  readonly crlf?: "strict" | "lenient";
  /** Frames as "utf8" strings (default; invalid bytes become U+FFFD), "latin1" strings, or "buffer". */
  readonly encoding?: "utf8" | "latin1" | "buffer";
  /** At EOF, return a last line that has no newline instead of throwing TruncatedFrameError. */
  readonly allowUnterminatedAtEnd?: boolean;
  /** What `encode` appends: "\n" (default) or "\r\n" (the default with crlf "strict"). */
  readonly eol?: "\n" | "\r\n";
}

/**
 * The frame type of {@link lines} for an encoding.
 *
 * @example
 * ```ts
 * const l: LineOf<"buffer"> = Buffer.from("a line"); // Buffer; LineOf<"utf8"> is string
 * ```
 */
export type LineOf<E> = E extends "buffer" ? Buffer : string;

/**
 * Newline-terminated lines.
 *
 * Wire format:
 * ```
 * +---------------------+----------+---------------------+----------+
 * | line 1 (≤ maxLine)  | [CR] LF  | line 2 (≤ maxLine)  | [CR] LF  | …
 * +---------------------+----------+---------------------+----------+
 * ```
 * Decoding: a line ends at LF (0x0a). With crlf "lenient" (default) one CR (0x0d) before it is
 * dropped; with "strict" it is required. maxLine counts the line without CR/LF, in bytes.
 * Limits: a line past maxLine throws FrameTooLargeError as soon as maxLine + 2 bytes arrive
 * without LF; at most maxLine + 1 bytes are held. At EOF a partial line throws
 * TruncatedFrameError unless `allowUnterminatedAtEnd` (then it is returned as is).
 * Encoding appends `eol`; a line containing LF (or CR, with CRLF framing) throws
 * MalformedFrameError, a line past maxLine FrameTooLargeError.
 *
 * @example
 * ```ts
 * const codec = lines({ maxLine: 8192 });
 * const d = codec.decoder();
 * d.push(Buffer.from("USER anonymous\r\nPASS x")); // ["USER anonymous"]
 * d.push(Buffer.from("\n"));                      // ["PASS x"]
 * codec.encode("220 ready");                      // <Buffer "220 ready\n">
 * ```
 */
export function lines<E extends "utf8" | "latin1" | "buffer" = "utf8">(
  opts: LinesOptions & { readonly encoding?: E },
): Codec<LineOf<E>> {
  const maxLine = checkMaxFrame("maxLine", opts.maxLine);
  const crlf = opts.crlf ?? "lenient";
  if (crlf !== "strict" && crlf !== "lenient") throw argTypeError("crlf", '"strict" or "lenient"', crlf);
  const encoding = opts.encoding ?? "utf8";
  if (encoding !== "utf8" && encoding !== "latin1" && encoding !== "buffer")
    throw argTypeError("encoding", '"utf8", "latin1" or "buffer"', encoding);
  const eol = opts.eol ?? (crlf === "strict" ? "\r\n" : "\n");
  if (eol !== "\n" && eol !== "\r\n") throw argTypeError("eol", '"\\n" or "\\r\\n"', eol);
  const strict = crlf === "strict";
  const allowEnd = opts.allowUnterminatedAtEnd ?? false;
  const tooLarge = (size?: number): FrameTooLargeError =>
    new FrameTooLargeError(
      `line longer than ${maxLine} bytes — raise maxLine or check that the peer sends newlines`,
      maxLine,
      size,
    );
  const convert = (b: Buffer, s: number, e: number): LineOf<E> =>
    (encoding === "buffer" ? b.subarray(s, e) : b.toString(encoding, s, e)) as LineOf<E>;
  const spec: DelimitedSpec<LineOf<E>> = {
    delimiter: Buffer.of(LF),
    frameLimit: maxLine + 1, // the line plus its CR
    tooLarge,
    map(b, s, e, at) {
      if (e > s && b[e - 1] === CR) e--;
      else if (strict)
        throw new MalformedFrameError(
          "line ends with a bare LF",
          at + e - s,
          'crlf: "strict" needs CRLF; use crlf: "lenient" to accept LF',
        );
      if (e - s > maxLine) throw tooLarge(e - s);
      return convert(b, s, e);
    },
    unterminated(held) {
      if (!allowEnd)
        throw new TruncatedFrameError(
          `stream ended inside a line (${held.length} bytes without a newline)`,
          held.length,
        );
      if (held.length > maxLine) throw tooLarge(held.length);
      return [convert(held, 0, held.length)];
    },
  };
  const nl = Buffer.from(eol, "latin1");
  return {
    name: "lines",
    maxFrame: maxLine,
    decoder: (): Decoder<LineOf<E>> => new DelimitedDecoder(spec),
    encode(frame: LineOf<E>): Buffer {
      let b: Buffer;
      if (typeof frame === "string") {
        if (encoding === "latin1") {
          const bad = frame.search(/[^\x00-\xff]/);
          if (bad !== -1)
            throw new MalformedFrameError("line has a character above U+00FF (latin1 encoding)", bad);
        }
        b = Buffer.from(frame, encoding === "latin1" ? "latin1" : "utf8");
      } else if (frame instanceof Uint8Array) {
        b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
      } else throw argTypeError("line", "a string or Buffer", frame);
      if (b.length > maxLine) throw tooLarge(b.length);
      const lf = b.indexOf(LF);
      if (lf !== -1) throw new MalformedFrameError("line contains LF", lf, "split it into several lines");
      // with "\n" a trailing CR would be taken for part of the line ending; with crlf "strict"
      // (SMTP, FTP, IRC) a CR anywhere is refused so that such peers never see a bare CR
      const trailingCR = eol === "\n" && b.length > 0 && b[b.length - 1] === CR ? b.length - 1 : -1;
      const cr = strict ? b.indexOf(CR) : trailingCR;
      if (cr !== -1) throw new MalformedFrameError("line contains CR", cr, "CR is part of the line ending");
      return Buffer.concat([b, nl]);
    },
  };
}
