/**
 * Clients of the six services over TCP or UDP, on the Go-style face. Every wait is bounded by
 * `timeout` (default 5 s) and every reply by a size: a misbehaving server cannot make a client
 * wait or buffer forever.
 *
 * @module
 */
import { type Conn, dial, type PacketConn, TimeoutError } from "../../net/index.js";
import {
  CHARGEN_WIDTH,
  chargenFollows,
  chargenLike,
  chargenLineStart,
  decodeTime,
  RFC868_OFFSET,
} from "./protocol.js";

/**
 * Options of every client call.
 *
 * @example
 * ```ts
 * const opts: ClientOptions = { udp: true, timeout: 1000 };
 * const now = await daytime("127.0.0.1:7013", opts);
 * ```
 */
export interface ClientOptions {
  /** Use UDP (one datagram each way) instead of TCP. */
  readonly udp?: boolean;
  /** Give up after this many ms: connecting and each reply (default 5000). */
  readonly timeout?: number;
  /** Abort the call. */
  readonly signal?: AbortSignal;
}

/**
 * Largest text reply (daytime, qotd) a client reads before it stops.
 *
 * @example
 * ```ts
 * const quote = await qotd("127.0.0.1:7017");
 * if (Buffer.byteLength(quote) >= MAX_TEXT_REPLY) console.error("reply cut at 64 KiB");
 * ```
 */
export const MAX_TEXT_REPLY = 64 * 1024;

const DEFAULT_TIMEOUT = 5000;

function udpTimeout(address: string, ms: number): TimeoutError {
  return new TimeoutError("ETIMEDOUT", {
    op: "recv",
    address,
    hint: `no reply within ${ms / 1000} s — UDP reports nothing when nobody listens: is the server running, with UDP enabled (sockit serve --udp)?`,
  });
}

