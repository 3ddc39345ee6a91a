/**
 * Sans-IO framing (`sockit/codec`): codecs turn a byte stream into frames and back, each with a
 * required maximum frame size; `framed(conn, codec)` applies one to a connection.
 *
 * @example
 * ```ts
 * import { dial } from "sockit/net";
 * import { framed, lines } from "sockit/codec";
 * const conn = await dial("tcp", "127.0.0.1:2525");
 * const smtp = framed(conn, lines({ maxLine: 1000, crlf: "strict" }));
 * console.log(await smtp.read()); // "220 mail.example ESMTP"
 * await smtp.send("QUIT");
 * await conn.close();
 * ```
 * @module
 */

export { type ContentLengthOptions, contentLength } from "./content-length.js";
export { type DelimiterOptions, delimiter } from "./delimiter.js";
export { CodecError, FrameTooLargeError, MalformedFrameError, TruncatedFrameError } from "./errors.js";
export { type ByteStream, Framed, type FramedOptions, framed } from "./framed.js";
export { type JsonStreamOptions, jsonStream } from "./json-stream.js";
export { type LengthPrefixedOptions, lengthPrefixed } from "./length-prefixed.js";
export { type LineOf, type LinesOptions, lines } from "./lines.js";
export { type NdjsonOptions, ndjson } from "./ndjson.js";
export { type NetstringOptions, netstring } from "./netstring.js";
export type { Codec, Decoder } from "./types.js";
