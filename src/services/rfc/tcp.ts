/**
 * The TCP side of each service: a small function over one connection and an options object.
 * Each function returns why it stopped; the caller (usually {@link ServiceHost}) closes the
 * connection afterwards. None buffers without bound: every write is awaited (backpressure), so a
 * client that stops reading stops the server instead of growing it.
 *
 * @module
 */
import type { Conn } from "../../net/index.js";
import type { ServiceLimits, ServiceName } from "./limits.js";
import { chargenCycle, encodeTime, formatDaytime } from "./protocol.js";
import { BUILTIN_QUOTES } from "./quotes.js";

/**
 * What a TCP service needs from a connection (sockit's `Conn` has it).
 *
 * @example
 * ```ts
 * // count what a service writes, without touching the connection itself
 * function counting(c: Conn, count: { out: number }): ServiceConn {
 *   return {
 *     read: (n, o) => c.read(n, o),
 *     write: async (d, o) => (count.out += await c.write(d, o)),
 *     abort: () => c.abort(),
 *     setReadDeadline: (t) => c.setReadDeadline(t),
 *     setWriteDeadline: (t) => c.setWriteDeadline(t),
 *   };
 * }
 * ```
 */
export type ServiceConn = Pick<Conn, "read" | "write" | "abort" | "setReadDeadline" | "setWriteDeadline">;

/**
 * Options of a TCP service function.
 *
 * @example
 * ```ts
 * const stop = new AbortController();
 * const opts: TcpServiceOptions = { limits: { chargenBytes: 1 << 20, chargenMs: 30_000 }, signal: stop.signal };
 * for await (const c of ln) void chargenTcp(c, opts).finally(() => c.close());
 * ```
 */
export interface TcpServiceOptions {
  /** Only the chargen budgets are used here (the host enforces the rest). */
  readonly limits?: Pick<ServiceLimits, "chargenBytes" | "chargenMs">;
  /**
   * Aborted when the server shuts down: chargen stops, echo and discard stop reading. (One
   * listener per connection, not per read: reads without a signal take the core's fast path.)
   */
  readonly signal?: AbortSignal;
  /** Called after each read with its size (activity for the idle timeout, counters). */
  readonly onRead?: (bytes: number) => void;
  /** Called after each write with its size. */
  readonly onWrite?: (bytes: number) => void;
  /** The clock (tests pass a fixed one). */
  readonly now?: () => Date;
  /** The qotd quotes, as sent (default: the built-in list). */
  readonly quotes?: readonly string[];
  /** Random numbers in [0, 1) for picking quotes. */
  readonly random?: () => number;
}

/**
 * Why a service function returned: the client closed (`eof`), a one-shot reply was sent
 * (`done`), chargen's byte or time budget ran out (`bytes`, `time`), or the server is shutting
 * down (`shutdown`).
 *
 * @example
 * ```ts
 * const why: StopReason = await echoTcp(conn);
 * if (why === "eof") await conn.close(); // the client closed first: close our side too
 * ```
 */
export type StopReason = "eof" | "done" | "bytes" | "time" | "shutdown";

/**
 * A TCP service function.
 *
 * @example
 * ```ts
 * // an upper-casing echo, written like the built-in ones
 * const upper: TcpService = async (c, opts) => {
 *   for (let b = await c.read(); b !== null; b = await c.read()) {
 *     opts?.onRead?.(b.length);
 *     opts?.onWrite?.(await c.write(b.toString("latin1").toUpperCase()));
 *   }
 *   return "eof";
 * };
 * ```
 */
export type TcpService = (conn: ServiceConn, opts?: TcpServiceOptions) => Promise<StopReason>;

const READ_SIZE = 64 * 1024;

function aborted(opts: TcpServiceOptions): boolean {
  return opts.signal?.aborted === true;
}

/** On shutdown, interrupts the pending read (and, for streams, write) through the deadlines. */
function onStop(conn: ServiceConn, opts: TcpServiceOptions, writes: boolean): () => void {
  const sig = opts.signal;
  if (sig === undefined) return () => {};
  const stop = () => {
    conn.setReadDeadline(Date.now());
    if (writes) conn.setWriteDeadline(Date.now());
  };
  if (sig.aborted) stop();
  else sig.addEventListener("abort", stop, { once: true });
  return () => sig.removeEventListener("abort", stop);
}

async function send(conn: ServiceConn, data: Uint8Array | string, opts: TcpServiceOptions): Promise<void> {
  const n = await conn.write(data);
  opts.onWrite?.(n);
}

/**
 * Reads until the client closes (64 KiB at a time), handing each chunk to `each` before reading
 * more, so a service holds at most one chunk per connection.
 */
async function readLoop(
  conn: ServiceConn,
  opts: TcpServiceOptions,
  each: (b: Buffer) => Promise<void> | void,
): Promise<StopReason> {
  const off = onStop(conn, opts, false);
  try {
    for (;;) {
      let b: Buffer | null;
      try {
        b = await conn.read(READ_SIZE);
      } catch (err) {
        if (aborted(opts)) return "shutdown";
        throw err;
      }
      if (b === null) return "eof";
      opts.onRead?.(b.length);
      await each(b);
    }
  } finally {
    off();
  }
}

/**
 * Echo (RFC 862): sends back every byte until the client closes. Reads at most 64 KiB at a time
 * and writes it back before reading more, so the server holds at most one chunk per connection.
 *
 * @example `await echoTcp(conn) // "eof" once the client closes`
 */
