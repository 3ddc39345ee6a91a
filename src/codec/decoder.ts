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

/** Largest maxFrame any codec accepts (1 GiB): frames are held in one Buffer. */
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
 * Base of the codecs' decoders. Subclasses implement `decode` (one chunk, as a Buffer view),
 * `finish` (EOF), `held` (bytes buffered) and `release` (drop buffers after an error).
 *
 * @example
 * ```ts
 * class Bytes extends BaseDecoder<Buffer> {
 *   protected decode(b: Buffer) { return [b]; }
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
    try {
      return this.decode(b);
    } catch (err) {
      throw this.#fail(err);
    } finally {
      this.offset += b.length;
    }
  }

  /** Signals EOF; see {@link Decoder.end}. Calling it again returns []. */
  end(): T[] {
    if (this.#error !== undefined) throw this.#error;
    if (this.#ended) return [];
    this.#ended = true;
    try {
      return this.finish();
    } catch (err) {
      throw this.#fail(err);
    }
  }

  /** Bytes held waiting for a frame to complete. */
  get buffered(): number {
    return this.held();
  }

  #fail(err: unknown): unknown {
    if (err instanceof CodecErrorClass) {
      this.#error = err;
      this.release();
    }
    return err;
  }

  /** Decodes one chunk. */
  protected abstract decode(chunk: Buffer): T[];
  /** Handles EOF. */
  protected abstract finish(): T[];
  /** Bytes held. */
  protected abstract held(): number;
  /** Drops held buffers (the decoder is unusable after an error). */
  protected abstract release(): void;
}
