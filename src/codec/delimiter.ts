/**
 * `delimiter()`: frames separated by a fixed byte sequence (e.g. "\r\n\r\n", "\0"), and the
 * shared scanner that `lines()` builds on.
 *
 * @module
 */
import { argTypeError } from "../errors/index.js";
import { Accumulator } from "./accumulator.js";
import { BaseDecoder, checkMaxFrame } from "./decoder.js";
import { FrameTooLargeError, MalformedFrameError, TruncatedFrameError } from "./errors.js";
import type { Codec, Decoder } from "./types.js";

/**
 * What a {@link DelimitedSpec} `map` returns for a frame to drop (e.g. a blank line).
 *
 * @example
 * ```ts
 * map: (b, s, e) => (s === e ? SKIP : b.subarray(s, e))
 * ```
 */
export const SKIP: unique symbol = Symbol("skip");

/**
 * How a {@link DelimitedDecoder} checks and converts frames.
 *
 * @example
 * ```ts
 * see {@link DelimitedDecoder}
 * ```
 */
export interface DelimitedSpec<T> {
  /** The separator (1 or more bytes). */
  readonly delimiter: Buffer;
  /** Largest frame (bytes before the delimiter) passed to `map`. */
  readonly frameLimit: number;
  /** The error for a frame past `frameLimit` (`size` when the frame completed). */
  tooLarge(size?: number): FrameTooLargeError;
  /** Converts `buf[start..end)`, which began at stream offset `at`, to a frame (or SKIP). */
  map(buf: Buffer, start: number, end: number, at: number): T | typeof SKIP;
  /** At EOF with `held` bytes pending (held > 0) that began at stream offset `at`. */
  unterminated(held: Buffer, at: number): T[];
}

/**
 * A decoder of delimiter-terminated frames. Each pushed byte is scanned once (a delimiter split
 * across chunks is found by looking at the last m−1 held bytes plus the first m−1 new ones), so
 * decoding is linear however the stream is chunked. Frames inside one chunk are not copied.
 *
 * @example
 * ```ts
 * const d = new DelimitedDecoder({ delimiter: Buffer.from("|"), frameLimit: 10,
 *   tooLarge: (n) => new FrameTooLargeError("too long", 10, n), map: (b, s, e) => b.subarray(s, e),
 *   unterminated: () => [] });
 * d.push(Buffer.from("a|b|")); // [<61>, <62>]
 * ```
 */
export class DelimitedDecoder<T> extends BaseDecoder<T> {
  readonly #spec: DelimitedSpec<T>;
  readonly #delim: Buffer;
  readonly #byte: number;
  readonly #acc: Accumulator;
  readonly #hold: number;

  /** See {@link DelimitedSpec}. */
  constructor(spec: DelimitedSpec<T>) {
    super();
    this.#spec = spec;
    this.#delim = spec.delimiter;
    this.#byte = spec.delimiter[0]!;
    // a full-size frame may be followed by up to m-1 bytes of a delimiter still incomplete
    this.#hold = spec.frameLimit + spec.delimiter.length - 1;
    this.#acc = new Accumulator(this.#hold);
  }

