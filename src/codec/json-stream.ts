/**
 * `jsonStream()`: concatenated JSON values (`{"a":1}{"b":2} [3] "x" 4`), with or without
 * whitespace between them — what JSON-RPC peers send over TCP when they do not use newlines.
 *
 * @module
 */
import { Accumulator } from "./accumulator.js";
import { BaseDecoder, checkMaxFrame } from "./decoder.js";
import { FrameTooLargeError, MalformedFrameError, TruncatedFrameError } from "./errors.js";
import { parseJson } from "./ndjson.js";
import type { Codec, Decoder } from "./types.js";

/**
 * Options of {@link jsonStream}.
 *
 * @example
 * ```ts
 * jsonStream({ maxFrame: 1 << 20 })
 * ```
 */
export interface JsonStreamOptions {
  /** Longest encoded value in bytes. Required. */
  readonly maxFrame: number;
}

const WS = 1;
const SCALAR = 2;
/** Byte classes: whitespace between values, and bytes that may make up a bare number/literal. */
const CLASS = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) CLASS[c] = WS;
for (const c of Buffer.from("0123456789+-.eEabcdfghijklmnopqrstuvwxyzABCDFGHIJKLMNOPQRSTUVWXYZ", "latin1"))
  CLASS[c] = SCALAR;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
enum Mode {
  Between,
  Value, // an object, an array or a string: ends when depth returns to 0 outside a string
  Scalar, // a number or literal: ends at the first byte that cannot be part of it
}

function byte(b: number): string {
  const c = b >= 0x20 && b < 0x7f ? ` ('${String.fromCharCode(b)}')` : "";
  return `0x${b.toString(16).padStart(2, "0")}${c}`;
}

class JsonStreamDecoder<T> extends BaseDecoder<T> {
  readonly #max: number;
  readonly #acc: Accumulator;
  #mode = Mode.Between;
  #depth = 0;
  #inStr = false;
  #esc = false;
  /** Stream offset where the current value began. */
  #at = 0;

  constructor(max: number) {
    super();
    this.#max = max;
    this.#acc = new Accumulator(max);
  }

