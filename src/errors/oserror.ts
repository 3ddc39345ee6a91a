/**
 * The error model: Python's `OSError` hierarchy, so textbook `except ConnectionRefusedError`
 * code ports as `catch (e) { if (e instanceof ConnectionRefusedError) … }`.
 *
 * Every error carries a positive Linux `errno`, the Node `code` (`"ECONNREFUSED"`), the C
 * `strerror` text, the operation (`"connect"`) and the addresses involved. The message says what
 * happened and what to check. Imports nothing from the rest of sockit (layer L0).
 *
 * @module
 */
import { argTypeError, show } from "./args.js";
import { errnoNumber, strerror as linuxStrerror } from "./linux.js";

/** `table[key]` for own keys only ("constructor" or "__proto__" are not codes). */
function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** A detail as text: strings as they are, anything else shown (never throws). */
function text(v: unknown): string | undefined {
  return v === undefined || typeof v === "string" ? v : show(v);
}

/** What the user should check, per code; appended to the message after an em dash. */
const HINT: Readonly<Record<string, string>> = {
  ECONNREFUSED: "is a server listening there?",
  ECONNRESET: "the peer closed the connection abruptly (crashed, or closed with unread data)",
  ECONNABORTED: "the connection was aborted before it was used",
  EPIPE: "the peer has closed its side; it will read nothing more",
  ETIMEDOUT: "the peer did not answer in time; raise the timeout or check the address",
  EADDRINUSE: "another socket is bound there; pick another port or use port 0",
  EADDRNOTAVAIL: "that address is not one of this host's addresses",
  EACCES: "ports below 1024 need privileges; use a port from 1024 up",
  EPERM: "the operation is not permitted here",
  ENOENT: "no socket file at that path; is the server running?",
  EBADF: "the socket is closed",
  EAGAIN: "the socket is non-blocking and the call would wait",
  ENOTCONN: "connect() the socket first",
  EISCONN: "the socket is already connected",
  EHOSTUNREACH: "no route to that host",
  ENETUNREACH: "no route to that network",
  EINVAL: "the call is not valid in the socket's current state",
  EAFNOSUPPORT: "the address does not match the socket's family",
  EMFILE: "the process has too many open files; close some sockets",
};

/**
 * Facts attached to an {@link OSError}; all optional except what the constructor needs.
 *
 * @example
 * ```ts
 * const details: OSErrorDetails = { op: "connect", address: "127.0.0.1:9" };
 * const err = new ConnectionRefusedError("ECONNREFUSED", details);
 * err.message; // "connect 127.0.0.1:9: connection refused (ECONNREFUSED) — is a server listening there?"
 * ```
 */
export interface OSErrorDetails {
  /** The operation in Berkeley terms: `"connect"`, `"recv"`, `"bind"`… */
  op?: string;
  /** The address the operation was about (formatted), e.g. `127.0.0.1:9` or `/tmp/s.sock`. */
  address?: string;
  /** The local address, when known. */
  localAddress?: string;
  /** The underlying Node error, if any. */
  cause?: unknown;
  /** Overrides the hint appended to the message. */
  hint?: string;
}

/**
 * Python's `OSError`: the base of every socket error sockit raises.
 *
 * @example
 * ```ts
 * try { await s.connect(["127.0.0.1", 9]); }
 * catch (e) { if (e instanceof OSError) console.log(e.errno, e.code, e.strerror); }
 * ```
 */
export class OSError extends Error {
  /** Positive Linux errno (111 for ECONNREFUSED); negative `EAI_*` values for {@link gaierror}. */
  readonly errno: number;
  /** The symbolic code, as Node names it: `"ECONNREFUSED"`. */
  readonly code: string;
  /** The C library's text for the errno: `"Connection refused"`. */
  readonly strerror: string;
  /** The operation that failed, in Berkeley terms. */
  readonly op: string | undefined;
  /** The (remote or target) address of the operation, formatted. */
  readonly address: string | undefined;
  /** The local address, formatted, when known. */
  readonly localAddress: string | undefined;