export function echoTcp(conn: ServiceConn, opts: TcpServiceOptions = {}): Promise<StopReason> {
  return readLoop(conn, opts, (b) => send(conn, b, opts));
}

/**
 * Discard (RFC 863): reads and drops everything until the client closes.
 *
 * @example `await discardTcp(conn, { onRead: (n) => (total += n) })`
 */
export function discardTcp(conn: ServiceConn, opts: TcpServiceOptions = {}): Promise<StopReason> {
  return readLoop(conn, opts, () => {});
}

/**
 * Reads and throws away what the client sends until `stop()` (or EOF), so the connection's
 * receive queue stays empty while the service only writes. `stop()` resolves once the reader has
 * stopped (reads may be used again).
 */
function discardInput(conn: ServiceConn, opts: TcpServiceOptions): () => Promise<void> {
  let stopping = false;
  const reading = (async () => {
    try {
      for (;;) {
        const b = await conn.read(READ_SIZE);
        if (b === null || stopping) return;
        opts.onRead?.(b.length);
      }
    } catch {
      // stopped (deadline), or the connection failed: the writer finds out
    }
  })();
  return async () => {
    stopping = true;
    conn.setReadDeadline(Date.now());
    await reading;
    conn.setReadDeadline(null);
  };
}

/**
 * Chargen (RFC 864): sends 72-character lines until the client closes, the byte budget is spent
 * (the stream ends after the last whole line that fits) or the time budget passes. Every write is
 * awaited; a write still blocked when the time budget passes (a client that stopped reading)
 * makes it reset the connection, so nothing stays queued for it. Input is read and thrown away
 * meanwhile, so it does not pile up in the kernel either.
 *
 * @example `await chargenTcp(conn, { limits: { chargenBytes: 7400, chargenMs: 30_000 } }) // "bytes"`
 */
export async function chargenTcp(conn: ServiceConn, opts: TcpServiceOptions = {}): Promise<StopReason> {
  const budget = opts.limits?.chargenBytes ?? 1024 * 1024;
  const ms = opts.limits?.chargenMs ?? 30_000;
  const cycle = chargenCycle();
  const lineBytes = 74;
  const total = Math.floor(budget / lineBytes) * lineBytes;
  const until = Date.now() + ms;
  conn.setWriteDeadline(until);
  const off = onStop(conn, opts, true);
  const stopReading = discardInput(conn, opts);
  let sent = 0;
  try {
    while (sent < total) {
      if (aborted(opts)) return "shutdown";
      if (Date.now() >= until) return "time";
      // the cycle is 95 whole lines, so each write starts where the last one ended
      const chunk = total - sent >= cycle.length ? cycle : cycle.subarray(0, total - sent);
      const n = await conn.write(chunk);
      sent += n;
      opts.onWrite?.(n);
    }
    return "bytes";
  } catch (err) {
    // a write cut off by the deadline or the shutdown: drop what is queued (RST)
    if (aborted(opts) || Date.now() >= until) {
      conn.abort();
      return aborted(opts) ? "shutdown" : "time";
    }
    throw err;
  } finally {
    off();
    conn.setWriteDeadline(null);
    await stopReading();
  }
}

/**
 * Daytime (RFC 867): sends one line with the date and time, then returns.
 *
 * @example `await daytimeTcp(conn) // the client reads "Sat Nov 21 22:30:00 2026 UTC\r\n"`
 */
export async function daytimeTcp(conn: ServiceConn, opts: TcpServiceOptions = {}): Promise<StopReason> {
  await send(conn, formatDaytime(opts.now?.() ?? new Date()), opts);
  return "done";
}

/**
 * Time (RFC 868): sends the 4-byte time, then returns.
 *
 * @example `await timeTcp(conn) // the client reads 4 bytes`
 */
export async function timeTcp(conn: ServiceConn, opts: TcpServiceOptions = {}): Promise<StopReason> {
  await send(conn, encodeTime(opts.now?.() ?? new Date()), opts);
  return "done";
}

/**
 * Picks a quote (uniformly at random).
 *
 * @example `pickQuote(["a\r\n", "b\r\n"], () => 0.7) // "b\r\n"`
 */
export function pickQuote(quotes: readonly string[], random: () => number = Math.random): string {
  const list = quotes.length > 0 ? quotes : BUILTIN_QUOTES;
  return list[Math.min(list.length - 1, Math.floor(random() * list.length))]!;
}

/**
 * Quote of the day (RFC 865): sends one quote (under 512 bytes), then returns.
 *
 * @example `await qotdTcp(conn, { quotes: ["Hello.\r\n"] })`
 */
export async function qotdTcp(conn: ServiceConn, opts: TcpServiceOptions = {}): Promise<StopReason> {
  await send(conn, pickQuote(opts.quotes ?? BUILTIN_QUOTES, opts.random), opts);
  return "done";
}

/**
 * The TCP function of each service.
 *
 * @example `await TCP_SERVICES.echo(conn, { signal })`
 */
export const TCP_SERVICES: Readonly<Record<ServiceName, TcpService>> = {
  echo: echoTcp,
  discard: discardTcp,
  chargen: chargenTcp,
  daytime: daytimeTcp,
  time: timeTcp,
  qotd: qotdTcp,
};
