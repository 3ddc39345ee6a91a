/**
 * The bidirectional copy at the heart of `sockit relay`: bytes flow both ways at once, each
 * direction with backpressure (a read waits for the previous write), EOF on one side becomes a
 * half-close (`closeWrite`) on the other, and the relay ends when both directions are done.
 *
 * Datagram sources never see EOF, so once the opposite direction has ended a datagram source
 * gets `lingerMs` of silence to deliver its last replies, then counts as ended. With `idleMs`,
 * the relay also ends after that long without data either way.
 *
 * @module
 */
import type { Dumper } from "../output/hexdump.js";
import { closeWriteIfConnected } from "../pump.js";
import type { RelayStream } from "./endpoints.js";

/** Options of {@link splice}. */
export interface SpliceOptions {
  /** After one direction ends, how long a datagram source may stay silent before it ends too (ms). */
  readonly lingerMs: number;
  /** End the relay after this long without data in either direction (ms; undefined: never). */
  readonly idleMs?: number | undefined;
  /** Ends the relay (status "interrupted"); both sides are closed. */
  readonly signal?: AbortSignal | undefined;
  /** Hex-dumps ADDR1 → ADDR2 bytes as sent and ADDR2 → ADDR1 bytes as received. */
  readonly dump?: Dumper | undefined;
}

/** How a relay went. */
export interface SpliceResult {
  /** Bytes copied from the first stream to the second (→). */
  readonly forward: number;
  /** Bytes copied from the second stream to the first (←). */
  readonly backward: number;
  /** "closed", "idle timeout", "interrupted" or "failed". */
  readonly status: "closed" | "idle timeout" | "interrupted" | "failed";
  /** The first error, when status is "failed". */
  readonly error?: unknown;
  /** When status is "failed": the stream whose call failed (0: the first, 1: the second). */
  readonly failedSide?: 0 | 1;
}

const STOP: unique symbol = Symbol("stop");
const LINGER: unique symbol = Symbol("linger");

/**
 * Copies `a` → `b` and `b` → `a` until both directions end (or an error, the idle timeout or the
 * signal stops both); closes both streams before resolving. Never rejects: errors come back as
 * status "failed" with the byte counts so far, and both streams are then aborted — so a reset
 * on one side is passed on as a reset (not a FIN) to a TCP peer on the other.
 *
 * @example
 * ```ts
 * const r = await splice(client, server, { lingerMs: 500 });
 * ctx.info(`relay 1: ${r.forward} bytes →, ${r.backward} bytes ←, ${r.status}`);
 * ```
 */
export async function splice(a: RelayStream, b: RelayStream, opts: SpliceOptions): Promise<SpliceResult> {
  let forward = 0;
  let backward = 0;
  let status: SpliceResult["status"] | undefined;
  let error: unknown;
  let failedSide: 0 | 1 | undefined;
  let wake!: () => void;
  const stopped = new Promise<typeof STOP>((resolve) => {
    wake = () => resolve(STOP);
  });
  const halt = (why: NonNullable<typeof status>, err?: unknown, side?: 0 | 1) => {
    if (status !== undefined) return;
    status = why;
    error = err;
    failedSide = side;
    wake();
  };

  let idle: NodeJS.Timeout | undefined;
  if (opts.idleMs !== undefined) idle = setTimeout(() => halt("idle timeout"), opts.idleMs);
  const touch = () => idle?.refresh();
  const onAbort = () => halt("interrupted");
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  /** `p`, or STOP when the relay stops first (p's later failure is then ignored). */
  const orStop = <T>(p: Promise<T>): Promise<T | typeof STOP> => {
    p.catch(() => {});
    return Promise.race([p, stopped]);
  };

  const ended = [deferred(), deferred()] as const;

  async function readNext(src: RelayStream, otherEnded: Promise<void>): Promise<Buffer | null | typeof STOP> {
    if (!src.datagram) return orStop(src.read());
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const linger = otherEnded.then(
      () =>
        new Promise<typeof LINGER>((resolve) => {
          if (!cancelled) timer = setTimeout(() => resolve(LINGER), opts.lingerMs);
        }),
    );
    try {
      const r = await orStop(Promise.race([src.read(), linger]));
      return r === LINGER ? null : r;
    } finally {
      cancelled = true;
      clearTimeout(timer);
    }
  }

  async function copy(src: RelayStream, dst: RelayStream, dir: 0 | 1): Promise<void> {
    const srcSide = dir;
    const dstSide = dir === 0 ? 1 : 0;
    let side: 0 | 1 = srcSide; // whose call is running (a failure is that side's)
    try {
      for (;;) {
        side = srcSide;
        const chunk = await readNext(src, ended[dir === 0 ? 1 : 0].promise);
        if (chunk === STOP) return;
        if (chunk === null) break;
        touch();
        side = dstSide;
        if (dir === 0) opts.dump?.sent(chunk);
        else opts.dump?.received(chunk);
        for (let off = 0; off < chunk.length; off += dst.maxWrite) {
          const piece = dst.maxWrite >= chunk.length ? chunk : chunk.subarray(off, off + dst.maxWrite);
          if ((await orStop(dst.write(piece))) === STOP) return;
          if (dir === 0) forward += piece.length;
          else backward += piece.length;
        }
      }
      side = dstSide;
      await orStop(closeWriteIfConnected(dst));
    } catch (err) {
      halt("failed", err, side);
    } finally {
      ended[dir].resolve();
    }
  }

  await Promise.all([copy(a, b, 0), copy(b, a, 1)]);
  clearTimeout(idle);
  opts.signal?.removeEventListener("abort", onAbort);
  if (status === "failed") {
    a.abort();
    b.abort();
  } else {
    await Promise.allSettled([a.close(), b.close()]);
  }
  const final = status ?? "closed";
  if (final !== "failed") return { forward, backward, status: final };
  return failedSide === undefined
    ? { forward, backward, status: final, error }
    : { forward, backward, status: final, error, failedSide };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * The `-v` summary of one relay: `relay 1: 1234 bytes →, 567 bytes ←, closed`.
 * @example `summary(1, { forward: 3, backward: 0, status: "closed" }) // "relay 1: 3 bytes →, 0 bytes ←, closed"`
 */
export function summary(id: number, r: SpliceResult): string {
  const why =
    r.status === "failed"
      ? `failed: ${r.error instanceof Error ? r.error.message : String(r.error)}`
      : r.status;
  return `relay ${id}: ${r.forward} bytes →, ${r.backward} bytes ←, ${why}`;
}

/**
 * The `-v` line saying how a failure was passed on: `relay 1: 127.0.0.1:7000 reset the
 * connection (ECONNRESET); passing the reset on to 127.0.0.1:51514`, or `… failed (EPIPE);
 * aborting exec cat` when the other side cannot get a reset (not a TCP connection).
 * @example `passedOn(1, r, [client, server]) // "relay 1: … passing the reset on to …"`
 */
export function passedOn(
  id: number,
  r: SpliceResult,
  streams: readonly [RelayStream, RelayStream],
): string | undefined {
  if (r.status !== "failed" || r.failedSide === undefined) return undefined;
  const failed = streams[r.failedSide];
  const other = streams[r.failedSide === 0 ? 1 : 0];
  const code = (r.error as { code?: unknown } | null)?.code;
  const what =
    code === "ECONNRESET"
      ? "reset the connection (ECONNRESET)"
      : `failed${typeof code === "string" ? ` (${code})` : ""}`;
  const action = other.abortResets ? `passing the reset on to ${other.label}` : `aborting ${other.label}`;
  return `relay ${id}: ${failed.label} ${what}; ${action}`;
}
