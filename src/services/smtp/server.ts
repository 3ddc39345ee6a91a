/**
 * The SMTP sink's server: accepts connections (limited in total and per source, idle ones
 * closed), runs an {@link SmtpSession} over each with an {@link SmtpReader}, answers pipelined
 * commands in one write, and hands each message to a {@link MessageStore}.
 *
 * @module
 */
import { hostname as osHostname } from "node:os";
import { checkInt } from "../../errors/index.js";
import { type Conn, type Listener, listen, OSError, upgradeTLS } from "../../net/index.js";
import { sourceKey } from "../rfc/source.js";
import { SmtpReader } from "./parser.js";
import { type Envelope, type SessionStep, SmtpSession } from "./session.js";
import type { MessageStore, StoredMessage } from "./store.js";

/**
 * Defaults of {@link SmtpServerOptions}.
 *
 * @example
 * ```ts
 * SMTP_DEFAULTS.maxMessage; // 10485760: what EHLO's SIZE says unless maxMessage is given
 * ```
 */
export const SMTP_DEFAULTS = {
  maxMessage: 10 * 1024 * 1024,
  maxRecipients: 100,
  maxConnections: 64,
  maxPerSource: 16,
  idleMs: 300_000,
  graceMs: 5_000,
} as const;

/**
 * What the server reports: a connection refused for a limit, a store that failed, a client
 * that ended with an error.
 *
 * @example
 * ```ts
 * const e: SmtpEvent = { type: "refused", peer: "127.0.0.1:40000", detail: "per-source limit 16" };
 * ```
 */
export interface SmtpEvent {
  readonly type: "accepted" | "refused" | "closed" | "store-failed" | "error";
  readonly peer: string;
  readonly detail?: string;
}

/**
 * Options of {@link serveSmtp}.
 *
 * @example
 * ```ts
 * const o: SmtpServerOptions = { store: new MemoryStore(), maxMessage: 1 << 20 };
 * ```
 */
export interface SmtpServerOptions {
  /** Where messages go. */
  readonly store: MessageStore;
  /** The name in the greeting (default: the machine's host name). */
  readonly hostname?: string;
  /** Largest message in bytes (SIZE; default 10 MiB). */
  readonly maxMessage?: number;
  /** Recipients per message (default 100). */
  readonly maxRecipients?: number;
  /** Connections at once (default 64); more are answered 421 and closed. */
  readonly maxConnections?: number;
  /** Connections at once from one address, an IPv6 /64 counting as one (default 16). */
  readonly maxPerSource?: number;
  /** A client silent this long is answered 421 and closed (ms; default 300 000, RFC 5321's 5 minutes). */
  readonly idleMs?: number;
  /** At close, how long clients get to finish before they are cut off (ms; default 5000). */
  readonly graceMs?: number;
  /** Called with each message stored. */
  readonly onMessage?: (m: StoredMessage) => void;
  /** Called with connection events. */
  readonly onEvent?: (e: SmtpEvent) => void;
  /**
   * STARTTLS (RFC 3207): the server's `cert` and `key` (PEM). EHLO then offers STARTTLS; a
   * client that does not finish the handshake within 10 s is closed.
   */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
}

/**
 * A running SMTP sink (from {@link serveSmtp}).
 *
 * @example
 * ```ts
 * const srv = await serveSmtp("127.0.0.1:0", { store: new MemoryStore() });
 * console.log(srv.address); // "127.0.0.1:41234"
 * await srv.close();
 * ```
 */
export class SmtpServer {
  /** Messages stored, refused (size, line, storage) and connections served. */
  readonly counters = { stored: 0, refused: 0, storeFailed: 0, connections: 0, rejected: 0 };
  readonly #ln: Listener;
  readonly #o: Required<Omit<SmtpServerOptions, "onMessage" | "onEvent" | "tls">> & SmtpServerOptions;
  readonly #conns = new Set<{ conn: Conn }>();
  /** The reader of each connection, to tell at shutdown who is in the middle of a message. */
  readonly #readers = new Map<{ conn: Conn }, SmtpReader>();
  readonly #perSource = new Map<string, number>();
  readonly #done = new Set<Promise<void>>();
  #closing = false;
  readonly #accepting: Promise<void>;

