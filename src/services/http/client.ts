/**
 * A small HTTP/1.1 client for `http://` and `https://` URLs (`sockit get`): sockit dials the
 * connection (name lookup, connect, the TLS handshake, every recv/send visible under `--trace`),
 * Node's llhttp parses the response
 * (through `node:http`'s client, fed with a {@link ConnDuplex}). Redirects are followed up to a
 * bound; a body shorter than its `Content-Length` (or a chunked body cut off) is an error.
 *
 * @module
 */
import * as http from "node:http";
import { dial, type TLSOptions } from "../../net/index.js";
import { makeOSError, OSError, TimeoutError } from "../../errors/index.js";
import { ConnDuplex } from "./duplex.js";

/**
 * An HTTP-level failure: an error status (`EHTTPSTATUS`), too many redirects (`EREDIRECTS`), a
 * redirect or URL sockit cannot follow (`EURL`), or a body cut short (`ETRUNCATED`).
 *
 * @example
 * ```ts
 * try {
 *   await httpGet("http://127.0.0.1:8000/missing.txt");
 * } catch (e) {
 *   if (e instanceof HttpError && e.status === 404) console.log("not there");
 * }
 * ```
 */
export class HttpError extends Error {
  /** What went wrong, for switch statements. */
  readonly code: "EHTTPSTATUS" | "EREDIRECTS" | "EURL" | "ETRUNCATED";
  /** The response's status, when there was one. */
  readonly status: number | undefined;

  /** Makes one (the message says what to check). */
  constructor(code: HttpError["code"], message: string, status?: number) {
    super(message);
    this.name = "HttpError";
    this.code = code;
    this.status = status;
  }
}

/**
 * Options of {@link httpGet}.
 * @example `const o: GetOptions = { headers: { Range: "bytes=100-" }, maxRedirects: 3, timeout: 10_000 }`
 */
export interface GetOptions {
  /** "GET" (default) or "HEAD". */
  readonly method?: "GET" | "HEAD";
  /** Extra request headers (e.g. `{ Range: "bytes=100-" }`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Redirects followed at most (default 10); one more is an {@link HttpError} `EREDIRECTS`. */
  readonly maxRedirects?: number;
  /** Give up when connecting or waiting for data takes longer than this (ms; default: never). */
  readonly timeout?: number;
  /** Aborts the request. */
  readonly signal?: AbortSignal;
  /**
   * TLS options for `https://` URLs (unused for `http://`): `ca` (PEM added to the roots),
   * `rejectUnauthorized: false` to skip verification, `serverName`. Verified by default.
   */
  readonly tls?: TLSOptions;
}

/**
 * A response from {@link httpGet}: status, headers, the final URL, and the body to read once.
 *
 * @example
 * ```ts
 * const r = await httpGet("http://127.0.0.1:8000/a.txt");
 * for await (const chunk of r.body) process.stdout.write(chunk); // throws ETRUNCATED if cut short
 * ```
 */
export interface HttpResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: http.IncomingHttpHeaders;
  /** The URL that answered (after redirects). */
  readonly url: string;
  /** The `Content-Length`, when the response has one. */
  readonly contentLength: number | undefined;
  /** The body; iterating it ends with an {@link HttpError} `ETRUNCATED` if it was cut short. */
  readonly body: AsyncIterable<Buffer>;
  /** Throws the body away and closes the connection. */
  discard(): void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Splits an `http://` or `https://` URL into what a request needs (`secure`: https); anything
 * else is an {@link HttpError} `EURL`.
 *
 * @example `parseHttpUrl("https://[::1]:8443/a?b") // { host: "::1", port: 8443, path: "/a?b", secure: true, … }`
 */
export function parseHttpUrl(url: string): {
  host: string;
  port: number;
  path: string;
  hostHeader: string;
  secure: boolean;
} {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HttpError("EURL", `not a URL: ${url} — give http(s)://HOST[:PORT]/PATH`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new HttpError(
      "EURL",
      `${u.protocol.replace(/:$/, "")}:// is not supported: only http:// and https:// URLs (${url})`,
    );
  const secure = u.protocol === "https:";
  const host = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === "" ? (secure ? 443 : 80) : Number(u.port);
  return { host, port, path: `${u.pathname}${u.search}`, hostHeader: u.host, secure };
}

function once(url: string, opts: GetOptions): Promise<http.IncomingMessage> {
  const { host, port, path, hostHeader, secure } = parseHttpUrl(url);
  const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    const conn = dial("tcp", address, {
      ...(opts.timeout === undefined ? {} : { timeout: opts.timeout }),
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      ...(secure ? { tls: opts.tls ?? {} } : {}),
    });
    const sock = new ConnDuplex(conn);
    const req = http.request({
      method: opts.method ?? "GET",
      path,
      headers: { Host: hostHeader, "User-Agent": "sockit", Accept: "*/*", ...opts.headers },
      createConnection: () =>
        sock as unknown as ReturnType<NonNullable<http.ClientRequestArgs["createConnection"]>>,
      setHost: false,
    });
    if (opts.timeout !== undefined)
      req.setTimeout(opts.timeout, () => {
        req.destroy(
          new TimeoutError("ETIMEDOUT", {
            op: "recv",
            address,
            hint: `no answer for ${opts.timeout} ms; is the server busy?`,
          }),
        );
      });
    req.once("response", resolve);
    req.once("error", (err) => reject(convert(err, address)));
    req.end();
  });
}