  protected decode(chunk: Buffer, out: T[]): void {
    const n = chunk.length;
    let start = 0; // where the current value starts in this chunk (0 if it began earlier)
    let depth = this.#depth;
    let inStr = this.#inStr;
    let esc = this.#esc;
    let mode = this.#mode;
    for (let i = 0; i < n; i++) {
      const c = chunk[i]!;
      if (mode === Mode.Between) {
        const k = CLASS[c];
        if (k === WS) continue;
        start = i;
        this.#at = this.offset + i;
        if (c === 0x7b || c === 0x5b) {
          mode = Mode.Value;
          depth = 1;
        } else if (c === QUOTE) {
          mode = Mode.Value;
          depth = 0;
          inStr = true;
        } else if (k === SCALAR) mode = Mode.Scalar;
        else
          throw new MalformedFrameError(
            `unexpected byte ${byte(c)} between JSON values`,
            this.offset + i,
            "the peer must send JSON values, optionally separated by whitespace",
          );
      } else if (mode === Mode.Value) {
        if (inStr) {
          if (esc) esc = false;
          else if (c === BACKSLASH) esc = true;
          else if (c === QUOTE) {
            inStr = false;
            if (depth === 0) {
              out.push(this.#emit(chunk, start, i + 1));
              mode = Mode.Between;
            }
          }
        } else if (c === QUOTE) inStr = true;
        else if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
          if (--depth === 0) {
            out.push(this.#emit(chunk, start, i + 1));
            mode = Mode.Between;
          }
        }
      } else if (CLASS[c] !== SCALAR) {
        out.push(this.#emit(chunk, start, i));
        mode = Mode.Between;
        i--; // this byte starts the next value (or is whitespace or garbage)
      }
    }
    this.#depth = depth;
    this.#inStr = inStr;
    this.#esc = esc;
    this.#mode = mode;
    if (mode !== Mode.Between) {
      if (this.#acc.length + n - start > this.#max) throw this.#tooLarge();
      this.#acc.append(chunk, start);
    }
  }

  #emit(chunk: Buffer, start: number, end: number): T {
    const acc = this.#acc;
    const size = acc.length + end - start;
    if (size > this.#max) throw this.#tooLarge(size);
    if (acc.length === 0) return parseJson(chunk, start, end, this.#at, "JSON value") as T;
    return parseJson(acc.concat(chunk, start, end), 0, size, this.#at, "JSON value") as T;
  }

  #tooLarge(size?: number): FrameTooLargeError {
    return new FrameTooLargeError(
      `JSON value longer than ${this.#max} bytes (it began at byte offset ${this.#at}) — raise maxFrame or check that the peer's brackets and quotes balance`,
      this.#max,
      size,
    );
  }

  protected finish(): T[] {
    if (this.#mode === Mode.Between) return [];
    const held = Buffer.from(this.#acc.view());
    this.#acc.release();
    if (this.#mode === Mode.Scalar) return [parseJson(held, 0, held.length, this.#at, "JSON value") as T];
    const what = this.#inStr ? "a string" : `${this.#depth} open bracket${this.#depth === 1 ? "" : "s"}`;
    throw new TruncatedFrameError(
      `stream ended inside a JSON value begun at byte offset ${this.#at} (${held.length} bytes, ${what})`,
      held.length,
    );
  }

  protected held(): number {
    return this.#acc.length;
  }

  protected release(): void {
    this.#acc.release();
  }
}

/**
 * Concatenated JSON values; frames are the parsed values.
 *
 * Wire format (whitespace between values optional; a bare number or literal needs whitespace,
 * a bracket or a quote after it, or the end of the stream):
 * ```
 * +---------+---------+-----+-----+-----+----+-----+-----+--------+
 * | {"a":1} | {"b":2} | ws  | [3] | ws  | "x"| ws  | 4   | ws/EOF | …
 * +---------+---------+-----+-----+-----+----+-----+-----+--------+
 * ```
 * Value boundaries are found by a small state machine (bracket depth, inside-string, escape),
 * one pass over each byte (linear time); each value is then checked by `JSON.parse`. Errors: a
 * value past maxFrame throws FrameTooLargeError (at most maxFrame bytes are held between
 * pushes); a byte that cannot start a value (`]`, `,`…) or a value `JSON.parse` rejects throws
 * MalformedFrameError with the offset; EOF inside an object, array or string throws
 * TruncatedFrameError. Encoding is `JSON.stringify(value) + "\n"` (the newline ends a bare
 * number for the peer at once).
 *
 * @example
 * ```ts
 * const codec = jsonStream({ maxFrame: 1 << 20 });
 * const d = codec.decoder();
 * d.push(Buffer.from('{"a":1}{"b"'));   // [{ a: 1 }]
 * d.push(Buffer.from(':2} [3] "x" 4')); // [{ b: 2 }, [3], "x"]
 * d.end();                              // [4]
 * ```
 */
export function jsonStream<T = unknown>(opts: JsonStreamOptions): Codec<T> {
  const max = checkMaxFrame("maxFrame", opts.maxFrame);
  return {
    name: "jsonStream",
    maxFrame: max,
    decoder: (): Decoder<T> => new JsonStreamDecoder<T>(max),
    encode(value: T): Buffer {
      const text = JSON.stringify(value);
      if (text === undefined)
        throw new TypeError(`jsonStream cannot encode ${typeof value}: JSON has no such value`);
      const out = Buffer.from(`${text}\n`, "utf8");
      if (out.length - 1 > max)
        throw new FrameTooLargeError(
          `JSON value of ${out.length - 1} bytes is past maxFrame ${max} — raise maxFrame`,
          max,
          out.length - 1,
        );
      return out;
    },
  };
}