  /**
   * `code` is an errno name (`"ECONNREFUSED"`); `errno` and `strerror` default to its Linux number
   * and glibc text. TypeError for a code that is not a string or details that are not an object.
   */
  constructor(code: string, details: OSErrorDetails = {}, errno?: number, strerror?: string) {
    if (typeof code !== "string") throw argTypeError("code", "an errno name string", code);
    if (details === null || typeof details !== "object") throw argTypeError("details", "an object", details);
    const number = typeof errno === "number" ? errno : errnoNumber(code);
    const desc =
      typeof strerror === "string" ? strerror : number === undefined ? code : linuxStrerror(number);
    const op = text(details.op);
    const address = text(details.address);
    const where = [op, address].filter(Boolean).join(" ");
    const hint = text(details.hint) ?? own(HINT, code);
    const msg = `${where ? `${where}: ` : ""}${desc.charAt(0).toLowerCase()}${desc.slice(1)} (${code})${hint ? ` — ${hint}` : ""}`;
    super(msg, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.errno = number ?? 0;
    this.code = code;
    this.strerror = desc;
    this.op = op;
    this.address = address;
    this.localAddress = text(details.localAddress);
  }
}

/** Python's `socket.error`: an alias of {@link OSError}. @example `catch (e) { e instanceof error }` */
export const error = OSError;

/**
 * Base of the connection errors (Python's `ConnectionError`).
 * @example `if (e instanceof ConnectionError) reconnect();`
 */
export class ConnectionError extends OSError {}
/** ECONNREFUSED: nobody listens at the address. @example `await s.connect(["127.0.0.1", 9]) // throws` */
export class ConnectionRefusedError extends ConnectionError {}
/** ECONNRESET: the peer reset the connection. @example `if (e instanceof ConnectionResetError) …` */
export class ConnectionResetError extends ConnectionError {}
/** ECONNABORTED: the connection was aborted locally. @example `if (e instanceof ConnectionAbortedError) …` */
export class ConnectionAbortedError extends ConnectionError {}
/** EPIPE: writing to a connection whose peer has gone. @example `if (e instanceof BrokenPipeError) …` */
export class BrokenPipeError extends ConnectionError {}
/**
 * ETIMEDOUT, or a `settimeout()` deadline passed (Python's `socket.timeout`). The socket stays
 * usable and no received data is lost.
 * @example `s.settimeout(0.5); try { await s.recv(10) } catch (e) { e instanceof TimeoutError }`
 */
export class TimeoutError extends OSError {}
/** Python's `socket.timeout`, an alias of {@link TimeoutError}. @example `e instanceof timeout` */
export const timeout = TimeoutError;
/**
 * EAGAIN: a non-blocking socket (`setblocking(false)`) would have to wait.
 * @example `s.setblocking(false); try { await s.recv(10) } catch (e) { e instanceof BlockingIOError }`
 */
export class BlockingIOError extends OSError {}
/** EINTR: the call was interrupted (an AbortSignal fired). @example `if (e instanceof InterruptedError) …` */
export class InterruptedError extends OSError {}
/** ENOENT: e.g. no Unix socket at that path. @example `await s.connect("/nonexistent") // throws` */
export class FileNotFoundError extends OSError {}
/** EACCES/EPERM: not allowed. @example `await s.bind(["", 80]) // throws without privileges` */
export class PermissionError extends OSError {}
/**
 * Address-resolution error (Python's `socket.gaierror`). `errno` is the negative glibc `EAI_*`
 * value, as in Python (`EAI_NONAME` = -2).
 * @example `try { await getaddrinfo("no.such.host.invalid", 80) } catch (e) { e instanceof gaierror }`
 */
export class gaierror extends OSError {}
/** Host-lookup error (Python's `socket.herror`), e.g. no name for an address. @example `e instanceof herror` */
export class herror extends OSError {}

/** glibc `EAI_*` values, as Python exposes them. */
export const EAI: Readonly<Record<string, number>> = {
  EAI_BADFLAGS: -1,
  EAI_NONAME: -2,
  EAI_AGAIN: -3,
  EAI_FAIL: -4,
  EAI_NODATA: -5,
  EAI_FAMILY: -6,
  EAI_SOCKTYPE: -7,
  EAI_SERVICE: -8,
  EAI_ADDRFAMILY: -9,
  EAI_MEMORY: -10,
  EAI_SYSTEM: -11,
  EAI_OVERFLOW: -12,
};

const EAI_TEXT: Readonly<Record<string, string>> = {
  EAI_BADFLAGS: "Bad value for ai_flags",
  EAI_NONAME: "Name or service not known",
  EAI_AGAIN: "Temporary failure in name resolution",
  EAI_FAIL: "Non-recoverable failure in name resolution",
  EAI_NODATA: "No address associated with hostname",
  EAI_FAMILY: "ai_family not supported",
  EAI_SOCKTYPE: "ai_socktype not supported",
  EAI_SERVICE: "Servname not supported for ai_socktype",
  EAI_ADDRFAMILY: "Address family for hostname not supported",
  EAI_MEMORY: "Memory allocation failure",
  EAI_SYSTEM: "System error",
  EAI_OVERFLOW: "Argument buffer overflow",
};

/**
 * Builds a {@link gaierror} for an `EAI_*` code (Node's `ENOTFOUND` maps to `EAI_NONAME`).
 * @example `throw makeGaiError("EAI_NONAME", { op: "getaddrinfo", address: "nohost" })`
 */
export function makeGaiError(code: string, details: OSErrorDetails = {}): gaierror {
  if (typeof code !== "string") throw argTypeError("code", "an EAI_* name string", code);
  if (details === null || typeof details !== "object") throw argTypeError("details", "an object", details);
  const eai = code === "ENOTFOUND" ? "EAI_NONAME" : code.startsWith("EAI_") ? code : `EAI_${code}`;
  const hint = details.hint ?? (eai === "EAI_NONAME" ? "check the host name's spelling" : undefined);
  return new gaierror(
    eai,
    hint === undefined ? details : { ...details, hint },
    own(EAI, eai) ?? EAI.EAI_FAIL,
    own(EAI_TEXT, eai) ?? "Name resolution failed",
  );
}

const CLASS_BY_CODE: Readonly<Record<string, new (code: string, d?: OSErrorDetails) => OSError>> = {
  ECONNREFUSED: ConnectionRefusedError,
  ECONNRESET: ConnectionResetError,
  ECONNABORTED: ConnectionAbortedError,
  EPIPE: BrokenPipeError,
  ERR_STREAM_DESTROYED: BrokenPipeError,
  ETIMEDOUT: TimeoutError,
  EAGAIN: BlockingIOError,
  EWOULDBLOCK: BlockingIOError,
  EINPROGRESS: BlockingIOError,
  EALREADY: BlockingIOError,
  EINTR: InterruptedError,
  ENOENT: FileNotFoundError,
  EACCES: PermissionError,
  EPERM: PermissionError,
};

/**
 * Makes the right {@link OSError} subclass for an errno code.
 * @example `throw makeOSError("EBADF", { op: "recv" })`
 */
export function makeOSError(code: string, details: OSErrorDetails = {}): OSError {
  if (typeof code !== "string") throw argTypeError("code", "an errno name string", code);
  if (code === "ENOTFOUND" || code.startsWith("EAI_")) return makeGaiError(code, details);
  const Cls = own(CLASS_BY_CODE, code) ?? OSError;
  if (code === "ERR_STREAM_DESTROYED" || code === "ERR_SOCKET_CLOSED")
    return new BrokenPipeError("EPIPE", details);
  return new Cls(code, details);
}

/** Node error codes for "the socket was closed under us"; they become EBADF. */
const CLOSED_CODES = new Set(["ERR_SOCKET_CLOSED", "ERR_SOCKET_DGRAM_NOT_RUNNING"]);

/**
 * The errno a Node-only code (`ERR_*`, libuv's `EOF`/`UNKNOWN`) stands for: a value Node refused
 * before any system call is EINVAL (what the kernel answers for a bad argument); anything else is
 * EIO. Never surfaces as a code of its own.
 */
function errnoForNodeCode(code: string): string {
  if (code.startsWith("ERR_INVALID_") || code === "ERR_OUT_OF_RANGE" || code.startsWith("ERR_SOCKET_BAD_"))
    return "EINVAL";
  return "EIO";
}

/**
 * The one place a Node error becomes a sockit error: system errors keep their code and errno,
 * DNS errors become {@link gaierror}, anything already an {@link OSError} passes through. Node's
 * own codes (`ERR_*`), which are not errnos, become EINVAL or EIO with the Node message in the
 * hint, so every OSError has a real Linux errno.
 *
 * @example
 * ```ts
 * sock.once("error", (err) => reject(toSocketError(err, { op: "connect", address: "127.0.0.1:9" })));
 * ```
 */
export function toSocketError(err: unknown, details: OSErrorDetails = {}): OSError {
  if (err instanceof OSError) return err;
  if (details === null || typeof details !== "object") throw argTypeError("details", "an object", details);
  const e = err as { code?: unknown; syscall?: unknown; errno?: unknown } | null;
  let code = typeof e?.code === "string" ? e.code : "EIO";
  if (CLOSED_CODES.has(code)) code = "EBADF";
  if (code === "ERR_STREAM_WRITE_AFTER_END") code = "EPIPE";
  if (e?.syscall === "getaddrinfo" || e?.syscall === "getnameinfo" || code === "ENOTFOUND") {
    return makeGaiError(code, { ...details, cause: err });
  }
  if (errnoNumber(code) === undefined && code !== "ERR_STREAM_DESTROYED" && !code.startsWith("EAI_")) {
    const what = (err as { message?: unknown } | null)?.message;
    const hint = details.hint ?? `Node.js refused it: ${typeof what === "string" ? what : code}`;
    return makeOSError(errnoForNodeCode(code), { ...details, hint, cause: err });
  }
  return makeOSError(code, { ...details, cause: err });
}

/**
 * The Node `code` of an error, or undefined.
 * @example `errorCode(e) === "ECONNRESET"`
 */
export function errorCode(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : undefined;
}
