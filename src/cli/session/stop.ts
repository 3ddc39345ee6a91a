/**
 * How a command is stopped: SIGINT/SIGTERM handling and a stdout that went away, in one place.
 * Every command that runs until stopped (connect, listen, relay, serve) takes its signals here.
 *
 * @module
 */
import type { Writable } from "node:stream";
import type { Context } from "../context.js";
import { StdinReader } from "./stdin.js";

/**
 * The signals that stop a command.
 * @example `STOP_SIGNALS.map((s) => process.listenerCount(s))`
 */
export const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * One of {@link STOP_SIGNALS}.
 * @example `const sig: StopSignal = "SIGTERM"`
 */
export type StopSignal = (typeof STOP_SIGNALS)[number];

/**
 * Calls `handler` on every SIGINT/SIGTERM with the signal and how many stop signals came so far
 * (1 for the first); returns the function that removes the handlers. While handlers are
 * installed Node does not end the process on these signals: the handler decides.
 * @example `const off = onSignals((sig, n) => (n === 1 ? stop() : cutOff())); … off();`
 */
export function onSignals(handler: (sig: StopSignal, count: number) => void): () => void {
  let count = 0;
  const hs = STOP_SIGNALS.map((sig) => {
    const h = () => handler(sig, ++count);
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of hs) process.off(sig, h);
  };
}

/**
 * Waits for SIGINT or SIGTERM, or for `stop` when given (tests and embedders stop a server that
 * way; then no signal handler is installed); a second signal calls `onSecond` (e.g. cut off
 * what still runs). `stopped` resolves with the signal's name or `"stop"`; `dispose` removes
 * the signal handlers.
 * @example `const { stopped, dispose } = waitForStop(undefined); const sig = await stopped; dispose();`
 */
export function waitForStop(
  stop: AbortSignal | undefined,
  onSecond: () => void = () => {},
): { stopped: Promise<string>; dispose: () => void } {
  let resolve: (s: string) => void = () => {};
  const stopped = new Promise<string>((r) => (resolve = r));
  if (stop) {
    if (stop.aborted) resolve("stop");
    else stop.addEventListener("abort", () => resolve("stop"), { once: true });
    return { stopped, dispose: () => {} };
  }
  const dispose = onSignals((sig, count) => (count === 1 ? resolve(sig) : onSecond()));
  return { stopped, dispose };
}

/**
 * Calls `stop` on the first SIGINT/SIGTERM, then removes the handlers (a second Ctrl-C kills
 * the process the default way); returns the function that removes them.
 * @example `const off = onStopSignals(() => ac.abort()); try { … } finally { off(); }`
 */
export function onStopSignals(stop: (sig: StopSignal) => void): () => void {
  const off = onSignals((sig) => {
    off();
    stop(sig);
  });
  return off;
}

/**
 * The exit code of a command ended by a signal, as a shell reports it: 128 + the signal number.
 * @example `signalExitCode("SIGINT") // 130`
 */
export function signalExitCode(sig: StopSignal): number {
  return 128 + (sig === "SIGINT" ? 2 : 15);
}

/**
 * Watches stdout: `onClosed` runs once when it fails or closes (with the error, if any), so that
 * a reader going away (EPIPE, e.g. `| head`) ends the command instead of crashing it.
 * Returns the function that stops watching.
 * @example `const off = watchOutput(ctx.io.stdout, (err) => ac.abort(err));`
 */
export function watchOutput(out: Writable, onClosed: (err?: unknown) => void): () => void {
  let fired = false;
  const h = (err?: unknown) => {
    if (!fired) {
      fired = true;
      onClosed(err);
    }
  };
  const onClose = () => h();
  out.on("error", h);
  out.on("close", onClose);
  return () => {
    out.off("error", h);
    out.off("close", onClose);
  };
}

/**
 * Runs a command body with a stop signal that SIGINT, SIGTERM and a closed stdout abort; a
 * stdin reader shared by the body. stdout closed by its reader (EPIPE) ends quietly; any
 * other stdout failure (ENOSPC…) is rethrown after the body ends (exit 6).
 * @example `return withStop(ctx, (signal, stdin) => serve(plan, ctx, stdin, signal));`
 */
export async function withStop(
  ctx: Context,
  body: (signal: AbortSignal, stdin: StdinReader) => Promise<number>,
): Promise<number> {
  const ac = new AbortController();
  let outErr: unknown;
  const offSignals = onStopSignals(() => ac.abort());
  const offOut = watchOutput(ctx.io.stdout, (err) => {
    if (err !== undefined && (err as { code?: unknown }).code !== "EPIPE") outErr = err;
    ac.abort();
  });
  const stdin = new StdinReader(ctx.io.stdin);
  stdin.onError = (e) => ctx.warn(`reading stdin: ${(e as Error).message}`);
  try {
    const code = await body(ac.signal, stdin);
    if (outErr !== undefined) throw outErr;
    return code;
  } finally {
    offSignals();
    offOut();
  }
}