function convert(err: unknown, address: string): unknown {
  if (err instanceof OSError || err instanceof HttpError) return err;
  const e = err as NodeJS.ErrnoException;
  if (typeof e.code === "string" && e.code.startsWith("HPE_"))
    return makeOSError("EPROTO", {
      op: "recv",
      address,
      hint: `the answer is not valid HTTP/1.1 (${e.code}); is it an HTTP server?`,
    });
  if (e.code === "ECONNRESET" || e.message === "aborted" || e.message === "socket hang up")
    return makeOSError("ECONNRESET", {
      op: "recv",
      address,
      hint: "the server closed the connection before answering",
    });
  return makeOSError(typeof e.code === "string" ? e.code : "EIO", { op: "recv", address });
}

/**
 * The body, chunk by chunk. Read from 'data' events into a short queue (pausing the response while
 * the consumer is behind), not with the stream's async iterator: that one throws away chunks
 * already received when the connection drops, and a cut body must keep every byte that arrived.
 */
function bodyOf(res: http.IncomingMessage, url: string, length: number | undefined): AsyncGenerator<Buffer> {
  // listening from the start: a short body and the close after it may all come before the
  // caller begins to read
  const queue: Buffer[] = [];
  let done = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  res.on("data", (c: Buffer) => {
    queue.push(c);
    if (queue.length >= 16) res.pause();
    poke();
  });
  const finish = () => {
    done = true;
    poke();
  };
  res.once("end", finish);
  res.once("close", finish);
  res.on("error", finish); // 'aborted': the connection ended inside the body
  return drain();
  async function* drain(): AsyncGenerator<Buffer> {
    let got = 0;
    try {
      for (;;) {
        const c = queue.shift();
        if (c !== undefined) {
          got += c.length;
          if (queue.length < 4 && res.isPaused()) res.resume();
          yield c;
          continue;
        }
        if (done) break;
        await new Promise<void>((r) => (wake = r));
      }
    } finally {
      if (!done) res.destroy();
    }
    if (!res.complete || (length !== undefined && got !== length)) {
      throw new HttpError(
        "ETRUNCATED",
        `${url}: the body was cut short: ${got} of ${length === undefined ? "a chunked body's" : length} bytes arrived — the server closed the connection early`,
        res.statusCode,
      );
    }
  }
}

/**
 * GETs (or HEADs) an `http://` or `https://` URL (verified by default; see `tls`), following redirects (301, 302, 303, 307, 308) up to
 * `maxRedirects`. Resolves as soon as the final response's headers are in; read its `body`.
 * An error status is not thrown here: check `status`.
 *
 * Berkeley equivalent: `getaddrinfo`, `socket`, `connect`, `send` of the request, `recv` until
 * the response is complete, `close`.
 *
 * @example
 * ```ts
 * const r = await httpGet("http://127.0.0.1:8000/big.iso", { headers: { Range: "bytes=1000-" } });
 * console.log(r.status, r.headers["content-range"]);
 * for await (const chunk of r.body) process.stdout.write(chunk);
 * ```
 */
export async function httpGet(url: string, opts: GetOptions = {}): Promise<HttpResponse> {
  const max = opts.maxRedirects ?? 10;
  let current = url;
  for (let hops = 0; ; hops++) {
    const res = await once(current, opts);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (REDIRECTS.has(status) && location !== undefined) {
      res.resume();
      res.destroy();
      if (hops >= max)
        throw new HttpError("EREDIRECTS", `${url}: more than ${max} redirects (last to ${location})`, status);
      let next: string;
      try {
        next = new URL(location, current).toString();
      } catch {
        throw new HttpError("EURL", `${current}: redirect to a malformed URL: ${location}`, status);
      }
      parseHttpUrl(next); // only http:// and https:// are followed
      current = next;
      continue;
    }
    const cl = res.headers["content-length"];
    const length =
      opts.method === "HEAD" || status === 304 || status === 204 || cl === undefined ? undefined : Number(cl);
    return {
      status,
      statusText: res.statusMessage ?? "",
      headers: res.headers,
      url: current,
      contentLength: length,
      body: bodyOf(res, current, length),
      discard: () => {
        res.resume();
        res.destroy();
      },
    };
  }
}
