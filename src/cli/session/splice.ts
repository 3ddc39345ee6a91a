/**
 * The one bidirectional copy of the command line: `connect` and `listen` (a connection ↔ stdio,
 * TCP, Unix or UDP) and `relay` (any two addresses) all move their bytes with {@link splice}.
 * Bytes flow both ways at once, each direction with backpressure (a read waits for the previous
 * write), EOF on one side becomes a half-close (`closeWrite`) on the other, and the splice ends
 * when both directions are done. What differs between the commands is options:
 *
 * - `silenceMs` (relay's `-t` for datagram sources, connect's `-w` after stdin EOF): once the
 *   opposite direction has ended, a source silent this long counts as ended.
 * - `endAfterMs` (connect's `-q`): once this direction has ended, the whole splice ends after
 *   this long.
 * - `endsAll` (a terminal on stdin): this direction's EOF ends the splice at once.
 * - `idleMs` with or without `idleError` (`-i` fails with exit 4; relay's `-T` just ends).
 * - `failure`: a failed call aborts both ends (relay: the reset is passed on) or closes them.
 *
 * @module
 */
import type { Dumper } from "../output/hexdump.js";
import { closeWriteIfConnected } from "../pump.js";

/**
 * One side of a splice: a connection, stdio, a child process, a UDP socket…
 * @example `const end: SpliceEnd = connEnd(conn, conn.remoteAddress)`
 */
export interface SpliceEnd {
  /** For messages: the peer address, "stdio", "exec cat"… */
  readonly label: string;
  /** True when reads are datagrams (no EOF ever arrives; see `silenceMs`). */
  readonly datagram: boolean;
  /** Largest write kept whole (one datagram); longer chunks are split. Infinity for streams. */
  readonly maxWrite: number;
  /** True when {@link abort} sends the peer a reset (a TCP connection). */
  readonly abortResets: boolean;
  /** A failed write to this end ends the splice cleanly (stdout gone, `| head`), not as a failure. */
  readonly quietWriteFailure?: boolean | undefined;
  /** The next chunk (or datagram); null at EOF. */
  read(): Promise<Buffer | null>;
  /** Writes all of `b` (waits while the other end is not reading). */
  write(b: Buffer): Promise<unknown>;
  /** No more writes: the peer reads EOF (a no-op for datagrams and stdout). */
  closeWrite(): Promise<void>;
  /**
   * Releases the end (queued bytes still go out); pending reads end. Idempotent. `graceful`:
   * the splice ended cleanly (not stopped, not timed out), so a bounded flush is worth waiting for.
   */
  close(graceful?: boolean): Promise<void>;
  /** Tears the end down at once (a TCP reset, a killed child). */
  abort(): void;
  /**
   * Resolves once a write can go somewhere (a UDP listener: when a peer is known). The
   * direction toward this end reads its source only after that.
   */
  ready?(): Promise<void>;
}

/**
 * Per-direction options of {@link splice} (index 0: first → second, 1: second → first).
 * @example `const stdinToNet: DirectionOptions = { transform: crlf(), endAfterMs: 1000 }`
 */
export interface DirectionOptions {
  /** Rewrites each chunk before it is written (e.g. LF → CRLF). */
  readonly transform?: ((b: Buffer) => Buffer) | undefined;
  /** At EOF, half-close the destination (default true; `--no-shutdown` → false). */
  readonly halfClose?: boolean | undefined;
  /** Once the opposite direction ended, this direction's source may be silent this long (ms). */
  readonly silenceMs?: number | undefined;
  /** Once this direction ended, the whole splice ends (cleanly) after this long (ms). */
  readonly endAfterMs?: number | undefined;
  /** This direction's end ends the whole splice at once. */
  readonly endsAll?: boolean | undefined;
}

/**
 * What {@link splice} tells as it goes (for `-v` messages).
 * @example `const events: SpliceEvents = { eof: (dir, fin) => ctx.info(fin ? "FIN passed on" : "EOF") }`
 */
