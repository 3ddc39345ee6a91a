/**
 * `lengthPrefixed()`: frames preceded by a fixed-size binary length, as in many binary protocols
 * (TLS records, Kafka, PostgreSQL messages, DNS over TCP with a 2-byte big-endian header).
 *
 * @module
 */
import { argTypeError } from "../errors/index.js";
import { Accumulator } from "./accumulator.js";
import { BaseDecoder, checkMaxFrame } from "./decoder.js";
import { FrameTooLargeError, MalformedFrameError, TruncatedFrameError } from "./errors.js";
import type { Codec, Decoder } from "./types.js";

/**
 * Options of {@link lengthPrefixed}.
 *
 * @example
 * ```ts
 * lengthPrefixed({ headerBytes: 4, endian: "big", maxFrame: 1 << 20 })
 * ```
 */
export interface LengthPrefixedOptions {
  /** Size of the length header: 1, 2 or 4 bytes (unsigned). */
  readonly headerBytes: 1 | 2 | 4;
  /** Byte order of the header. */
  readonly endian: "big" | "little";
  /** Largest frame body in bytes (not counting the header). Required. */
  readonly maxFrame: number;
  /** The announced length counts the header itself (default false: the body only). */
  readonly includesHeader?: boolean;
}

interface Spec {
  readonly h: 1 | 2 | 4;
  readonly big: boolean;
  readonly max: number;
  readonly incl: boolean;
}

function readLength(b: Buffer, at: number, s: Spec): number {
  if (s.h === 1) return b[at]!;
  if (s.h === 2) return s.big ? b.readUInt16BE(at) : b.readUInt16LE(at);
  return s.big ? b.readUInt32BE(at) : b.readUInt32LE(at);
}

function tooLarge(s: Spec, size?: number): FrameTooLargeError {
  const what = size === undefined ? "frame" : `header announces a ${size}-byte frame,`;
  return new FrameTooLargeError(
    `${what} more than maxFrame ${s.max} bytes — raise maxFrame, or check headerBytes/endian match the peer`,
    s.max,
    size,
  );
}

class LengthDecoder extends BaseDecoder<Buffer> {
  readonly #s: Spec;
  readonly #head: Buffer;
  #headLen = 0;
  /** Body bytes still expected, or -1 while reading a header. */
  #need = -1;
  readonly #acc: Accumulator;

  constructor(s: Spec) {
    super();
    this.#s = s;
    this.#head = Buffer.alloc(s.h);
    this.#acc = new Accumulator(s.max);
  }

  protected decode(chunk: Buffer, out: Buffer[]): void {
    const s = this.#s;
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#need < 0) {
        let len: number;
        if (this.#headLen === 0 && chunk.length - pos >= s.h) {
          len = readLength(chunk, pos, s);
          pos += s.h;
        } else {
          const n = Math.min(s.h - this.#headLen, chunk.length - pos);
          chunk.copy(this.#head, this.#headLen, pos, pos + n);
          this.#headLen += n;
          pos += n;
          if (this.#headLen < s.h) break;
          this.#headLen = 0;
          len = readLength(this.#head, 0, s);
        }
        const at = this.offset + pos - s.h;
        if (s.incl) {
          if (len < s.h)
            throw new MalformedFrameError(
              `length ${len} is smaller than the ${s.h}-byte header it includes`,
              at,
              "check includesHeader matches the peer",
            );
          len -= s.h;
        }
        if (len > s.max) throw tooLarge(s, len); // before buffering any of the body
        this.#need = len;
      }
      const acc = this.#acc;
      const avail = chunk.length - pos;
      if (avail < this.#need) {
        acc.append(chunk, pos);
        this.#need -= avail;
        break;
      }
      const end = pos + this.#need;
      out.push(acc.length === 0 ? chunk.subarray(pos, end) : acc.concat(chunk, pos, end));
      pos = end;
      this.#need = -1;
    }
  }

  protected finish(): Buffer[] {
    if (this.#headLen > 0)
      throw new TruncatedFrameError(
        `stream ended inside a length header (${this.#headLen} of ${this.#s.h} bytes)`,
        this.#headLen,
      );
    if (this.#need > 0) {
      const got = this.#acc.length;
      throw new TruncatedFrameError(
        `stream ended inside a ${got + this.#need}-byte frame (${got} bytes received)`,
        got,
      );
    }
    return [];
  }

  protected held(): number {
    return this.#headLen + this.#acc.length;
  }

  protected release(): void {
    this.#acc.release();
  }
}

/**
 * Frames with a binary length header; frames are Buffers (the body).
 *
 * Wire format (headerBytes 2, big endian):
 * ```
 *  0       1       2                         2+len
 * +-------+-------+-------------------------+-------+-------+-----
 * | len (uint16)  | body: len bytes (≤ max) | len           | …
 * +-------+-------+-------------------------+-------+-------+-----
 * ```
 * With `includesHeader`, len counts the header too (len = 2 + body). Limits: a header announcing
 * more than `maxFrame` throws FrameTooLargeError at once, before any of the body is buffered; at
 * most maxFrame + headerBytes bytes are held. A length smaller than the header it includes throws
 * MalformedFrameError; EOF inside a header or body throws TruncatedFrameError. Encoding a body
 * the header cannot express (over 255 bytes with headerBytes 1) or past maxFrame throws
 * FrameTooLargeError.
 *
 * @example
 * ```ts
 * const codec = lengthPrefixed({ headerBytes: 4, endian: "big", maxFrame: 1 << 20 });
 * const wire = codec.encode(Buffer.from("hello")); // <00 00 00 05 68 65 6c 6c 6f>
 * codec.decoder().push(wire);                      // [<Buffer 68 65 6c 6c 6f>]
 * ```
 */
export function lengthPrefixed(opts: LengthPrefixedOptions): Codec<Buffer> {
  const max = checkMaxFrame("maxFrame", opts.maxFrame);
  const h = opts.headerBytes;
  if (h !== 1 && h !== 2 && h !== 4) throw argTypeError("headerBytes", "1, 2 or 4", h);
  if (opts.endian !== "big" && opts.endian !== "little")
    throw argTypeError("endian", '"big" or "little"', opts.endian);
  const incl = opts.includesHeader ?? false;
  const s: Spec = { h, big: opts.endian === "big", max, incl };
  const headerMax = 2 ** (8 * h) - 1 - (incl ? h : 0);
  return {
    name: "lengthPrefixed",
    maxFrame: max,
    decoder: (): Decoder<Buffer> => new LengthDecoder(s),
    encode(frame: Buffer): Buffer {
      if (!(frame instanceof Uint8Array)) throw argTypeError("frame", "a Buffer or Uint8Array", frame);
      const n = frame.length;
      if (n > max) throw tooLarge(s, n);
      if (n > headerMax)
        throw new FrameTooLargeError(
          `a ${h}-byte header can announce at most ${headerMax} bytes, frame has ${n}`,
          headerMax,
          n,
        );
      const out = Buffer.allocUnsafe(h + n);
      const len = incl ? n + h : n;
      if (h === 1) out[0] = len;
      else if (h === 2) {
        if (s.big) out.writeUInt16BE(len, 0);
        else out.writeUInt16LE(len, 0);
      } else if (s.big) out.writeUInt32BE(len, 0);
      else out.writeUInt32LE(len, 0);
      out.set(frame, h);
      return out;
    },
  };
}