async function withConn<T>(address: string, opts: ClientOptions, fn: (c: Conn) => Promise<T>): Promise<T> {
  const ms = opts.timeout ?? DEFAULT_TIMEOUT;
  const conn = await dial("tcp", address, { timeout: ms, ...(opts.signal ? { signal: opts.signal } : {}) });
  try {
    conn.setDeadline(Date.now() + ms);
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

/** One UDP request and its reply (at most `max` bytes). */
async function udpAsk(
  address: string,
  request: Uint8Array,
  max: number,
  opts: ClientOptions,
): Promise<{ reply: Buffer; sentAt: number; gotAt: number; rttMs: number }> {
  const ms = opts.timeout ?? DEFAULT_TIMEOUT;
  const pc: PacketConn = await dial("udp", address, opts.signal ? { signal: opts.signal } : {});
  try {
    pc.setReadDeadline(Date.now() + ms);
    const sentAt = Date.now();
    const t0 = performance.now();
    await pc.write(request);
    try {
      const reply = await pc.read(Math.min(max, 65535), opts.signal ? { signal: opts.signal } : undefined);
      return { reply, sentAt, gotAt: Date.now(), rttMs: performance.now() - t0 };
    } catch (err) {
      if (err instanceof TimeoutError) throw udpTimeout(address, ms);
      throw err;
    }
  } finally {
    await pc.close();
  }
}

/** Reads until EOF or `max` bytes. */
async function readAll(conn: Conn, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  while (n < max) {
    const b = await conn.read(max - n);
    if (b === null) break;
    parts.push(b);
    n += b.length;
  }
  return Buffer.concat(parts);
}

/**
 * What {@link echo} reports.
 *
 * @example
 * ```ts
 * const r: EchoResult = await echo("127.0.0.1:7007", "hello\n");
 * console.log(r.intact ? `ok in ${r.rttMs.toFixed(1)} ms` : `got ${JSON.stringify(r.reply.toString())}`);
 * ```
 */
export interface EchoResult {
  /** What came back. */
  readonly reply: Buffer;
  /** True when it is exactly what was sent. */
  readonly intact: boolean;
  /** Milliseconds from sending to the whole reply. */
  readonly rttMs: number;
}

/**
 * Sends `data` to an echo server and reads the same number of bytes back (UDP: one datagram).
 *
 * @example `const { intact, rttMs } = await echo("127.0.0.1:7007", "hello\n")`
 */
export async function echo(
  address: string,
  data: Uint8Array | string,
  opts: ClientOptions = {},
): Promise<EchoResult> {
  const msg = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
  if (opts.udp) {
    const { reply, rttMs } = await udpAsk(address, msg, 65535, opts);
    return { reply, intact: reply.equals(msg), rttMs };
  }
  return withConn(address, opts, async (conn) => {
    const t0 = performance.now();
    await conn.write(msg);
    const parts: Buffer[] = [];
    let n = 0;
    while (n < msg.length) {
      const b = await conn.read(msg.length - n);
      if (b === null) break; // closed early: report what came back
      parts.push(b);
      n += b.length;
    }
    const rttMs = performance.now() - t0;
    let reply = Buffer.concat(parts);
    const intact = reply.equals(msg);
    // not an echo (a server's refusal message?): read the rest of it, bounded, to show it whole
    if (!intact && n >= msg.length)
      reply = Buffer.concat([reply, await readAll(conn, 4096).catch(() => Buffer.alloc(0))]);
    return { reply, intact, rttMs };
  });
}

/**
 * Reads a daytime server's line (the text as sent, at most 64 KiB).
 *
 * @example `await daytime("127.0.0.1:7013") // "Sat Nov 21 22:30:00 2026 UTC\r\n"`
 */
export async function daytime(address: string, opts: ClientOptions = {}): Promise<string> {
  return (await textReply(address, opts)).toString("latin1");
}

/**
 * Reads a quote of the day (the text as sent, at most 64 KiB).
 *
 * @example `console.log(await qotd("127.0.0.1:7017"))`
 */
export async function qotd(address: string, opts: ClientOptions = {}): Promise<string> {
  return (await textReply(address, opts)).toString("utf8");
}

async function textReply(address: string, opts: ClientOptions): Promise<Buffer> {
  if (opts.udp) return (await udpAsk(address, Buffer.alloc(0), MAX_TEXT_REPLY, opts)).reply;
  return withConn(address, opts, (conn) => readAll(conn, MAX_TEXT_REPLY));
}

/**
 * What {@link time} reports.
 *
 * @example
 * ```ts
 * const t: TimeResult = await time("127.0.0.1:7037");
 * if (Math.abs(t.offsetMs) > 2000) console.warn(`clocks differ by ${Math.round(t.offsetMs / 1000)} s`);
 * ```
 */
export interface TimeResult {
  /** The server's time (whole seconds). */
  readonly date: Date;
  /** Seconds since 1900 as sent. */
  readonly seconds1900: number;
  /**
   * Server clock minus local clock, ms: the server's second is taken at its middle and the
   * local time at the middle of the exchange (±500 ms: the protocol counts whole seconds).
   */
  readonly offsetMs: number;
  /** Reply size: 4, or 8 from some inetd implementations. */
  readonly bytes: 4 | 8;
}

/**
 * Asks a time server (RFC 868) for the time and the offset to the local clock. Accepts the
 * 8-byte replies some inetd implementations send; rejects `TimeReplyError` for other sizes.
 *
 * @example `const { date, offsetMs } = await time("127.0.0.1:7037")`
 */
export async function time(address: string, opts: ClientOptions = {}): Promise<TimeResult> {
  let reply: Buffer;
  let sentAt: number;
  let gotAt: number;
  if (opts.udp) ({ reply, sentAt, gotAt } = await udpAsk(address, Buffer.alloc(0), 64, opts));
  else {
    ({ reply, sentAt, gotAt } = await withConn(address, opts, async (conn) => {
      const s = Date.now(); // the server sends as soon as it accepts
      const r = await readAll(conn, 64);
      return { reply: r, sentAt: s, gotAt: Date.now() };
    }));
  }
  const t = decodeTime(reply);
  const serverMs = (t.seconds1900 - RFC868_OFFSET) * 1000 + 500;
  return { ...t, offsetMs: serverMs - (sentAt + gotAt) / 2 };
}

/**
 * Options of {@link chargen}.
 *
 * @example
 * ```ts
 * const opts: ChargenOptions = { lines: 5, timeout: 2000, onLine: (l) => console.log(l.toString("latin1")) };
 * await chargen("127.0.0.1:7019", opts);
 * ```
 */
export interface ChargenOptions extends ClientOptions {
  /** Stop after this many lines (TCP; default 10; 0: until the server closes). */
  readonly lines?: number;
  /** Called with each line (without its line end). */
  readonly onLine?: (line: Buffer) => void | Promise<void>;
}

/**
 * What {@link chargen} reports.
 *
 * @example
 * ```ts
 * const r: ChargenResult = await chargen("127.0.0.1:7019", { lines: 100 });
 * const conforming = r.badLines === 0 && r.outOfSequence === 0 && r.rfcLines === r.lines;
 * ```
 */
export interface ChargenResult {
  /** Lines received. */
  readonly lines: number;
  /** Bytes received. */
  readonly bytes: number;
  /** Lines that are not chargen lines at all (not runs of consecutive printable characters). */
  readonly badLines: number;
  /** Lines exactly as RFC 864 has them: 72 characters of the 95-character ring. */
  readonly rfcLines: number;
  /** Lines whose first character does not follow the previous line's first character. */
  readonly outOfSequence: number;
}

/**
 * Reads chargen lines (TCP: up to `lines`, then closes; UDP: the one line of one datagram) and
 * checks each against RFC 864's pattern.
 *
 * @example `const r = await chargen("127.0.0.1:7019", { lines: 3, onLine: (l) => console.log(l.toString()) })`
 */
export async function chargen(address: string, opts: ChargenOptions = {}): Promise<ChargenResult> {
  const want = opts.lines ?? 10;
  let lines = 0;
  let bytes = 0;
  let badLines = 0;
  let rfcLines = 0;
  let outOfSequence = 0;
  let prev = -1;
  // the last line of a UDP reply may be short (xinetd cuts its 1 024-byte reply there), and so
  // may what is left of a TCP stream at EOF
  const take = async (line: Buffer, mayBeShort: boolean) => {
    lines++;
    const ended = line.at(-1) === 0x0a;
    const cut = ended ? (line.at(-2) === 0x0d ? 2 : 1) : line.at(-1) === 0x0d ? 1 : 0; // a CR without its LF
    const body = line.subarray(0, line.length - cut);
    const whole = body.length === CHARGEN_WIDTH;
    if (!chargenLike(body) || (!whole && !mayBeShort)) {
      badLines++;
      prev = -1;
    } else {
      if (chargenLineStart(body) >= 0) rfcLines++;
      if (prev >= 0 && !chargenFollows(prev, body[0]!)) outOfSequence++;
      prev = body[0]!;
    }
    await opts.onLine?.(body);
  };
  if (opts.udp) {
    const { reply } = await udpAsk(address, Buffer.alloc(0), 65535, opts);
    bytes = reply.length;
    const ls = splitLines(reply);
    for (let i = 0; i < ls.length; i++) await take(ls[i]!, i === ls.length - 1);
    return { lines, bytes, badLines, rfcLines, outOfSequence };
  }
  const ms = opts.timeout ?? DEFAULT_TIMEOUT;
  return withConn(address, opts, async (conn) => {
    for (;;) {
      if (want > 0 && lines >= want) break;
      conn.setReadDeadline(Date.now() + ms); // a stream: each line has the full timeout
      const line = await conn.readLine({ max: CHARGEN_WIDTH * 16 });
      if (line === null) break;
      bytes += line.length;
      await take(line, line.at(-1) !== 0x0a);
    }
    return { lines, bytes, badLines, rfcLines, outOfSequence };
  });
}

function splitLines(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < b.length) {
    const j = b.indexOf(0x0a, i);
    const end = j < 0 ? b.length : j + 1;
    out.push(b.subarray(i, end));
    i = end;
  }
  return out;
}
