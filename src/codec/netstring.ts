/**
 * `netstring()`: D. J. Bernstein's netstrings (https://cr.yp.to/proto/netstrings.txt), used by
 * QMQP, SCGI and others.
 *
 * @module
 */
import { argTypeError } from "../errors/index.js";
import { Accumulator } from "./accumulator.js";
import { BaseDecoder, checkMaxFrame } from "./decoder.js";
import { FrameTooLargeError, MalformedFrameError, TruncatedFrameError } from "./errors.js";
import type { Codec, Decoder } from "./types.js";

/**
 * Options of {@link netstring}.
 *
 * @example
 * ```ts
 * netstring({ maxFrame: 65536 })
 * ```
 */
export interface NetstringOptions {
  /** Largest payload in bytes. Required. */
  readonly maxFrame: number;
}

const COLON = 0x3a;
const COMMA = 0x2c;
const ZERO = 0x30;
const EMPTY = Buffer.alloc(0);
enum State {
  Length,
  Body,
  Comma,
}

function byte(b: number): string {
  const c = b >= 0x20 && b < 0x7f ? ` ('${String.fromCharCode(b)}')` : "";
  return `0x${b.toString(16).padStart(2, "0")}${c}`;
}

class NetstringDecoder extends BaseDecoder<Buffer> {
  readonly #max: number;
  #state = State.Length;
  #digits = 0;
  #leadingZero = false;
  #len = 0;
  #need = 0;
  #body: Buffer = EMPTY;
  readonly #acc: Accumulator;

  constructor(max: number) {
    super();
    this.#max = max;
    this.#acc = new Accumulator(max);
  }

  protected decode(chunk: Buffer, out: Buffer[]): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#state === State.Length) {
        const c = chunk[pos]!;
        const at = this.offset + pos;
        pos++;
        if (c === COLON) {
          if (this.#digits === 0)
            throw new MalformedFrameError("netstring has an empty length before ':'", at);
          this.#state = State.Body;
          this.#need = this.#len;
          continue;
        }
        const d = c - ZERO;
        if (d < 0 || d > 9)
          throw new MalformedFrameError(
            `expected a digit or ':' in a netstring length, got ${byte(c)}`,
            at,
            "check that the peer speaks netstrings (<len>:<bytes>,)",
          );
        if (this.#leadingZero) throw new MalformedFrameError("netstring length has a leading zero", at - 1);
        if (this.#digits === 0 && d === 0) this.#leadingZero = true;
        this.#len = this.#len * 10 + d;
        this.#digits++;
        if (this.#len > this.#max)
          throw new FrameTooLargeError(
            `netstring length is at least ${this.#len} bytes, more than maxFrame ${this.#max} — raise maxFrame or check that the peer speaks netstrings`,
            this.#max,
          );
      } else if (this.#state === State.Body) {
        const avail = chunk.length - pos;
        if (avail < this.#need) {
          this.#acc.append(chunk, pos);
          this.#need -= avail;
          break;
        }
        const end = pos + this.#need;
        // held back until its ',' arrives: a netstring without it is no netstring
        this.#body = this.#acc.length === 0 ? chunk.subarray(pos, end) : this.#acc.concat(chunk, pos, end);
        pos = end;
        this.#state = State.Comma;
      } else {
        const c = chunk[pos]!;
        if (c !== COMMA)
          throw new MalformedFrameError(
            `expected ',' after a ${this.#len}-byte netstring, got ${byte(c)}`,
            this.offset + pos,
            "check the length the peer sends",
          );
        pos++;
        out.push(this.#body);
        this.#body = EMPTY;
        this.#state = State.Length;
        this.#digits = 0;
        this.#len = 0;
        this.#leadingZero = false;
      }
    }
    // a body waiting for its ',' must not be a view of the caller's chunk
    if (this.#state === State.Comma && this.#body.buffer === chunk.buffer)
      this.#body = Buffer.from(this.#body);
  }

  protected finish(): Buffer[] {
    if (this.#state === State.Length && this.#digits === 0) return [];
    const got = this.#acc.length;
    const where =
      this.#state === State.Length
        ? "inside a netstring length"
        : this.#state === State.Body
          ? `inside a ${this.#len}-byte netstring (${got} bytes received)`
          : "before the ',' ending a netstring";
    throw new TruncatedFrameError(`stream ended ${where}`, got);
  }

  protected held(): number {
    return this.#digits + this.#acc.length + this.#body.length;
  }

  protected release(): void {
    this.#acc.release();
    this.#body = EMPTY;
  }
}

/**
 * Netstrings; frames are Buffers (the payload).
 *
 * Wire format:
 * ```
 * +----------------------+-----+-------------------+-----+
 * | len: ASCII decimal   | ':' | len bytes payload | ',' |   e.g. "5:hello,"  "0:,"
 * +----------------------+-----+-------------------+-----+
 * ```
 * The length has no sign, no spaces and no leading zeros ("0" alone is fine). Errors: a length
 * past maxFrame throws FrameTooLargeError as soon as its digits exceed it (no more digits are
 * read); a bad length byte, a leading zero, an empty length or a missing ',' throw
 * MalformedFrameError with the offset; EOF mid-netstring throws TruncatedFrameError. At most
 * maxFrame + (digits of maxFrame) bytes are held.
 *
 * @example
 * ```ts
 * const codec = netstring({ maxFrame: 1 << 16 });
 * codec.encode(Buffer.from("hello"));                 // <Buffer "5:hello,">
 * codec.decoder().push(Buffer.from("5:hello,0:,")); // [<Buffer "hello">, <Buffer >]
 * ```
 */
export function netstring(opts: NetstringOptions): Codec<Buffer> {
  const max = checkMaxFrame("maxFrame", opts.maxFrame);
  return {
    name: "netstring",
    maxFrame: max,
    decoder: (): Decoder<Buffer> => new NetstringDecoder(max),
    encode(frame: Buffer): Buffer {
      if (!(frame instanceof Uint8Array)) throw argTypeError("frame", "a Buffer or Uint8Array", frame);
      if (frame.length > max)
        throw new FrameTooLargeError(
          `netstring of ${frame.length} bytes is past maxFrame ${max} — raise maxFrame`,
          max,
          frame.length,
        );
      return Buffer.concat([Buffer.from(`${frame.length}:`, "latin1"), frame, Buffer.of(COMMA)]);
    },
  };
}