export interface SpliceEvents {
  /** Direction `dir` read EOF; `fin`: the destination was half-closed (undefined: not asked to). */
  eof?(dir: 0 | 1, fin: boolean | undefined): void;
  /** Direction `dir` ended after `silenceMs` of silence. */
  silence?(dir: 0 | 1): void;
  /** `endAfterMs` after direction `dir` ended passed: the splice ends. */
  endAfter?(dir: 0 | 1): void;
  /** A write toward an end with `quietWriteFailure` failed: the splice ends. */
  outputGone?(dir: 0 | 1): void;
  /** `n` bytes of direction `dir` were written to its destination (synchronous: keep it cheap). */
  moved?(dir: 0 | 1, n: number): void;
}

/**
 * Options of {@link splice}.
 * @example `const o: SpliceOptions = { idleMs: 30_000, signal: ac.signal, failure: "abort" }`
 */
export interface SpliceOptions {
  /** Per direction: [first → second, second → first]. */
  readonly directions?: readonly [DirectionOptions?, DirectionOptions?] | undefined;
  /** End after this long without data in either direction (ms; undefined: never). */
  readonly idleMs?: number | undefined;
  /** With `idleMs`: the idle timeout is a failure with this error (default: status "idle timeout"). */
  readonly idleError?: (() => Error) | undefined;
  /** Ends the splice (status "interrupted"); both ends are closed. */
  readonly signal?: AbortSignal | undefined;
  /** Hex-dumps first → second bytes as sent and second → first bytes as received. */
  readonly dump?: Dumper | undefined;
  /** On a failure: abort both ends (default; a TCP peer gets a reset) or close them. */
  readonly failure?: "abort" | "close" | undefined;
  /** Progress notices. */
  readonly events?: SpliceEvents | undefined;
}

/**
 * How a splice went.
 * @example `if (r.status === "failed") throw r.error;`
 */
export interface SpliceResult {
  /** Bytes copied from the first end to the second (→). */
  readonly forward: number;
  /** Bytes copied from the second end to the first (←). */
  readonly backward: number;
  /** "closed", "idle timeout", "interrupted" or "failed". */
  readonly status: "closed" | "idle timeout" | "interrupted" | "failed";
  /** The first error, when status is "failed". */
  readonly error?: unknown;
  /** When status is "failed" because of a call: the end whose call failed (0: first, 1: second). */
  readonly failedSide?: 0 | 1;
}

const STOP: unique symbol = Symbol("stop");
const SILENT: unique symbol = Symbol("silent");

/**
 * Copies `a` → `b` and `b` → `a` until both directions end (or an error, a timeout or the
 * signal stops both); closes both ends before resolving. Never rejects: errors come back as
 * status "failed" with the byte counts so far, and both ends are then aborted (or closed, see
 * `failure`) — so a reset on one side is passed on as a reset (not a FIN) to a TCP peer on the
 * other.
 *
 * @example
 * ```ts
 * const r = await splice(client, server, { directions: [{ silenceMs: 500 }, { silenceMs: 500 }] });
 * ctx.info(`relay 1: ${r.forward} bytes →, ${r.backward} bytes ←, ${r.status}`);
 * ```
 */