  protected decode(chunk: Buffer, out: T[]): void {
    const acc = this.#acc;
    const m = this.#delim.length;
    const limit = this.#spec.frameLimit;
    let pos = 0;
    if (acc.length > 0 && m > 1) pos = this.#spanning(chunk, out);
    for (;;) {
      const i = m === 1 ? chunk.indexOf(this.#byte, pos) : chunk.indexOf(this.#delim, pos);
      if (i === -1) break;
      const size = acc.length + i - pos;
      if (size > limit) throw this.#spec.tooLarge(size);
      const at = this.offset + pos - acc.length;
      const v =
        acc.length === 0
          ? this.#spec.map(chunk, pos, i, at)
          : this.#spec.map(acc.concat(chunk, pos, i), 0, size, at);
      if (v !== SKIP) out.push(v);
      pos = i + m;
    }
    if (acc.length + chunk.length - pos > this.#hold) throw this.#spec.tooLarge();
    acc.append(chunk, pos);
  }

  /** A delimiter that starts in the held bytes and ends in `chunk`: emits it, returns where to go on. */
  #spanning(chunk: Buffer, out: T[]): number {
    const acc = this.#acc;
    const m = this.#delim.length;
    const k = Math.min(m - 1, acc.length);
    const j = Math.min(m - 1, chunk.length);
    const window = Buffer.allocUnsafe(k + j);
    acc.view().copy(window, 0, acc.length - k);
    chunk.copy(window, k, 0, j);
    const p = window.indexOf(this.#delim);
    if (p === -1) return 0;
    const size = acc.length - k + p; // p < k: a match needs m > j bytes, so it starts in the held part
    if (size > this.#spec.frameLimit) throw this.#spec.tooLarge(size);
    const at = this.offset - acc.length;
    const frame = Buffer.from(acc.view().subarray(0, size));
    acc.clear();
    const v = this.#spec.map(frame, 0, size, at);
    if (v !== SKIP) out.push(v);
    return p + m - k;
  }

  protected finish(): T[] {
    if (this.#acc.length === 0) return [];
    const held = Buffer.from(this.#acc.view());
    this.#acc.release();
    return this.#spec.unterminated(held, this.offset - held.length);
  }

  protected held(): number {
    return this.#acc.length;
  }

  protected release(): void {
    this.#acc.release();
  }
}

/**
 * Options of {@link delimiter}.
 *
 * @example
 * ```ts
 * delimiter({ delimiter: "\r\n\r\n", maxFrame: 16384 })
 * ```
 */
export interface DelimiterOptions {
  /** The separator: bytes or a UTF-8 string, at least one byte (e.g. "\r\n\r\n", "\0"). */
  readonly delimiter: Uint8Array | string;
  /** Largest frame in bytes, not counting the delimiter. Required. */
  readonly maxFrame: number;
  /** At EOF, return held bytes as a last frame instead of throwing TruncatedFrameError (default false). */
  readonly allowUnterminatedAtEnd?: boolean;
}

function show(d: Buffer): string {
  return JSON.stringify(d.toString("latin1"));
}

/**
 * Frames terminated by a fixed byte sequence; frames are Buffers without the delimiter.
 *
 * Wire format (delimiter D, here "\r\n\r\n"):
 * ```
 * +------------------+------------+------------------+------------+
 * | frame 1 (≤ max)  | D (m bytes)| frame 2 (≤ max)  | D          | …
 * +------------------+------------+------------------+------------+
 * ```
 * A frame cannot contain D (encode rejects it: MalformedFrameError). Limits: a frame longer than
 * `maxFrame` throws FrameTooLargeError as soon as `maxFrame + m` bytes arrive without a delimiter;
 * at most `maxFrame + m − 1` bytes are held. At EOF, held bytes throw TruncatedFrameError unless
 * `allowUnterminatedAtEnd`.
 *
 * @example
 * ```ts
 * const codec = delimiter({ delimiter: "\r\n\r\n", maxFrame: 16 * 1024 });
 * const d = codec.decoder();
 * d.push(Buffer.from("GET / HTTP/1.0\r\n\r")); // []
 * d.push(Buffer.from("\nnext"));               // [<Buffer "GET / HTTP/1.0">]
 * codec.encode(Buffer.from("hi"));             // <Buffer "hi\r\n\r\n">
 * ```
 */
export function delimiter(opts: DelimiterOptions): Codec<Buffer> {
  const maxFrame = checkMaxFrame("maxFrame", opts.maxFrame);
  const raw = opts.delimiter;
  if (typeof raw !== "string" && !(raw instanceof Uint8Array))
    throw argTypeError("delimiter", "a string or Uint8Array", raw);
  const delim = Buffer.from(typeof raw === "string" ? Buffer.from(raw, "utf8") : raw);
  if (delim.length === 0) throw argTypeError("delimiter", "at least one byte", raw);
  const allowEnd = opts.allowUnterminatedAtEnd ?? false;
  const tooLarge = (size?: number): FrameTooLargeError =>
    new FrameTooLargeError(
      `frame longer than ${maxFrame} bytes without a ${show(delim)} delimiter — raise maxFrame or check that the peer sends the delimiter`,
      maxFrame,
      size,
    );
  const spec: DelimitedSpec<Buffer> = {
    delimiter: delim,
    frameLimit: maxFrame,
    tooLarge,
    map: (b, s, e) => b.subarray(s, e),
    unterminated: (held) => {
      if (allowEnd) return [held];
      throw new TruncatedFrameError(
        `stream ended with ${held.length} bytes but no ${show(delim)} delimiter`,
        held.length,
      );
    },
  };
  return {
    name: "delimiter",
    maxFrame,
    decoder: (): Decoder<Buffer> => new DelimitedDecoder(spec),
    encode(frame: Buffer): Buffer {
      if (!(frame instanceof Uint8Array)) throw argTypeError("frame", "a Buffer or Uint8Array", frame);
      if (frame.length > maxFrame) throw tooLarge(frame.length);
      const wire = Buffer.concat([frame, delim]);
      // the first delimiter on the wire must be ours: a frame may neither contain D nor end with
      // bytes that form D together with the start of ours ("x\r\n" + "\r\n\r\n")
      const i = wire.indexOf(delim);
      if (i !== frame.length)
        throw new MalformedFrameError(
          `frame contains the delimiter ${show(delim)} (or ends with part of it)`,
          i,
          "escape it",
        );
      return wire;
    },
  };
}
