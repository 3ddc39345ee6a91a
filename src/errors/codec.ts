/**
 * Framing errors (layer L0 so the core's `readline` and the codecs share them): what the peer
 * sent cannot be framed. Each carries a stable `code` and a message saying what is wrong, where
 * (byte offset in the stream) and what to check.
 *
 * @module
 */

/**
 * Base class of every decoding error (`instanceof CodecError` catches them all).
 *
 * @example
 * ```ts
 * try { decoder.push(chunk); } catch (e) { if (e instanceof CodecError) console.log(e.code); }
 * ```
 */
export class CodecError extends Error {
  /** Stable machine-readable code: "EFRAMETOOLARGE", "EMALFORMED" or "ETRUNCATED". */
  readonly code: string;

  /** Makes an error with `code` and a full message. */
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A frame is longer than the codec's maximum. Nothing past the limit was buffered.
 *
 * @example
 * ```ts
 * new FrameTooLargeError("line longer than 8192 bytes — raise maxLine or check that the peer sends newlines", 8192);
 * ```
 */
export class FrameTooLargeError extends CodecError {
  /** The maximum frame size that was exceeded (bytes). */
  readonly limit: number;
  /** The frame's size when it is known (a length header announced it, or the frame completed). */
  readonly size: number | undefined;

  /** `message` should say which option raises the limit. */
  constructor(message: string, limit: number, size?: number) {
    super("EFRAMETOOLARGE", message);
    this.limit = limit;
    this.size = size;
  }
}

/**
 * The bytes break the framing rules (a netstring without its comma, JSON that does not parse…).
 *
 * @example
 * ```ts
 * new MalformedFrameError("netstring length has a leading zero", 0);
 * ```
 */
export class MalformedFrameError extends CodecError {
  /** Byte offset in the stream (counted from the first byte pushed) where the problem is. */
  readonly offset: number;

  /** The message is completed with the offset: `"<what> at byte offset <n>"`. */
  constructor(what: string, offset: number, hint?: string) {
    super("EMALFORMED", `${what} at byte offset ${offset}${hint === undefined ? "" : ` — ${hint}`}`);
    this.offset = offset;
  }
}

/**
 * The stream ended in the middle of a frame.
 *
 * @example
 * ```ts
 * new TruncatedFrameError("stream ended inside a 10-byte frame (4 bytes received)", 4);
 * ```
 */
export class TruncatedFrameError extends CodecError {
  /** Bytes of the incomplete frame that had arrived. */
  readonly received: number;

  /** `message` says what was expected. */
  constructor(message: string, received: number) {
    super("ETRUNCATED", `${message} — the peer closed or was cut off mid-frame`);
    this.received = received;
  }
}
