/**
 * The default way `sockit listen` serves clients: stdio. One client ↔ stdio is the session of
 * session/stdio.ts ({@link runSession}: half-close at stdin EOF, `-i`, a terminal's rules); with
 * `listen -k`, {@link stdioMode} serves many clients: each client's bytes go to stdout, stdin
 * goes to every current client (the slowest client sets the pace).
 *
 * @module
 */
import type { Context } from "../context.js";
import type { Dumper } from "../output/hexdump.js";
import { closeWriteIfConnected, crlf, writeAll } from "../pump.js";
import { StdinReader } from "../session/stdin.js";
import { IdleTimer, runSession } from "../session/stdio.js";
import type { Client, ListenMode, ModeOptions } from "./mode.js";

/** Options of {@link stdioMode} beyond {@link ModeOptions}. */
export interface StdioModeOptions extends ModeOptions {
  /** `-k`: many clients (each client's EOF closes it; stdin goes to all). */
  readonly keep?: boolean | undefined;
  /** Half-close clients at stdin EOF (default true). */
  readonly shutdown?: boolean | undefined;
  /** One client: `--progress` / `--no-progress` (see session/progress.ts). */
  readonly progress?: boolean | undefined;
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
          progress: opts.progress,
          peer: c.peer === "unix" ? "the unix client" : c.peer,
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