  /** @internal */
  constructor(ln: Listener, o: SmtpServerOptions) {
    this.#ln = ln;
    this.#o = {
      hostname: osHostname() || "localhost",
      ...SMTP_DEFAULTS,
      ...o,
    };
    this.#accepting = this.#acceptLoop();
  }

  /** The bound address with its real port, e.g. `127.0.0.1:2525`. */
  get address(): string {
    return this.#ln.address;
  }

  /** Clients connected now. */
  get active(): number {
    return this.#conns.size;
  }

  /**
   * Stops accepting. Clients between commands are answered 421 and closed at once; a client in
   * the middle of a message gets the grace period to finish it, then is cut off. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      await this.#ln.close();
      // wake the reads of idle clients: they are told 421 (see #converse)
      for (const [box, reader] of this.#readers) if (!reader.inData) box.conn.setReadDeadline(Date.now());
    }
    await this.#accepting;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => (timer = setTimeout(r, this.#o.graceMs)));
    await Promise.race([Promise.all(this.#done), grace]);
    clearTimeout(timer);
    for (const c of this.#conns) c.conn.abort();
    await Promise.all(this.#done);
  }

  async #acceptLoop(): Promise<void> {
    for await (const conn of this.#ln) {
      const p = this.#serve(conn).catch(() => {});
      this.#done.add(p);
      void p.finally(() => this.#done.delete(p));
    }
  }

  #emit(e: SmtpEvent): void {
    this.#o.onEvent?.(e);
  }

  async #serve(conn: Conn): Promise<void> {
    const peer = conn.remoteAddress;
    const ep = conn.remoteEndpoint;
    const source = sourceKey(ep !== undefined && "address" in ep ? ep.address : peer);
    const session = new SmtpSession({
      hostname: this.#o.hostname,
      maxMessage: this.#o.maxMessage,
      maxRecipients: this.#o.maxRecipients,
      peer,
      starttls: this.#o.tls !== undefined,
    });
    const n = this.#perSource.get(source) ?? 0;
    const over =
      this.#conns.size >= this.#o.maxConnections
        ? `too many connections (limit ${this.#o.maxConnections})`
        : n >= this.#o.maxPerSource
          ? `too many connections from ${source} (limit ${this.#o.maxPerSource})`
          : undefined;
    if (over !== undefined || this.#closing) {
      this.counters.rejected++;
      this.#emit({ type: "refused", peer, detail: over ?? "shutting down" });
      conn.setWriteDeadline(Date.now() + 1000);
      await conn.write(session.unavailable(over ?? "shutting down")).catch(() => {});
      await conn.close().catch(() => {});
      return;
    }
    // after STARTTLS the connection is a new Conn (the TLS one): box.conn is the current one
    const box = { conn };
    this.#conns.add(box);
    this.#perSource.set(source, n + 1);
    this.counters.connections++;
    this.#emit({ type: "accepted", peer });
    try {
      await this.#converse(box, session);
    } catch (err) {
      const reset = err instanceof OSError && (err.code === "ECONNRESET" || err.code === "EPIPE");
      if (!reset && !this.#closing)
        this.#emit({ type: "error", peer, detail: err instanceof Error ? err.message : String(err) });
      box.conn.abort();
    } finally {
      this.#conns.delete(box);
      const left = (this.#perSource.get(source) ?? 1) - 1;
      if (left <= 0) this.#perSource.delete(source);
      else this.#perSource.set(source, left);
      await box.conn.close().catch(() => {});
      this.#emit({ type: "closed", peer });
    }
  }

  async #converse(box: { conn: Conn }, session: SmtpSession): Promise<void> {
    const reader = new SmtpReader({ maxMessage: this.#o.maxMessage });
    this.#readers.set(box, reader);
    try {
      await this.#dialogue(box, session, reader);
    } finally {
      this.#readers.delete(box);
    }
  }

  async #dialogue(box: { conn: Conn }, session: SmtpSession, reader: SmtpReader): Promise<void> {
    let conn = box.conn;
    const idle = this.#o.idleMs;
    await conn.write(session.greeting());
    for (;;) {
      conn.setReadDeadline(this.#closing && !reader.inData ? Date.now() : Date.now() + idle);
      let chunk: Buffer | null;
      try {
        chunk = await conn.read();
      } catch (err) {
        if (err instanceof OSError && err.code === "ETIMEDOUT") {
          conn.setWriteDeadline(Date.now() + 1000);
          const bye = this.#closing ? session.unavailable("shutting down") : session.timeout();
          await conn.write(bye).catch(() => {});
          return;
        }
        throw err;
      }
      // EOF: whatever message was being read is dropped (nothing was stored of it)
      if (chunk === null) return;
      reader.push(chunk);
      let out = "";
      for (let item = reader.next(); item !== undefined; item = reader.next()) {
        let step: SessionStep = session.handle(item);
        if (step.action === "store") {
          const reply = await this.#store(step.data, step.envelope, session);
          step = { reply };
        }
        out += step.reply;
        if (step.action === "close") {
          await conn.write(out);
          return;
        }
        if (step.action === "data") reader.startData();
        if (step.action === "starttls") {
          // RFC 3207: plain text pipelined after STARTTLS would be read as if it came over TLS
          if (reader.next() !== undefined || reader.buffered > 0) {
            await conn.write(
              out.replace(/220 2\.0\.0 Ready to start TLS\r\n$/, "") +
                session.unavailable("commands after STARTTLS; closing"),
            );
            return;
          }
          await conn.write(out);
          out = "";
          conn = await upgradeTLS(conn, { server: true, ...this.#o.tls!, timeout: 10_000 });
          box.conn = conn;
          session.secured();
          continue;
        }
        if (item.kind === "refused-message") this.counters.refused++;
      }
      // pipelined commands are answered together, in one write (RFC 2920)
      if (out !== "") await conn.write(out);
      if (this.#closing && !reader.inData) {
        await conn.write(session.unavailable("shutting down"));
        return;
      }
    }
  }

  async #store(data: Buffer, envelope: Envelope, session: SmtpSession): Promise<string> {
    try {
      const m = await this.#o.store.store(data, envelope);
      this.counters.stored++;
      this.#o.onMessage?.(m);
      return session.stored({ id: m.id });
    } catch (error) {
      this.counters.storeFailed++;
      this.#emit({
        type: "store-failed",
        peer: envelope.peer,
        detail: error instanceof Error ? error.message : String(error),
      });
      return session.stored({ error });
    }
  }
}

/**
 * Starts an SMTP sink on `address` (`HOST:PORT`; port 0: any free port).
 *
 * @example
 * ```ts
 * const srv = await serveSmtp("127.0.0.1:2525", { store: await MaildirStore.open("./maildir") });
 * ```
 */
export async function serveSmtp(address: string, opts: SmtpServerOptions): Promise<SmtpServer> {
  for (const k of [
    "maxMessage",
    "maxRecipients",
    "maxConnections",
    "maxPerSource",
    "idleMs",
    "graceMs",
  ] as const) {
    const v = opts[k];
    if (v !== undefined) checkInt(k, v, k === "graceMs" ? 0 : 1, Number.MAX_SAFE_INTEGER);
  }
  const ln = await listen("tcp", address, { backlog: 128 });
  return new SmtpServer(ln, opts);
}
