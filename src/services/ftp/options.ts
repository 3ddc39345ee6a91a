/**
 * The FTP server's options, defaults and events.
 *
 * @module
 */
import type { TLSOptions } from "../../net/index.js";

/** Where `sockit serve ftp` listens by default. @example `serveFtp({ root: ".", address: DEFAULT_FTP_ADDRESS })` */
export const DEFAULT_FTP_ADDRESS = "127.0.0.1:2121";

/**
 * Options of {@link serveFtp}.
 *
 * @example
 * ```ts
 * const opts: FtpServerOptions = {
 *   root: "/srv/ftp",
 *   address: "127.0.0.1:0",
 *   users: { alice: "s3cret" },
 *   passivePorts: [50000, 50100],
 * };
 * ```
 */
export interface FtpServerOptions {
  /** The directory served: the client's `/`. Nothing outside it is reachable. */
  readonly root: string;
  /** HOST:PORT to listen on (default 127.0.0.1:2121; port 0: any free port). */
  readonly address?: string;
  /** NAME → PASSWORD of the accounts that may log in; they may write. */
  readonly users?: Readonly<Record<string, string>>;
  /** Whether `anonymous`/`ftp` may log in (default true); read-only unless {@link anonymousWrite}. */
  readonly anonymous?: boolean;
  /** Let anonymous sessions upload, delete, rename and make directories (default false). */
  readonly anonymousWrite?: boolean;
  /** The ports passive data connections listen on, inclusive (default: any free port). */
  readonly passivePorts?: readonly [number, number];
  /** Sessions at once, all sources (default 64); more are answered 421 and closed. */
  readonly maxSessions?: number;
  /** Sessions at once from one address (IPv6: one /64) (default 8). */
  readonly maxPerSource?: number;
  /** A session without a command (and without a transfer running) this long is closed (default 300 000 ms). */
  readonly idleMs?: number;
  /** How long the server waits for a data connection to open, and for it to move (default 30 000 ms). */
  readonly dataTimeoutMs?: number;
  /** The longest command line in bytes (default 4096). */
  readonly maxLine?: number;
  /** How long a wrong password waits before its 530 (default 1000 ms). */
  readonly badPasswordDelayMs?: number;
  /** Wrong passwords a session may send before it is closed (default 3). */
  readonly maxBadPasswords?: number;
  /**
   * Explicit FTPS (RFC 4217): the certificate and key (PEM) to offer with `AUTH TLS`; data
   * connections are TLS after `PROT P`. Without it `AUTH` is answered 502.
   */
  readonly tls?: Pick<TLSOptions, "cert" | "key" | "minVersion" | "maxVersion">;
  /**
   * Refuse `USER`/`PASS` (530) before `AUTH TLS`, and transfers (521) before `PROT P`
   * (default false; needs {@link tls}).
   */
  readonly tlsRequired?: boolean;
  /** How long a client may take over the TLS handshake after `234` (default 10 000 ms). */
  readonly tlsHandshakeMs?: number;
  /** Called with each event (logins, refusals, transfers, errors). */
  readonly onEvent?: (e: FtpEvent) => void;
}

/**
 * Something the server did, for logs.
 * @example `{ type: "transfer", peer: "127.0.0.1:50000", detail: "RETR /a.bin 1048576 bytes" }`
 */
export interface FtpEvent {
  readonly type: "session" | "login" | "bad-password" | "refused" | "transfer" | "aborted" | "closed" | "tls";
  readonly peer: string;
  readonly detail: string;
}

/**
 * The server's counters.
 * @example `server.counters.badPasswords // 0`
 */
export interface FtpCounters {
  sessions: number;
  active: number;
  refused: number;
  badPasswords: number;
  bytesIn: number;
  bytesOut: number;
  transfers: number;
  aborted: number;
}

/** The options with every default filled in. @example `const o: ResolvedFtpOptions = resolveFtpOptions({ root: "." })` */
export type ResolvedFtpOptions = Required<Omit<FtpServerOptions, "passivePorts" | "onEvent" | "tls">> &
  Pick<FtpServerOptions, "passivePorts" | "onEvent" | "tls">;

/**
 * The options with their defaults filled in; RangeError for a value out of range.
 * @example `resolveFtpOptions({ root: "." }).maxSessions // 64`
 */
export function resolveFtpOptions(o: FtpServerOptions): ResolvedFtpOptions {
  const r: ResolvedFtpOptions = {
    root: o.root,
    address: o.address ?? DEFAULT_FTP_ADDRESS,
    users: o.users ?? {},
    anonymous: o.anonymous ?? true,
    anonymousWrite: o.anonymousWrite ?? false,
    maxSessions: o.maxSessions ?? 64,
    maxPerSource: o.maxPerSource ?? 8,
    idleMs: o.idleMs ?? 300_000,
    dataTimeoutMs: o.dataTimeoutMs ?? 30_000,
    maxLine: o.maxLine ?? 4096,
    badPasswordDelayMs: o.badPasswordDelayMs ?? 1000,
    maxBadPasswords: o.maxBadPasswords ?? 3,
    tlsRequired: o.tlsRequired ?? false,
    tlsHandshakeMs: o.tlsHandshakeMs ?? 10_000,
    ...(o.tls ? { tls: o.tls } : {}),
    ...(o.passivePorts ? { passivePorts: o.passivePorts } : {}),
    ...(o.onEvent ? { onEvent: o.onEvent } : {}),
  };
  const int = (name: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max)
      throw new RangeError(`${name} must be an integer ${min}..${max}, got ${v}`);
  };
  int("maxSessions", r.maxSessions, 1, 1 << 20);
  int("maxPerSource", r.maxPerSource, 1, 1 << 20);
  int("idleMs", r.idleMs, 1, 2 ** 31 - 1);
  int("dataTimeoutMs", r.dataTimeoutMs, 1, 2 ** 31 - 1);
  int("maxLine", r.maxLine, 64, 1 << 20);
  int("badPasswordDelayMs", r.badPasswordDelayMs, 0, 60_000);
  int("maxBadPasswords", r.maxBadPasswords, 1, 1000);
  int("tlsHandshakeMs", r.tlsHandshakeMs, 1, 2 ** 31 - 1);
  if (r.tls !== undefined && (r.tls.cert === undefined || r.tls.key === undefined))
    throw new TypeError("tls needs cert and key (PEM)");
  if (r.tlsRequired && r.tls === undefined)
    throw new TypeError("tlsRequired needs tls (a certificate and key to offer with AUTH TLS)");
  if (r.passivePorts) {
    const [a, b] = r.passivePorts;
    int("passivePorts[0]", a, 1024, 65535);
    int("passivePorts[1]", b, a, 65535);
  }
  return r;
}
