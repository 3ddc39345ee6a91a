/**
 * Shared helpers for the benchmark figures: medians, interleaved runs, timing, a forked peer
 * process spoken to over IPC, and the one JSON line each figure prints.
 *
 * Method (docs/performance.md): every figure measures sockit and raw Node `net` in the same run,
 * interleaved (raw, sockit, raw, sockit…) after one unrecorded warm-up round, and reports the
 * medians and their ratio. Single runs vary ±30 % on these shared machines; only ratios of
 * medians are meaningful.
 *
 * @module
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Loopback only: every benchmark socket binds and connects here. */
export const HOST = "127.0.0.1";

/** Recorded runs per variant unless a figure says otherwise (`BENCH_RUNS` overrides). */
export const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 8) || 8);

/** Monotonic clock in milliseconds (fractional). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** The median (mean of the two middle values for an even count); NaN for an empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN; // a variant left out with BENCH_VARIANTS
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Rounds to `digits` significant digits (keeps the JSON readable). */
export function round(x: number, digits = 4): number {
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(digits));
}

/**
 * A variant against `raw` from the same run: median over median, to 3 digits (NaN when either
 * was left out with BENCH_VARIANTS).
 * @example `ratioToRaw(samples, "sockitRecv") // 0.93`
 */
export function ratioToRaw(samples: Readonly<Record<string, readonly number[]>>, key: string): number {
  return round(median(samples[key] ?? []) / median(samples.raw ?? []), 3);
}

/**
 * The per-round ratios of a variant against `raw` (round i of one against round i of the other),
 * their median, and a 95 % interval of that median (a percentile bootstrap, 2 000 resamplings
 * with a fixed seed, so the same samples always give the same interval): how far the figure can
 * be trusted on this machine, where one process runs ±10–20 % from the next.
 * @example `pairedToRaw(samples, "sockit") // { median: 0.97, low: 0.955, high: 0.988 }`
 */
