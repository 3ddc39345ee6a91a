/**
 * The FTP server: a listener, the session limits (total and per source address, IPv6 per /64,
 * as the RFC services count them), one {@link FtpSession} task per control connection, and a
 * graceful close.
 *
 * @module
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { realpath, stat } from "node:fs/promises";
import { makeOSError } from "../../errors/index.js";
import { type Conn, type Listener, listen, type TLSOptions } from "../../net/index.js";
import { sourceKey } from "../rfc/source.js";
import {
  type FtpCounters,
  type FtpEvent,
  type FtpServerOptions,
  type ResolvedFtpOptions,
  resolveFtpOptions,
} from "./options.js";
import { formatReply } from "./protocol.js";
import { FtpSession } from "./session.js";

/**
 * A running FTP server (see {@link serveFtp}).
 *
 * @example
 * ```ts
 * const srv = await serveFtp({ root: ".", address: "127.0.0.1:0" });
 * console.log(`ftp://${srv.address}/`);
 * await srv.close();
 * ```
 */
export class FtpServer {
  /** The counters (sessions, refusals, wrong passwords, bytes, transfers). */
  readonly counters: FtpCounters = {
    sessions: 0,
    active: 0,
    refused: 0,
    badPasswords: 0,
    bytesIn: 0,
    bytesOut: 0,
    transfers: 0,
    aborted: 0,
  };
  /** The options in force, defaults filled in. */
  readonly opts: ResolvedFtpOptions;
  /** The served directory, as a real path. */
  readonly root: string;
  readonly #ln: Listener;
  readonly #stop = new AbortController();
  readonly #tasks = new Set<Promise<void>>();
  readonly #perSource = new Map<string, number>();
  readonly #loop: Promise<void>;

  /** Use {@link serveFtp}. */
  constructor(ln: Listener, root: string, opts: ResolvedFtpOptions) {
    this.#ln = ln;
    this.root = root;
    this.opts = opts;
    this.#loop = this.#acceptLoop();
  }

  /** Where it listens, `HOST:PORT`. */
  get address(): string {
    return this.#ln.address;
  }

  /** The port it listens on. */
  get port(): number {
    return this.#ln.port;
  }

  /** Reports an event to `onEvent`. */
  emit(e: FtpEvent): void {
    this.opts.onEvent?.(e);
  }

  async #acceptLoop(): Promise<void> {
    try {
      for await (const conn of this.#ln) this.#admit(conn);
    } catch {
      // the listener was closed
    }
  }

  #admit(conn: Conn): void {
    const ep = conn.remoteEndpoint;
    const source = sourceKey(ep !== undefined && "address" in ep ? ep.address : "?");
    const n = this.#perSource.get(source) ?? 0;
    const over =
      this.counters.active >= this.opts.maxSessions
        ? `too many sessions (limit ${this.opts.maxSessions})`
        : n >= this.opts.maxPerSource
          ? `too many sessions from ${source} (limit ${this.opts.maxPerSource})`
          : undefined;
    if (over !== undefined) {
      this.counters.refused++;
      this.emit({ type: "refused", peer: conn.remoteAddress, detail: over });
      const t = conn
        .write(formatReply(421, `${over[0]!.toUpperCase()}${over.slice(1)}; try again later.`))
        .then(() => conn.close())
        .catch(() => conn.abort());
      this.#track(t);
      return;
    }
    this.#perSource.set(source, n + 1);
    this.counters.sessions++;
    this.counters.active++;
    this.emit({ type: "session", peer: conn.remoteAddress, detail: "connected" });
    const t = new FtpSession(conn, this).run(this.#stop.signal).finally(() => {
      this.counters.active--;
      const left = (this.#perSource.get(source) ?? 1) - 1;
      if (left <= 0) this.#perSource.delete(source);
      else this.#perSource.set(source, left);
      this.emit({ type: "closed", peer: conn.remoteAddress, detail: "session ended" });
    });
    this.#track(t);
  }

  #track(p: Promise<unknown>): void {
    const t = p.then(
      () => {},
      () => {},
    );
    this.#tasks.add(t);
    void t.finally(() => this.#tasks.delete(t));
  }

  /** Stops accepting, tells every session 421 and closes it; resolves when all have ended. */
  async close(): Promise<void> {
    await this.#ln.close();
    await this.#loop;
    this.#stop.abort();
    await Promise.all([...this.#tasks]);
  }

  /** `await using srv = await serveFtp(…)` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Serves `opts.root` over FTP: anonymous read-only by default, `users` may write, everything
 * confined to the directory. Resolves once listening. The directory must exist.
 *
 * Berkeley equivalent: `socket()`, `bind(address)`, `listen()`, then per client `accept()` and,
 * per transfer, a second listening socket (passive) or `connect()` (active).
 *
 * @example
 * ```ts
 * import { serveFtp } from "sockit/services/ftp";
 * const srv = await serveFtp({ root: "/srv/ftp", address: "127.0.0.1:2121", users: { alice: "pw" } });
 * // curl ftp://127.0.0.1:2121/   ·   python3 -c "import ftplib; ftplib.FTP()…"
 * await srv.close();
 * ```
 */
export async function serveFtp(opts: FtpServerOptions): Promise<FtpServer> {
  const o = resolveFtpOptions(opts);
  if (o.tls !== undefined) checkCertificate(o.tls);
  let root: string;
  try {
    root = await realpath(o.root);
  } catch (err) {
    const code = (err as { code?: string }).code ?? "EIO";
    throw makeOSError(code, {
      op: "serve",
      address: o.root,
      hint: "the directory to serve must exist",
      cause: err,
    });
  }
  if (!(await stat(root)).isDirectory())
    throw makeOSError("ENOTDIR", { op: "serve", address: o.root, hint: "serve a directory, not a file" });
  const ln = await listen("tcp", o.address);
  return new FtpServer(ln, root, o);
}

/** A certificate and key that cannot work are refused at start, not at the first AUTH TLS. */
function checkCertificate(tls: Pick<TLSOptions, "cert" | "key">): void {
  const first = (v: TLSOptions["cert"]) => (Array.isArray(v) ? v[0] : v) as string | Buffer;
  try {
    const cert = new X509Certificate(first(tls.cert));
    if (!cert.checkPrivateKey(createPrivateKey(first(tls.key))))
      throw new Error("the key does not belong to the certificate");
  } catch (err) {
    throw makeOSError("EINVAL", {
      op: "serve",
      hint: `the TLS certificate or key is not usable (${(err as Error).message}); give a PEM certificate and its private key`,
      cause: err,
    });
  }
}
