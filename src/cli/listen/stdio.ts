/**
 * The default way `sockit connect` and `sockit listen` move bytes: a connection ↔ stdio.
 * stdin → socket, socket → stdout, with the netcat rules spelled out:
 *
 * - stdin EOF → `shutdown(SHUT_WR)` (the peer reads EOF and can still answer); reading goes on
 *   until the peer closes too. `--no-shutdown` keeps the write side open instead.
 * - the session ends when both directions are done; when stdin is a terminal, the peer's EOF
 *   ends it at once (nobody is going to type an answer to a closed connection).
 * - `-q SECS`: after stdin EOF, wait at most SECS for the peer, then close (exit 0).
 * - `-w SECS` (connect): after stdin EOF, SECS without data from the peer → close (exit 0).
 * - `-i SECS`: no data either way for SECS → TimeoutError (exit 4).
 * - stdout closed under us (EPIPE, e.g. `| head`) ends quietly.
 *
 * With `listen -k`, {@link stdioMode} serves many clients: each client's bytes go to stdout,
 * stdin goes to every current client (the slowest client sets the pace).
 *
 * @module
 */
import type { Readable } from "node:stream";
import { TimeoutError } from "../../errors/index.js";
import type { Conn } from "../../net/conn.js";
import type { Context } from "../context.js";
import type { Dumper } from "../output/hexdump.js";
import { closeWriteIfConnected, crlf, writeAll } from "../pump.js";
import type { Client, ListenMode, ModeOptions } from "./mode.js";

/**
 * A pull reader over stdin (or any Readable) that several loops can share one at a time:
 * `read()` resolves the next chunk, or null at EOF. Nothing is read before the first `read()`,
 * and nothing more than one chunk ahead (backpressure reaches the writer of the pipe).
 *
 * @example
 * ```ts
 * const r = new StdinReader(process.stdin);
 * for (let b = await r.read(); b !== null; b = await r.read()) await conn.write(b);
 * ```
 */
export class StdinReader {
  readonly #r: Readable;
  #started = false;
  #ended = false;
  #wake: (() => void) | undefined;
  /** Called (once) if reading stdin fails; the reader then reports EOF. */
  onError: ((err: unknown) => void) | undefined;

  constructor(r: Readable) {
    this.#r = r;
  }

  /** True once EOF was seen. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The next chunk, or null at EOF (also after a read error, see `onError`). */
  async read(): Promise<Buffer | null> {
    this.#start();
    for (;;) {
      if (this.#ended) return null;
      const c = this.#r.read() as Buffer | string | null;
      if (c !== null) return typeof c === "string" ? Buffer.from(c) : c;
      if (this.#r.readableEnded) this.#ended = true;
      else await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    const wake = () => {
      const w = this.#wake;
      this.#wake = undefined;
      w?.();
    };
    const end = () => {
      this.#ended = true;
      wake();
    };
    this.#r.on("readable", wake);
    this.#r.on("end", end);
    this.#r.on("close", end);
    this.#r.on("error", (err) => {
      this.onError?.(err);
      end();
    });
  }
}

/**
 * An idle timer for `-i SECS`: `bump()` on every chunk either way; after `ms` without one,
 * `onIdle` gets a TimeoutError (exit code 4) saying so.
 * @example `const idle = new IdleTimer(5000, (e) => fail(e)); idle.bump(); idle.stop();`
 */
export class IdleTimer {
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(ms: number | undefined, onIdle: (err: TimeoutError) => void, what = "the connection") {
    if (ms === undefined) return;
    this.#timer = setTimeout(() => onIdle(idleError(ms, what)), ms);
  }

  /** Data moved: start counting again. */
  bump(): void {
    this.#timer?.refresh();
  }

  /** Stops the timer. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }
}

/**
 * The error for `-i`: `idle: timed out … — no data either way for 5 s (-i 5)`.
 * @example `throw idleError(5000, "127.0.0.1:80")`
 */
export function idleError(ms: number, what: string): TimeoutError {
  return new TimeoutError("ETIMEDOUT", {
    op: "idle",
    address: what,
    hint: `no data either way for ${ms / 1000} s (-i ${ms / 1000}); closing`,
  });
}

/**
 * The end of a session with several ways to get there: the first `finish()` wins (no argument:
 * a clean end; an error: the session fails with it); later calls are ignored.
 * @example `const end = new Ending(); loop().catch(end.finish); await end.done;`
 */
export class Ending {
  /** Settles on the first {@link finish}. */
  readonly done: Promise<void>;
  /** Ends the session (cleanly, or with `err`); later calls do nothing. */
  readonly finish: (err?: unknown) => void;
  #settled = false;