export function pairedToRaw(
  samples: Readonly<Record<string, readonly number[]>>,
  key: string,
): { median: number; low: number; high: number } {
  const raw = samples.raw ?? [];
  const pairs = (samples[key] ?? []).flatMap((x, i) => (raw[i] === undefined ? [] : [x / raw[i]]));
  if (pairs.length === 0) return { median: Number.NaN, low: Number.NaN, high: Number.NaN };
  let seed = 0x2545f491;
  const next = (): number => {
    // xorshift32: a fixed, portable sequence
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const medians: number[] = [];
  for (let b = 0; b < 2000; b++)
    medians.push(median(pairs.map(() => pairs[Math.floor(next() * pairs.length)]!)));
  medians.sort((a, b) => a - b);
  return {
    median: round(median(pairs), 3),
    low: round(medians[Math.floor(0.025 * medians.length)]!, 3),
    high: round(medians[Math.ceil(0.975 * medians.length) - 1]!, 3),
  };
}

/** One measured variant: resolves one sample (in the figure's unit). */
export type Variant = () => Promise<number>;

/**
 * Runs the variants interleaved, `runs` times each, after one unrecorded warm-up round; resolves
 * the samples of each variant. The order is given in even rounds and reversed in odd ones (ABC,
 * CBA, ABC, …), so that no variant always runs right after another one's after-effects (a
 * viewer still working, a pause, a collection) or always first when the machine has been idle.
 * `BENCH_VARIANTS=sockit` (a comma list) runs only those variants, for profiling one side (the
 * others come back empty).
 *
 * @example
 * ```ts
 * const s = await interleave({ raw: runRaw, sockit: runSockit }, 8);
 * median(s.raw!);
 * ```
 */
export async function interleave<K extends string>(
  variants: Readonly<Record<K, Variant>>,
  runs = RUNS,
  warmup = 1,
): Promise<Record<K, number[]>> {
  const only = process.env.BENCH_VARIANTS?.split(",").filter((v) => v !== "");
  const all = Object.keys(variants) as K[];
  const names = all.filter((k) => !only || only.includes(k));
  const out = Object.fromEntries(all.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < warmup + runs; i++) {
    for (const k of i % 2 === 0 ? names : [...names].reverse()) {
      const v = await variants[k]();
      if (i >= warmup) out[k].push(v);
    }
  }
  return out;
}

/** What every figure prints (one JSON line on stdout). */
export interface FigureResult {
  readonly figure: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  readonly target: number;
  readonly samples: Readonly<Record<string, readonly number[]>>;
  /** Anything else worth recording (mode, sizes, extra ratios). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/**
 * Prints the figure's JSON line: medians of `samples.sockit` and `samples.raw`, their ratio
 * sockit/raw, whether the target is met (ratio ≥ target when higher is better, ≤ otherwise), the
 * median of the per-round ratios (`pairedRatio`, a cross-check less sensitive to load drifting
 * during the run) with its 95 % interval (`pairedRatio95`, {@link pairedToRaw}), and the
 * samples themselves so a reader can judge the spread.
 */
export function emit(r: FigureResult): void {
  const sockit = median(r.samples.sockit ?? []);
  const raw = median(r.samples.raw ?? []);
  const ratio = sockit / raw;
  const met = r.higherIsBetter ? ratio >= r.target : ratio <= r.target;
  // the same rounds paired: robust to load that drifts over the run (others share the machine)
  const paired = pairedToRaw(r.samples, "sockit");
  const line = {
    figure: r.figure,
    unit: r.unit,
    sockit: round(sockit),
    raw: round(raw),
    ratio: round(ratio, 3),
    runs: (r.samples.sockit ?? []).length,
    target: r.target,
    targetIs: r.higherIsBetter ? "ratio >= target" : "ratio <= target",
    met,
    pairedRatio: paired.median,
    pairedRatio95: [paired.low, paired.high],
    ...r.extra,
    samples: Object.fromEntries(Object.entries(r.samples).map(([k, v]) => [k, v.map((x) => round(x))])),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const tempDirs = new Set<string>();

/**
 * A fresh temp directory for a figure's files, removed when the figure's process exits however
 * it ends (finished, failed, over its time bound, or stopped by SIGTERM/SIGINT from the runner):
 * a 1 GiB test file must not stay behind in /tmp.
 *
 * @example `const dir = tempDir("sockit-bench-transfer-");`
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** True when this process leads its own process group (the runner starts figures that way). */
function leadsGroup(): boolean {
  try {
    process.kill(-process.pid, 0);
    return true;
  } catch {
    return false;
  }
}

let exiting = false;

/**
 * Ends the figure now: its children in its process group get SIGTERM (servers and pipelines it
 * started must not outlive it), its temp dirs are removed (the 'exit' handler), then it exits.
 */
function endFigure(code: number): never {
  if (!exiting && leadsGroup()) {
    exiting = true;
    process.on("SIGTERM", () => {}); // the group signal reaches this process too
    try {
      process.kill(-process.pid, "SIGTERM");
    } catch {
      // the group is gone already
    }
  }
  process.exit(code);
}

process.on("exit", () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Bounds a figure's wall time: after `ms` it prints an error line for the figure and exits 2
 * (its children stopped, its temp dirs removed). The timer is unref'd, so it never keeps a
 * finished figure alive. SIGTERM and SIGINT end the figure the same way.
 */
export function watchdog(figure: string, ms = 58_000): void {
  const t = setTimeout(() => {
    process.stdout.write(`${JSON.stringify({ figure, error: `did not finish within ${ms} ms` })}\n`);
    endFigure(2);
  }, ms);
  t.unref();
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.once(sig, () => {
      if (exiting) return;
      process.stdout.write(`${JSON.stringify({ figure, error: `stopped by ${sig}` })}\n`);
      endFigure(sig === "SIGTERM" ? 143 : 130);
    });
  }
}

/**
 * Runs a figure's main, printing an error line (and exiting 1) if it throws; `ms` bounds its
 * wall time ({@link watchdog}).
 */
export function main(figure: string, body: () => Promise<void>, ms?: number): void {
  watchdog(figure, ms);
  body().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stdout.write(`${JSON.stringify({ figure, error: String((err as Error)?.stack ?? err) })}\n`);
      endFigure(1);
    },
  );
}

/** Rejects after `ms` with a message naming `what` (bounds every wait on a peer). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A message sent to or from a peer process. */
export type Msg = Record<string, unknown> & { readonly id?: number };

/**
 * A forked helper process (a script in build/bench) spoken to by request/reply over IPC: each
 * request carries an id and the peer answers with the same id.
 *
 * @example
 * ```ts
 * const peer = Peer.start("peer.js");
 * const reply = await peer.request({ cmd: "echo-server", mode: "raw" });
 * peer.stop();
 * ```
 */
export class Peer {
  readonly child: ChildProcess;
  #next = 1;
  #pending = new Map<number, { resolve: (m: Msg) => void; reject: (e: Error) => void }>();

  private constructor(child: ChildProcess) {
    this.child = child;
    child.on("message", (m: Msg) => {
      const p = m.id === undefined ? undefined : this.#pending.get(m.id);
      if (!p || m.id === undefined) return;
      this.#pending.delete(m.id);
      if (typeof m.error === "string") p.reject(new Error(`peer: ${m.error}`));
      else p.resolve(m);
    });
    child.on("exit", (code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`peer exited (${code})`));
      this.#pending.clear();
    });
  }

  /**
   * Forks `script` (a file next to this one in build/bench) with this process's node flags (so
   * `node --cpu-prof` profiles the peers too) plus `execArgv`.
   */
  static start(script: string, args: readonly string[] = [], execArgv: readonly string[] = []): Peer {
    const path = fileURLToPath(new URL(script, import.meta.url));
    return new Peer(
      fork(path, [...args], {
        execArgv: [...process.execArgv, ...execArgv],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      }),
    );
  }

  /** Sends a request and resolves the peer's reply (bounded by `ms`). */
  request(msg: Msg, ms = 30_000): Promise<Msg> {
    const id = this.#next++;
    const p = new Promise<Msg>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.child.send({ ...msg, id });
    return withTimeout(p, ms, `peer request ${String(msg.cmd)}`);
  }

  /**
   * Ends the peer: closing the IPC channel makes it exit normally (so a `--cpu-prof` profile is
   * written); it is killed if it has not gone within 2 s.
   */
  stop(): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.disconnect();
    setTimeout(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    }, 2000).unref();
  }
}

/**
 * The peer side of {@link Peer}: calls `handle` for each request and sends its result back with
 * the request's id (or `{ error }`).
 */
export function serve(handle: (m: Msg) => Promise<Record<string, unknown>>): void {
  process.on("message", (m: Msg) => {
    handle(m).then(
      (r) => process.send?.({ ...r, id: m.id }),
      (err: unknown) => process.send?.({ id: m.id, error: String((err as Error)?.stack ?? err) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
}
