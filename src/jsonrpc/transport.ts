/**
 * Transports: RPC addresses (`tcp://HOST:PORT`, `unix:/path`) and the connections of both faces
 * (a Go-style `Conn`, a Berkeley `socket()`) as one byte stream.
 *
 * @module
 */
import type { ByteStream } from "../codec/framed.js";
import { jsonStream } from "../codec/json-stream.js";
import { ndjson } from "../codec/ndjson.js";
import { contentLength } from "../codec/content-length.js";
import type { Codec } from "../codec/types.js";
import { argTypeError } from "../errors/index.js";

/**
 * The Berkeley face's connected socket as the RPC layer uses it (`recv`, `sendall`, `shutdown`,
 * `close`): a `socket()` from `sockit/bsd` after `connect()` or `accept()`.
 *
 * @example
 * ```ts
 * const s = socket(AF_INET, SOCK_STREAM);
 * await s.connect(["127.0.0.1", 7070]);
 * const client = new JsonRpcClient(s); // a SocketLike
 * ```
 */
export interface SocketLike {
  /** Up to `n` bytes; an empty Buffer at EOF. */
  recv(n: number): Promise<Buffer>;
  /** Sends all of `data`. */
  sendall(data: Uint8Array): Promise<void>;
  /** `shutdown(SHUT_WR)` half-closes. */
  shutdown(how: number): void;
  /** Closes the socket. */
  close(): Promise<void>;
}

/**
 * A connection the RPC server and client run over: a Go-style `Conn` (anything with
 * `read`/`write`) or a Berkeley socket ({@link SocketLike}).
 *
 * @example
 * ```ts
 * const stream: RpcStream = await dial("tcp", "127.0.0.1:7070");
 * ```
 */
export type RpcStream = ByteStream | SocketLike;

const SHUT_WR = 1;

/** `stream` as a ByteStream (a Berkeley socket is wrapped; a Conn is used as it is). */
export function toByteStream(stream: RpcStream): ByteStream {
  const s = stream as Partial<ByteStream & SocketLike> | null;
  if (typeof s?.read === "function" && typeof s.write === "function") return stream as ByteStream;
  if (typeof s?.recv === "function" && typeof s.sendall === "function") {
    const sock = stream as SocketLike;
    return {
      read: async (n = 65536) => {
        const b = await sock.recv(n);
        return b.length === 0 ? null : b;
      },
      write: (data) => sock.sendall(data),
      closeWrite: async () => sock.shutdown(SHUT_WR),
      close: () => sock.close(),
    };
  }
  throw argTypeError("stream", "a Conn (dial/accept) or a connected socket()", stream);
}

/**
 * How messages are framed: `"ndjson"` (one JSON value per line), `"auto"` (JSON values one after
 * another, with or without newlines: reads what ndjson peers and jayson send; writes ndjson) or
 * `"content-length"` (LSP-style `Content-Length: N` headers).
 *
 * @example `const f: Framing = "content-length";`
 */
export type Framing = "auto" | "ndjson" | "content-length";

/** The codec of a framing: frames are parsed JSON values, or raw bodies for content-length. */
export function codecFor(framing: Framing, maxMessage: number): Codec<unknown> {
  if (framing === "ndjson") return ndjson({ maxFrame: maxMessage });
  if (framing === "auto") return jsonStream({ maxFrame: maxMessage });
  if (framing === "content-length") {
    const c = contentLength({ maxFrame: maxMessage });
    return {
      name: c.name,
      maxFrame: c.maxFrame,
      decoder: () => c.decoder(),
      encode: (v: unknown) => {
        const text = JSON.stringify(v);
        if (text === undefined) throw new TypeError("JSON has no such value");
        return c.encode(Buffer.from(text, "utf8"));
      },
    };
  }
  throw argTypeError("framing", '"auto", "ndjson" or "content-length"', framing);
}