  constructor() {
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    this.done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.finish = (err?: unknown) => {
      if (this.#settled) return;
      this.#settled = true;
      if (err === undefined) resolve();
      else reject(err);
    };
  }

  /** True once finished. */
  get settled(): boolean {
    return this.#settled;
  }
}

/**
 * Prints one received datagram (or chunk) to stdout: counts it as activity, hex-dumps it with
 * -x; resolves false (after ending the session) when stdout is gone.
 * @example `if (!(await printReceived(ctx, p.data, idle, dump, end))) return;`
 */
export async function printReceived(
  ctx: Context,
  data: Uint8Array,
  idle: IdleTimer,
  dump: Dumper | undefined,
  end: Ending,
): Promise<boolean> {
  idle.bump();
  dump?.received(data);
  try {
    await writeAll(ctx.io.stdout, data);
    return true;
  } catch {
    end.finish();
    return false;
  }
}

/** How {@link runSession} behaves. */
export interface SessionOptions {
  /** Half-close (SHUT_WR) at stdin EOF (default true; `--no-shutdown` → false). */
  readonly shutdown?: boolean | undefined;
  /** `-q`: after stdin EOF, wait at most this many ms for the peer to close. */
  readonly lingerMs?: number | undefined;
  /** `-i`: give up (TimeoutError) after this many ms without data either way. */
  readonly idleMs?: number | undefined;
  /**
   * `-w` (connect): after stdin EOF, close (a clean end) once the peer has sent nothing for this
   * many ms — traditional netcat's "timeout for final net reads".
   */
  readonly finalReadMs?: number | undefined;
  /** `--crlf`: LF → CRLF toward the network. */
  readonly crlf?: boolean | undefined;
  /** End as soon as the peer closes its side (default: when stdin is a terminal). */
  readonly endOnPeerEof?: boolean | undefined;
  /** Ends the session quietly (SIGINT, SIGTERM, stdout gone). */
  readonly signal?: AbortSignal | undefined;
  /** The hex dumper for -x. */
  readonly dump?: Dumper | undefined;
  /** The peer as messages name it (default: the connection's remote address). */
  readonly peer?: string | undefined;
}

/**
 * Connects one connection to stdio until both directions are done (see the module notes);
 * closes the connection. Rejects on a connection error (reset → exit 5) or the idle timeout.
 *
 * @example
 * ```ts
 * const conn = await dial("tcp", "127.0.0.1:7");
 * await runSession(conn, new StdinReader(process.stdin), ctx, { lingerMs: 1000 });
 * ```
 */
export async function runSession(
  conn: Conn,
  stdin: StdinReader,
  ctx: Context,
  opts: SessionOptions = {},
): Promise<void> {
  const out = ctx.io.stdout;
  const dump = opts.dump;
  const peer = opts.peer ?? (conn.remoteAddress || "the peer");
  const end = new Ending();
  const finish = end.finish;
  const idle = new IdleTimer(opts.idleMs, finish, peer);
  let peerEof = false;
  let stdinEof = false;
  let linger: NodeJS.Timeout | undefined;
  let finalRead: NodeJS.Timeout | undefined;
  const endOnPeerEof = opts.endOnPeerEof ?? (ctx.io.stdin as { isTTY?: boolean }).isTTY === true;

  const netToStdout = async () => {
    for (;;) {
      const b = await conn.read();
      if (end.settled) return;
      if (b === null) break;
      idle.bump();
      finalRead?.refresh();
      dump?.received(b);
      try {
        await writeAll(out, b);
      } catch {
        ctx.info("stdout closed; stopping");
        finish();
        return;
      }
    }
    peerEof = true;
    ctx.info(`${peer} closed its side (EOF)`);
    if (stdinEof || endOnPeerEof) finish();
  };

  const stdinToNet = async () => {
    const t = opts.crlf ? crlf() : undefined;
    for (;;) {
      const chunk = await stdin.read();
      if (end.settled) return;
      if (chunk === null) break;
      const b = t ? t(chunk) : chunk;
      idle.bump();
      dump?.sent(b);
      await conn.write(b);
    }
    stdinEof = true;
    if (opts.shutdown ?? true) {
      if (await closeWriteIfConnected(conn)) {
        ctx.info(`stdin EOF: sent FIN to ${peer} (shutdown SHUT_WR); reading until it closes`);
      }
    } else ctx.info("stdin EOF: keeping the write side open (--no-shutdown)");
    if (peerEof) {
      finish();
      return;
    }
    if (opts.lingerMs !== undefined) {
      linger = setTimeout(() => {
        ctx.info(`-q: ${opts.lingerMs! / 1000} s after stdin EOF; closing`);
        finish();
      }, opts.lingerMs);
    }
    const w = opts.finalReadMs;
    if (w !== undefined) {
      finalRead = setTimeout(() => {
        ctx.info(`-w ${w / 1000}: nothing from ${peer} for ${w / 1000} s after stdin EOF; closing`);
        finish();
      }, w);
    }
  };

  const onAbort = () => finish();
  if (opts.signal?.aborted) finish();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  netToStdout().catch((e) => finish(e));
  stdinToNet().catch((e) => finish(e));
  let ok = false;
  try {
    await end.done;
    ok = true;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    idle.stop();
    clearTimeout(linger);
    clearTimeout(finalRead);
    // a clean end flushes what is still queued (bounded) before closing; the process exits next
    if (ok && !opts.signal?.aborted) await conn[Symbol.asyncDispose]();
    else await conn.close();
  }
}

/** Options of {@link stdioMode} beyond {@link ModeOptions}. */
export interface StdioModeOptions extends ModeOptions {
  /** `-k`: many clients (each client's EOF closes it; stdin goes to all). */
  readonly keep?: boolean | undefined;
  /** Half-close clients at stdin EOF (default true). */
  readonly shutdown?: boolean | undefined;
  /** `-i`: close a client (single-client: fail with exit 4) after this many ms without data. */
  readonly idleMs?: number | undefined;
  /** Stops everything quietly. */
  readonly signal?: AbortSignal | undefined;
  /** The shared stdin reader (default: one over `ctx.io.stdin`). */
  readonly stdin?: StdinReader | undefined;
}

/**
 * The default `listen` mode: one client ↔ stdio ({@link runSession}), or with `keep` many
 * clients at once (stdout gets every client's bytes; stdin goes to all current clients).
 *
 * @example
 * ```ts
 * const mode = stdioMode({ keep: true }, ctx);
 * void mode.serve(client); // per accepted client
 * ```
 */
export function stdioMode(opts: StdioModeOptions, ctx: Context): ListenMode {
  const stdin = opts.stdin ?? new StdinReader(ctx.io.stdin);
  if (!opts.keep) {
    return {
      serve: (c) =>
        runSession(c.conn, stdin, ctx, {
          shutdown: opts.shutdown,
          idleMs: opts.idleMs,
          crlf: opts.crlf,
          signal: opts.signal,
          dump: ctx.dumper(),
          peer: c.peer || "the unix client",
        }),
      close: async () => {},
    };
  }
  return new StdioHub(opts, ctx, stdin);
}

/** `listen -k` with stdio: many clients, stdin broadcast. */
class StdioHub implements ListenMode {
  readonly #clients = new Map<number, { c: Client; dump: Dumper | undefined }>();
  readonly #opts: StdioModeOptions;
  readonly #ctx: Context;
  readonly #stdin: StdinReader;
  #pumping = false;
  #stdinEof = false;
  #wake: (() => void) | undefined;

