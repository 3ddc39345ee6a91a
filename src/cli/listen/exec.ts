/**
 * `sockit listen --exec CMD` / `--sh-exec CMD`: one child process per connection, the socket
 * wired to its stdin and stdout (stderr goes to ours), like `ncat --exec` but with half-close
 * handled both ways:
 *
 * - the client half-closes → the child's stdin ends; the child's stdout is still forwarded until
 *   it ends;
 * - the child's stdout ends → the socket is half-closed (FIN); what the client sends is still fed
 *   to the child's stdin (or discarded once the child stopped reading) until the client's EOF;
 * - the connection closes when both directions are done and the child has exited.
 *
 * Backpressure both ways: nothing is read from one side faster than the other side takes it.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { Context } from "../context.js";
import { UsageError } from "../exit.js";
import { crlf } from "../pump.js";
import { childEnd } from "../session/child.js";
import { splice } from "../session/splice.js";
import { connEnd } from "../session/stdio.js";
import { writableSink } from "./broker.js";
import type { Client, ListenMode, ModeOptions } from "./mode.js";
import { shellQuote, shellwords } from "./shellwords.js";

/**
 * How long a child has after SIGTERM before SIGKILL, ms.
 * @example `setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS)`
 */
export const KILL_GRACE_MS = 2000;

/**
 * The argv to run per connection: `--exec` split by {@link shellwords} (no shell), or
 * `/bin/sh -c CMD` for `--sh-exec`. Throws UsageError when neither or both are given, or the
 * command is empty or has an unterminated quote.
 *
 * @example
 * ```ts
 * execArgv({ exec: "grep -i 'hello world'" }); // ["grep", "-i", "hello world"]
 * execArgv({ shExec: "tr a-z A-Z | rev" });    // ["/bin/sh", "-c", "tr a-z A-Z | rev"]
 * ```
 */
export function execArgv(opts: Pick<ModeOptions, "exec" | "shExec">): string[] {
  if (opts.exec !== undefined && opts.shExec !== undefined)
    throw new UsageError("--exec and --sh-exec cannot be used together; pick one");
  if (opts.shExec !== undefined) {
    if (opts.shExec.trim() === "") throw new UsageError("--sh-exec needs a command, got an empty string");
    return ["/bin/sh", "-c", opts.shExec];
  }
  if (opts.exec === undefined) throw new UsageError("exec mode needs --exec CMD or --sh-exec CMD");
  let argv: string[];
  try {
    argv = shellwords(opts.exec);
  } catch (err) {
    throw new UsageError(`--exec: ${(err as Error).message} (or use --sh-exec for shell syntax)`);
  }
  if (argv.length === 0) throw new UsageError("--exec needs a command, got an empty string");
  return argv;
}

/**
 * What {@link execMode} returns: a {@link ListenMode} that also tells the argv it runs.
 *
 * @example
 * ```ts
 * execMode({ exec: "cat" }, ctx).argv; // ["cat"]
 * ```
 */
export interface ExecMode extends ListenMode {
  /** The command run per connection. */
  readonly argv: readonly string[];
  /** Children running now. */
  readonly running: number;
}

/**
 * The `--exec`/`--sh-exec` mode. Each child gets the parent's environment plus
 * `SOCKIT_PEER_ADDR` and `SOCKIT_PEER_PORT` ("" and "0" for Unix sockets). If the command
 * cannot be started (ENOENT, EACCES) the error is printed and that client is closed; the
 * listener goes on. A client reset kills the child (SIGTERM, SIGKILL after
 * {@link KILL_GRACE_MS}). `-v` reports each child's exit status; `--crlf` turns the child's LF
 * into CRLF on the way to the network.
 *
 * @example
 * ```ts
 * const mode = execMode({ exec: "cat" }, ctx); // throws UsageError for a bad command line
 * for await (const conn of ln) void mode.serve(client(conn));
 * ```
 */
export function execMode(opts: ModeOptions, ctx: Context): ExecMode {
  const argv = execArgv(opts);
  const [file, ...args] = argv as [string, ...string[]];
  const display = opts.shExec ?? argv.map(shellQuote).join(" ");
  /** Stops one running session (kills its child, resets its client): for close(). */
  const stoppers = new Set<() => void>();
  const serving = new Set<Promise<void>>();
  let closing = false;

  async function serveOne(client: Client): Promise<void> {
    const { conn } = client;
    const label = `client ${client.id} (${client.peer})`;
    if (closing) {
      await conn.close();
      return;
    }
    const child = spawn(file, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: {
        ...ctx.io.env,
        SOCKIT_PEER_ADDR: client.peerAddress,
        SOCKIT_PEER_PORT: String(client.peerPort),
      },
    });
    // the pipes fail with EPIPE/ECONNRESET when the child exits early: handled where they are used
    for (const s of [child.stdin, child.stdout, child.stderr]) s?.on("error", () => {});
    const startError = await new Promise<Error | undefined>((resolve) => {
      child.once("spawn", () => resolve(undefined));
      child.once("error", (err) => resolve(err));
    });
    if (startError !== undefined) {
      const code = (startError as NodeJS.ErrnoException).code ?? "";
      const hint = code === "ENOENT" ? " — check the name and PATH, or use --sh-exec" : "";
      ctx.warn(`${label}: cannot run ${file}: ${startError.message}${hint}`);
      await conn.close();
      return;
    }
    child.on("error", (err) => ctx.warn(`${label}: ${display}: ${err.message}`));
    ctx.info(`${label}: started ${display} (pid ${child.pid})`);
    void forwardStderr(child, ctx);

    // child stdout → socket (FIN at its end) and socket → child stdin (its EOF at the client's),
    // discarding once the child stops reading; a failure either way kills the child and resets
    const end = childEnd(child, label, { discardWhenDeaf: true, killGraceMs: KILL_GRACE_MS });
    let stopped: Error | undefined;
    const stop = () => {
      stopped ??= new Error("listener shutting down");
      end.abort();
      conn.abort();
    };
    stoppers.add(stop);
    try {
      if (closing) stop();
      const r = await splice(end, connEnd(conn, label), {
        directions: [{ transform: opts.crlf ? crlf() : undefined }, {}],
        dump: ctx.dumper(`[${client.id}]`),
      });
      await end.exited;
      const failure = r.status === "failed" ? (stopped ?? r.error) : undefined;
      const status =
        child.signalCode !== null ? `killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;
      const why = failure === undefined ? "" : ` (connection failed: ${(failure as Error).message})`;
      ctx.info(`${label}: ${display} ${status}${why}`);
    } finally {
      stoppers.delete(stop);
    }
  }

  return {
    argv,
    get running() {
      return stoppers.size;
    },
    serve(client: Client): Promise<void> {
      const p = serveOne(client);
      serving.add(p);
      const forget = () => serving.delete(p);
      p.then(forget, forget);
      return p;
    },
    async close(): Promise<void> {
      closing = true; // a child still starting is stopped as soon as it has started
      for (const stop of stoppers) stop();
      await Promise.allSettled([...serving]);
    },
  };
}

/** Copies the child's stderr to ours with backpressure (no pipe(): no listeners pile up on stderr). */
async function forwardStderr(child: ChildProcess, ctx: Context): Promise<void> {
  if (!child.stderr) return;
  try {
    const sink = writableSink(ctx.io.stderr);
    for await (const d of child.stderr as AsyncIterable<Buffer>) await sink.write(d);
  } catch {
    child.stderr.destroy(); // our stderr is gone: the child's writes fail (EPIPE) rather than block
  }
}
