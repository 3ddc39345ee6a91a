/**
 * The two interfaces every codec implements: a sans-IO {@link Decoder} (bytes in, frames out, no
 * sockets, no timers) and a {@link Codec} that makes decoders and encodes frames.
 *
 * @module
 */

/**
 * An incremental decoder: feed it bytes as they arrive, collect the frames that completed.
 *
 * Buffer frames may be views into the chunk you pushed (no copy when a frame lies inside one
 * chunk); the decoder keeps no reference to a pushed chunk after `push` returns, so you may reuse
 * chunk memory once you are done with the frames it produced.
 *
 * @example
 * ```ts
 * const d = lines({ maxLine: 1024 }).decoder();
 * d.push(Buffer.from("hel"));        // []
 * d.push(Buffer.from("lo\nworld\n")); // ["hello", "world"]
 * d.end();                           // []
 * ```
 */
export interface Decoder<T> {
  /**
   * Feeds bytes; returns the complete frames now available (possibly none). Throws a CodecError
   * subclass on bad input; after a throw the decoder is unusable (further calls throw the same
   * error). When a chunk holds complete frames and then bad bytes, the frames are returned and
   * the error is thrown by the next call (`push(new Uint8Array(0))` checks for it), so the frames
   * before an error never depend on how the stream was chunked.
   */
  push(chunk: Uint8Array): T[];
  /**
   * At EOF: returns any final frame (e.g. an unterminated last line when allowed) or throws
   * TruncatedFrameError if a partial frame is pending.
   */
  end(): T[];
  /** Bytes held waiting for a frame to complete (never > maxFrame + largest chunk). */
  readonly buffered: number;
}

/**
 * A framing scheme: makes decoders (one per connection) and encodes frames.
 *
 * @example
 * ```ts
 * const codec = lengthPrefixed({ headerBytes: 2, endian: "big", maxFrame: 4096 });
 * const wire = codec.encode(Buffer.from("hi")); // <00 02 68 69>
 * codec.decoder().push(wire);                   // [<68 69>]
 * ```
 */
export interface Codec<T> {
  /** A fresh decoder (decoders hold per-stream state: one per connection). */
  decoder(): Decoder<T>;
  /** The frame's bytes on the wire; throws FrameTooLargeError past {@link maxFrame}. */
  encode(frame: T): Buffer;
  /** Largest frame (payload bytes) this codec accepts, in both directions. */
  readonly maxFrame: number;
  /** Short name for messages and traces, e.g. `"lines"`. */
  readonly name: string;
}
