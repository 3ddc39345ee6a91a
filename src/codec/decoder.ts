/**
 * `BaseDecoder`: the contract every decoder shares — argument checks, the stream offset for
 * error messages, and poisoning (after a CodecError, every later call throws that error).
 *
 * @module
 */
import { argTypeError, checkInt } from "../errors/index.js";
import type { CodecError } from "./errors.js";
import { CodecError as CodecErrorClass } from "./errors.js";
import type { Decoder } from "./types.js";

/**
 * Largest maxFrame any codec accepts (1 GiB): frames are held in one Buffer.
 *
 * @example
 * ```ts
 * checkMaxFrame("maxFrame", MAX_FRAME_LIMIT); // ok; one more throws RangeError
 * ```
 */
export const MAX_FRAME_LIMIT = 2 ** 30;

/**
 * Checks a required maximum-size option: an integer in 1..2^30; returns it.
 *
 * @example
 * ```ts
 * const max = checkMaxFrame("maxLine", opts.maxLine); // TypeError if missing
 * ```
 */
export function checkMaxFrame(name: string, value: unknown): number {
  if (value === undefined) throw argTypeError(name, "set (every codec needs a maximum frame size)", value);
  return checkInt(name, value, 1, MAX_FRAME_LIMIT);
}

/**
 * Base of the codecs' decoders. If a chunk holds complete frames and then bad bytes, `push`
 * returns those frames and the error is thrown by the next call (`push` or `end`).
 * Subclasses implement `decode` (one chunk, as a Buffer view),
 * `finish` (EOF), `held` (bytes buffered) and `release` (drop buffers after an error).
 *
 * @example
 * ```ts
 * class Bytes extends BaseDecoder<Buffer> {
 *   protected decode(b: Buffer, out: Buffer[]) { out.push(b); }
 *   protected finish() { return []; }
 *   protected held() { return 0; }
 *   protected release() {}
 * }
 * ```
 */
export abstract class BaseDecoder<T> implements Decoder<T> {
  #error: CodecError | undefined;
  #ended = false;
  /** Stream offset of the first byte of the chunk being decoded (for error messages). */
  protected offset = 0;

  /** Feeds bytes; see {@link Decoder.push}. */
  push(chunk: Uint8Array): T[] {
    if (this.#error !== undefined) throw this.#error;
    if (this.#ended) throw new Error("push() after end(): make a new decoder for a new stream");
    if (!(chunk instanceof Uint8Array)) throw argTypeError("chunk", "a Uint8Array", chunk);
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: T[] = [];
    try {
      this.decode(b, out);
    } catch (err) {
      // frames completed before the bad bytes are delivered; the error comes with the next call,
      // so what a stream yields before failing does not depend on how it was chunked
      if (this.#fail(err) && out.length > 0) return out;
      throw err;
    } finally {
      this.offset += b.length;
    }
    return out;
  }

  /** Signals EOF; see {@link Decoder.end}. Calling it again returns []. */
  end(): T[] {
    if (this.#error !== undefined) throw this.#error;
    if (this.#ended) return [];
    this.#ended = true;
    try {
      return this.finish();
    } catch (err) {
      this.#fail(err);
      throw err;
    }
  }

  /** Bytes held waiting for a frame to complete. */
  get buffered(): number {
    return this.held();
  }

  /** Poisons the decoder if `err` is a CodecError; says whether it was. */
  #fail(err: unknown): boolean {
    if (!(err instanceof CodecErrorClass)) return false;
    this.#error = err;
    this.release();
    return true;
  }

  /** Decodes one chunk, appending complete frames to `out` (kept even if it then throws). */
  protected abstract decode(chunk: Buffer, out: T[]): void;
  /** Handles EOF. */
  protected abstract finish(): T[];
  /** Bytes held. */
  protected abstract held(): number;
  /** Drops held buffers (the decoder is unusable after an error). */
  protected abstract release(): void;
}
