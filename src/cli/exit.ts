/**
 * Exit codes of the `sockit` command, and the mapping from errors to them. Documented in
 * `sockit --help` and docs/cli.md.
 *
 * @module
 */
import {
  BrokenPipeError,
  ConnectionAbortedError,
  ConnectionRefusedError,
  ConnectionResetError,
  gaierror,
  herror,
  OSError,
  SSLError,
  TimeoutError,
} from "../errors/index.js";

/** Exit codes. */
export const EXIT = {
  /** Success. */
  OK: 0,
  /** Bad command line (unknown option, missing argument, bad value). */
  USAGE: 1,
  /** A host or service name could not be resolved. */
  RESOLVE: 2,
  /** Connection refused, host/network unreachable, no Unix socket at the path, or TLS failed (verification, handshake). */
  REFUSED: 3,
  /** A timeout (-w, -i, a service's limit) passed. */
  TIMEOUT: 4,
  /** The connection was reset or the pipe broke. */
  RESET: 5,
  /** Any other I/O error (address in use, permission denied, …). */
  IO: 6,
  /** `sockit rpc call`: the server answered with a JSON-RPC error object. */
  RPC: 7,
  /**
   * The server said no at the protocol level: `sockit mail send` (an SMTP 4xx or 5xx reply) and
   * `sockit get` (an HTTP error status, a body cut short, or too many redirects).
   */
  MAIL: 8,
  /** `sockit get`'s name for {@link EXIT.MAIL}'s code: the same 8. */
  HTTP: 8,
} as const;

/** The exit-code table as `--help` shows it. */
export const EXIT_HELP = `Exit codes:
  0  success
  1  usage error (bad option or argument)
  2  name resolution failed (unknown host or service)
  3  connection refused or unreachable, or TLS verification/handshake failed
  4  timed out
  5  connection reset or broken pipe
  6  other I/O error (address in use, permission denied, ...)
  7  rpc call: the server answered a JSON-RPC error
  8  mail send: the SMTP server refused (4xx/5xx); get: an HTTP error status (4xx/5xx),
     a body cut short, too many redirects`;

/**
 * A command-line mistake: printed without a stack, exit code 1.
 * @example `throw new UsageError("PORT must be 1..65535, got 70000")`
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * The exit code for an error.
 * @example `exitCodeFor(new ConnectionRefusedError("ECONNREFUSED")) // 3`
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.USAGE;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code.startsWith("commander.")) return EXIT.USAGE;
  if (err instanceof TypeError || err instanceof RangeError) return EXIT.USAGE;
  if (err instanceof gaierror || err instanceof herror) return EXIT.RESOLVE;
  if (err instanceof TimeoutError) return EXIT.TIMEOUT;
  if (err instanceof SSLError) return EXIT.REFUSED;
  if (err instanceof ConnectionRefusedError) return EXIT.REFUSED;
  if (
    err instanceof ConnectionResetError ||
    err instanceof BrokenPipeError ||
    err instanceof ConnectionAbortedError
  ) {
    return EXIT.RESET;
  }
  if (err instanceof OSError) {
    // an unknown service name or port is a failed name lookup, as an unknown host is
    if (err.op === "getservbyname" || err.op === "getservbyport") return EXIT.RESOLVE;
    if (["EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN"].includes(err.code)) return EXIT.REFUSED;
    if (err.code === "ENOENT" && err.op === "connect") return EXIT.REFUSED;
  }
  return EXIT.IO;
}