  constructor(opts: StdioModeOptions, ctx: Context, stdin: StdinReader) {
    this.#opts = opts;
    this.#ctx = ctx;
    this.#stdin = stdin;
  }

  async serve(c: Client): Promise<void> {
    const ctx = this.#ctx;
    const dump = ctx.dumper(`#${c.id}`);
    this.#clients.set(c.id, { c, dump });
    const idle = new IdleTimer(
      this.#opts.idleMs,
      () => {
        this.#clients.delete(c.id);
        ctx.err(
          `sockit: client #${c.id} ${c.peer} idle for ${this.#opts.idleMs! / 1000} s (-i); closing it\n`,
        );
        void c.conn.close();
      },
      c.peer,
    );
    try {
      if (this.#stdinEof && (this.#opts.shutdown ?? true)) await closeWriteIfConnected(c.conn);
      this.#startPump();
      this.#wake?.();
      for (;;) {
        const b = await c.conn.read();
        if (b === null) break;
        idle.bump();
        dump?.received(b);
        await writeAll(ctx.io.stdout, b);
      }
      ctx.info(`client #${c.id} ${c.peer} closed its side (EOF)`);
    } catch (err) {
      if (!this.#clients.has(c.id) || this.#opts.signal?.aborted) return; // closed by us
      throw err;
    } finally {
      idle.stop();
      this.#clients.delete(c.id);
      await c.conn.close();
    }
  }

  async close(): Promise<void> {
    for (const { c } of this.#clients.values()) await c.conn.close();
    this.#clients.clear();
    this.#wake?.();
  }

  #startPump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    void this.#pump().catch((err) => this.#ctx.warn(`stdin: ${(err as Error).message}`));
  }

  async #pump(): Promise<void> {
    const t = this.#opts.crlf ? crlf() : undefined;
    for (;;) {
      // read stdin only while someone can receive it
      while (this.#clients.size === 0) {
        if (this.#opts.signal?.aborted) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
      const chunk = await this.#stdin.read();
      if (chunk === null) break;
      const b = t ? t(chunk) : chunk;
      await Promise.all(
        [...this.#clients.values()].map(async ({ c, dump }) => {
          dump?.sent(b);
          try {
            await c.conn.write(b);
          } catch (err) {
            this.#ctx.info(`client #${c.id} ${c.peer}: ${(err as Error).message}; closing it`);
            this.#clients.delete(c.id);
            await c.conn.close();
          }
        }),
      );
    }
    this.#stdinEof = true;
    if (this.#opts.shutdown ?? true) {
      for (const { c } of this.#clients.values()) await c.conn.closeWrite().catch(() => {});
      this.#ctx.info("stdin EOF: sent FIN to every client (shutdown SHUT_WR)");
    }
  }
}
