/**
 * The one connect path for a name that resolved to several addresses: every face and the CLI
 * come here. Attempts race as RFC 8305 ("Happy Eyeballs") describes: addresses are tried in
 * order with the families interleaved, IPv6 first; each next attempt starts when the previous
 * one fails or after a short delay if it has not connected yet; the first connection wins and
 * the others are cancelled. When all fail, one error names every address tried and why.
 *
 * @module
 */
import { makeOSError, type OSError, toSocketError } from "../errors/index.js";
import { type ConnectOptions, connectStream } from "./connect-stream.js";
import type { StreamSocket } from "./stream.js";
import { type Endpoint, formatEndpoint, isUnix } from "./endpoint.js";

/** RFC 8305's recommended "Connection Attempt Delay" (Go uses 300 ms, curl 200 ms). */
export const FALLBACK_DELAY_MS = 250;

/** Options of {@link connectAny}. */
export interface ConnectAnyOptions extends ConnectOptions {
  /** Wait this long for an attempt before starting the next one (default 250 ms). */
  readonly fallbackDelayMs?: number;
  /** What the caller asked for (a name and port), for the error message. */
  readonly target?: string;
}

/**
 * Orders addresses as RFC 8305 §4 says: families interleaved, starting with IPv6 when there
 * is any; within a family the resolver's order is kept.
 *
 * @example
 * ```ts
 * interleave([{ address: "127.0.0.1", port: 80, family: 4 }, { address: "::1", port: 80, family: 6 }]);
 * // → [::1]:80 first, then 127.0.0.1:80
 * ```
 */
export function interleave(endpoints: readonly Endpoint[]): Endpoint[] {
  const v6 = endpoints.filter((e) => !isUnix(e) && e.family === 6);
  const rest = endpoints.filter((e) => isUnix(e) || e.family !== 6);
  const out: Endpoint[] = [];
  for (let i = 0; i < Math.max(v6.length, rest.length); i++) {
    if (i < v6.length) out.push(v6[i]!);
    if (i < rest.length) out.push(rest[i]!);
  }
  return out;
}

/**
 * Connects to the first of `endpoints` that answers (see the module comment). `timeout` and
 * `signal` bound the whole attempt. With one endpoint this is just {@link connectStream}.
 * Rejects with one OSError whose message names each address tried; the individual errors are
 * its `cause` (an AggregateError).
 *
 * @example
 * ```ts
 * const s = await connectAny(
 *   [{ address: "::1", port: 8000, family: 6 }, { address: "127.0.0.1", port: 8000, family: 4 }],
 *   { timeout: 2000, target: "localhost:8000" },
 * );
 * ```
 */
export async function connectAny(
  endpoints: readonly Endpoint[],
  opts: ConnectAnyOptions = {},
): Promise<StreamSocket> {
  const order = interleave(endpoints);
  if (order.length === 0) {
    throw makeOSError("EADDRNOTAVAIL", {
      op: "connect",
      address: opts.target ?? "?",
      hint: "the name resolved to no address",
    });
  }
  if (order.length === 1) return connectStream(order[0]!, opts);

  const delay = opts.fallbackDelayMs ?? FALLBACK_DELAY_MS;
  const { fallbackDelayMs: _d, target: _t, fd: _fd, signal: outer, ...base } = opts;
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(outer?.reason);
  outer?.addEventListener("abort", onOuterAbort, { once: true });
  const errors: Array<{ to: Endpoint; err: OSError }> = [];

  try {
    return await new Promise<StreamSocket>((resolve, reject) => {
      let next = 0;
      let running = 0;
      let won = false;
      let timer: NodeJS.Timeout | undefined;
      const overall =
        opts.timeout === undefined
          ? undefined
          : setTimeout(() => stop.abort(new Error("timeout")), opts.timeout);
      const finish = () => {
        if (timer !== undefined) clearTimeout(timer);
        if (overall !== undefined) clearTimeout(overall);
      };
      const fail = () => {
        finish();
        reject(
          combined(errors, opts, outer?.aborted ? "EINTR" : stop.signal.aborted ? "ETIMEDOUT" : undefined),
        );
      };
      const start = () => {
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        if (won || next >= order.length || stop.signal.aborted) return;
        const to = order[next++]!;
        running++;
        connectStream(to, { ...base, signal: stop.signal }).then(
          (s) => {
            running--;
            if (won) {
              s.abort();
              return;
            }
            won = true;
            finish();
            stop.abort(); // cancels the attempts still running
            resolve(s);
          },
          (err: unknown) => {
            running--;
            if (won) return;
            errors.push({ to, err: toSocketError(err, { op: "connect", address: formatEndpoint(to) }) });
            if (next < order.length && !stop.signal.aborted) start();
            else if (running === 0) fail();
          },
        );
        if (next < order.length) timer = setTimeout(start, delay);
      };
      stop.signal.addEventListener("abort", () => {
        if (!won && running === 0) fail();
      });
      start();
    });
  } finally {
    outer?.removeEventListener("abort", onOuterAbort);
  }
}

/** One error for a failed race: the class of the first failure, every address in the message. */
function combined(
  errors: ReadonlyArray<{ to: Endpoint; err: OSError }>,
  opts: ConnectAnyOptions,
  stopped: "EINTR" | "ETIMEDOUT" | undefined,
): OSError {
  const tried = errors.map(({ to, err }) => `${formatEndpoint(to)} (${err.code})`).join(", ");
  const timedOut = stopped === "ETIMEDOUT";
  const code = stopped ?? errors[0]?.err.code ?? "EIO";
  return makeOSError(code, {
    op: "connect",
    address: opts.target ?? errors.map((e) => formatEndpoint(e.to)).join(", "),
    cause: new AggregateError(
      errors.map((e) => e.err),
      `tried ${tried}`,
    ),
    hint: timedOut
      ? `no address answered within ${(opts.timeout ?? 0) / 1000} s; tried ${tried}`
      : `tried every address: ${tried}`,
  });
}
