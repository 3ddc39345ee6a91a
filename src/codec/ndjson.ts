/**
 * `ndjson()`: newline-delimited JSON (JSON Lines), one JSON value per line — the framing of
 * JSON-RPC over TCP in most servers, and of many log and event streams.
 *
 * @module
 */
import { isUtf8 } from "node:buffer";
import { checkMaxFrame } from "./decoder.js";
import { DelimitedDecoder, type DelimitedSpec, SKIP } from "./delimiter.js";
import { FrameTooLargeError, MalformedFrameError, TruncatedFrameError } from "./errors.js";
import type { Codec, Decoder } from "./types.js";

/**
 * Options of {@link ndjson}.
 *
 * @example
 * ```ts
 * ndjson({ maxFrame: 1 << 20 })
 * ```
 */
export interface NdjsonOptions {
  /** Longest line (one encoded value) in bytes, without the newline. Required. */
  readonly maxFrame: number;
}

const LF = 0x0a;
const CR = 0x0d;

function blank(b: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== CR) return false;
  }
  return true;
}

/**
 * Parses one complete JSON text (UTF-8 bytes `b[s..e)`) or throws MalformedFrameError naming
 * `what` and the offset. Shared by {@link ndjson} and `jsonStream`.
 *
 * @example
 * ```ts
 * parseJson(Buffer.from('{"a":1}'), 0, 7, 0, "JSON value"); // { a: 1 }
 * ```
 */
export function parseJson(b: Buffer, s: number, e: number, at: number, what: string): unknown {
  const bytes = b.subarray(s, e);
  if (!isUtf8(bytes))
    throw new MalformedFrameError(`${what} is not valid UTF-8`, at, "JSON must be sent as UTF-8");
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new MalformedFrameError(`${what} is not valid JSON (${(err as Error).message})`, at);
  }
}

/**
 * Newline-delimited JSON: each non-blank line is one JSON value; frames are the parsed values.
 *
 * Wire format:
 * ```
 * +--------------------------------+----+---------+----+-------------+----+
 * | {"jsonrpc":"2.0","method":"x"} | LF | [1,2,3] | LF | (blank)     | LF | …
 * +--------------------------------+----+---------+----+-------------+----+
 * ```
 * Lines end at LF, one CR before it is dropped, blank lines (spaces, tabs) are skipped, and a
 * last line without LF is accepted at EOF if it parses (else TruncatedFrameError). A line that
 * is not UTF-8 or not JSON throws MalformedFrameError with its line number and offset; a line
 * past maxFrame throws FrameTooLargeError once maxFrame + 2 bytes arrive without LF.
 * Encoding is `JSON.stringify(value) + "\n"` (JSON.stringify never emits a raw newline); values
 * JSON cannot represent (undefined, functions) throw TypeError.
 *
 * @example
 * ```ts
 * const codec = ndjson({ maxFrame: 1 << 20 });
 * codec.encode({ id: 1, method: "ping" });                 // <Buffer '{"id":1,"method":"ping"}\n'>
 * codec.decoder().push(Buffer.from('{"a":1}\n\n[2]\n')); // [{ a: 1 }, [2]]
 * ```
 */
export function ndjson<T = unknown>(opts: NdjsonOptions): Codec<T> {
  const max = checkMaxFrame("maxFrame", opts.maxFrame);
  const tooLarge = (size?: number): FrameTooLargeError =>
    new FrameTooLargeError(
      `JSON line longer than ${max} bytes — raise maxFrame or check that the peer sends newline-delimited JSON`,
      max,
      size,
    );
  const makeSpec = (): DelimitedSpec<T> => {
    let line = 0;
    return {
      delimiter: Buffer.of(LF),
      frameLimit: max + 1,
      tooLarge,
      map(b, s, e, at) {
        line++;
        if (e > s && b[e - 1] === CR) e--;
        if (e - s > max) throw tooLarge(e - s);
        if (blank(b, s, e)) return SKIP;
        return parseJson(b, s, e, at, `line ${line}`) as T;
      },
      unterminated(held, at) {
        if (held.length > max) throw tooLarge(held.length);
        if (blank(held, 0, held.length)) return [];
        try {
          return [parseJson(held, 0, held.length, at, `line ${line + 1}`) as T];
        } catch {
          throw new TruncatedFrameError(
            `stream ended inside line ${line + 1} (${held.length} bytes, not valid JSON)`,
            held.length,
          );
        }
      },
    };
  };
  return {
    name: "ndjson",
    maxFrame: max,
    decoder: (): Decoder<T> => new DelimitedDecoder(makeSpec()),
    encode(value: T): Buffer {
      const text = JSON.stringify(value);
      if (text === undefined)
        throw new TypeError(`ndjson cannot encode ${typeof value}: JSON has no such value`);
      const out = Buffer.from(`${text}\n`, "utf8");
      if (out.length - 1 > max) throw tooLarge(out.length - 1);
      return out;
    },
  };
}
