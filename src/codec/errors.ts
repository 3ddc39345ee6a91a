/**
 * Codec errors: `CodecError` and its subclasses `FrameTooLargeError` ("EFRAMETOOLARGE"),
 * `MalformedFrameError` ("EMALFORMED") and `TruncatedFrameError` ("ETRUNCATED").
 *
 * They live in the error model (src/errors/codec.ts, layer L0) so that the core's `readline`
 * and the codecs throw the same classes — one `instanceof CodecError` catches both. This file
 * re-exports them for the codec layer.
 *
 * @example
 * ```ts
 * import { CodecError, FrameTooLargeError } from "sockit/codec";
 * try { decoder.push(chunk); } catch (e) { if (e instanceof FrameTooLargeError) console.log(e.limit); }
 * ```
 * @module
 */
export { CodecError, FrameTooLargeError, MalformedFrameError, TruncatedFrameError } from "../errors/codec.js";