export async function splice(a: SpliceEnd, b: SpliceEnd, opts: SpliceOptions = {}): Promise<SpliceResult> {
  const counts = [0, 0];
  let status: SpliceResult["status"] | undefined;
  let error: unknown;
  let failedSide: 0 | 1 | undefined;
  // the calls now waiting (at most one read and one write per direction): halt() answers them
  // STOP. Racing each call against one long-lived "stopped" promise instead would leave a
  // reaction on it per chunk — memory growing with the bytes moved.
  const waiting = new Set<() => void>();
  const wake = () => {
    for (const w of waiting) w();
    waiting.clear();
  };
  const halt = (why: NonNullable<typeof status>, err?: unknown, side?: 0 | 1) => {
    if (status !== undefined) return;
    status = why;
    error = err;
    failedSide = side;
    wake();
  };
  const timers: NodeJS.Timeout[] = [];

  let idle: NodeJS.Timeout | undefined;
  if (opts.idleMs !== undefined) {
    const idleError = opts.idleError;
    idle = setTimeout(() => (idleError ? halt("failed", idleError()) : halt("idle timeout")), opts.idleMs);
  }
  const touch = () => idle?.refresh();
  const onAbort = () => halt("interrupted");
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  /** `p`, or STOP when the splice stops first (p's later failure is then ignored). */
  const orStop = <T>(p: Promise<T>): Promise<T | typeof STOP> => {
    p.catch(() => {});
    if (status !== undefined) return Promise.resolve(STOP);
    return new Promise<T | typeof STOP>((resolve, reject) => {
      const stop = () => resolve(STOP);
      waiting.add(stop);
      p.then(
        (v) => {
          waiting.delete(stop);
          resolve(v);
        },
        (e: unknown) => {
          waiting.delete(stop);
          reject(e);
        },
      );
    });
  };

  const ended = [deferred(), deferred()] as const;
  const ends = [a, b] as const;

  /** The next chunk; null at EOF or once the source was silent `silenceMs` after the other direction ended. */
  async function readNext(src: SpliceEnd, dir: 0 | 1): Promise<Buffer | null | typeof SILENT | typeof STOP> {
    const ms = opts.directions?.[dir]?.silenceMs;
    if (ms === undefined) return orStop(src.read());
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const silent = ended[dir === 0 ? 1 : 0].promise.then(
      () =>
        new Promise<typeof SILENT>((resolve) => {
          if (!cancelled) timer = setTimeout(() => resolve(SILENT), ms);
        }),
    );
    try {
      return await orStop(Promise.race([src.read(), silent]));
    } finally {
      cancelled = true;
      clearTimeout(timer);
    }
  }

  async function copy(dir: 0 | 1): Promise<void> {
    const d = opts.directions?.[dir] ?? {};
    const src = ends[dir];
    const dstSide = dir === 0 ? 1 : 0;
    const dst = ends[dstSide];
    let side: 0 | 1 = dir; // whose call is running (a failure is that side's)
    try {
      for (;;) {
        if (dst.ready !== undefined) {
          side = dstSide;
          if ((await orStop(dst.ready())) === STOP) return;
        }
        side = dir;
        const got = await readNext(src, dir);
        if (got === STOP) return;
        if (got === null || got === SILENT) {
          let fin: boolean | undefined;
          if (d.halfClose ?? true) {
            side = dstSide;
            const r = await orStop(closeWriteIfConnected(dst));
            if (r === STOP) return;
            fin = r;
          }
          if (got === SILENT) opts.events?.silence?.(dir);
          else opts.events?.eof?.(dir, fin);
          break;
        }
        touch();
        const chunk = d.transform ? d.transform(got) : got;
        side = dstSide;
        if (dir === 0) opts.dump?.sent(chunk);
        else opts.dump?.received(chunk);
        for (const piece of chunks(chunk, dst.maxWrite)) {
          try {
            if ((await orStop(dst.write(piece))) === STOP) return;
          } catch (err) {
            if (!dst.quietWriteFailure) throw err;
            opts.events?.outputGone?.(dir);
            halt("closed");
            return;
          }
          counts[dir]! += piece.length;
          opts.events?.moved?.(dir, piece.length);
        }
      }
      if (d.endsAll) halt("closed");
      else if (d.endAfterMs !== undefined) {
        timers.push(
          setTimeout(() => {
            if (status !== undefined) return;
            opts.events?.endAfter?.(dir);
            halt("closed");
          }, d.endAfterMs),
        );
      }
    } catch (err) {
      halt("failed", err, side);
    } finally {
      ended[dir].resolve();
    }
  }

  // a direction that ends early leaves the other running: the splice ends when both are done,
  // or when halt() stops both
  await Promise.all([copy(0), copy(1)]);
  clearTimeout(idle);
  for (const t of timers) clearTimeout(t);
  opts.signal?.removeEventListener("abort", onAbort);
  const final = status ?? "closed";
  if (final === "failed" && (opts.failure ?? "abort") === "abort") {
    a.abort();
    b.abort();
  } else {
    const graceful = final === "closed" && opts.signal?.aborted !== true;
    await Promise.allSettled([a.close(graceful), b.close(graceful)]);
  }
  const [forward, backward] = counts as [number, number];
  if (final !== "failed") return { forward, backward, status: final };
  return failedSide === undefined
    ? { forward, backward, status: final, error }
    : { forward, backward, status: final, error, failedSide };
}

/**
 * Splits `b` into pieces of at most `max` bytes (a chunk larger than one datagram).
 * @example `chunks(Buffer.alloc(70000), 65507).length // 2`
 */
export function chunks(b: Buffer, max: number): Buffer[] {
  if (b.length <= max) return [b];
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += max) out.push(b.subarray(i, i + max));
  return out;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
