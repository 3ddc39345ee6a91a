/**
 * What a stdio session moved: the `-v` summary line (`1073741824 bytes sent, 0 received in
 * 5.61 s (191 MB/s)`, as ncat prints one) and the `--progress` bar on stderr (cli-progress):
 * bytes, rate, and — when stdin is a regular file, so its size is known — percentage and ETA.
 *
 * The bar is on by default when stderr is a terminal, and appears only once the transfer has
 * lasted {@link PROGRESS_DELAY_MS} (a quick exchange never flickers one); `--no-progress` turns it
 * off, `--progress` turns it on even when stderr is not a terminal.
 *
 * @module
 */
import { fstatSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import type { SingleBar } from "cli-progress";

/** cli-progress, loaded only when a bar may be drawn (it is 20-odd modules: start-up time). */
type BarLib = typeof import("cli-progress");

/**
 * The bar appears once a session has lasted this long (ms).
 * @example `setTimeout(show, PROGRESS_DELAY_MS)`
 */
export const PROGRESS_DELAY_MS = 1000;

/**
 * Bytes in a short human form: `512 B`, `1.5 kB`, `191 MB` (SI units, as `dd` and ncat's peers).
 * @example `humanBytes(191_000_000) // "191 MB"`
 */
export function humanBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0
    ? `${n} B`
    : `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}

/**
 * The `-v` summary line of a session.
 * @example `summaryLine(1073741824, 0, 5610) // "1073741824 bytes sent, 0 received in 5.61 s (191 MB/s)"`
 */
export function summaryLine(sent: number, received: number, ms: number): string {
  const s = ms / 1000;
  const rate = s > 0 ? `${humanBytes(Math.round((sent + received) / s))}/s` : "-";
  return `${sent} bytes sent, ${received} received in ${s.toFixed(2)} s (${rate})`;
}

/**
 * The size of stdin when it is a regular file (`< file`), else undefined (a pipe, a terminal).
 * @example `stdinSize(process.stdin) // 1073741824 for "sockit connect … < 1g.bin"`
 */
export function stdinSize(stdin: Readable): number | undefined {
  const fd = (stdin as { fd?: unknown }).fd;
  if (typeof fd !== "number") return undefined;
  try {
    const st = fstatSync(fd);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether to show the bar: `--progress` (true) forces it, `--no-progress` (false) stops it,
 * undefined: only when stderr is a terminal.
 * @example `progressWanted(undefined, process.stderr) // true in a terminal`
 */
export function progressWanted(flag: boolean | undefined, stderr: Writable): boolean {
  return flag ?? (stderr as { isTTY?: boolean }).isTTY === true;
}

/**
 * Counts a session's bytes and drives the bar; {@link stop} removes the bar (and its timers).
 * @example
 * ```ts
 * const m = new Meter(process.stderr, { bar: true, total: 1e9 });
 * m.sent(65536); m.received(10); m.stop(); m.summary(); // "65536 bytes sent, 10 received in …"
 * ```
 */
export class Meter {
  #sent = 0;
  #received = 0;
  readonly #t0 = performance.now();
  readonly #stream: Writable;
  readonly #total: number | undefined;
  readonly #forced: boolean;
  readonly #incoming: boolean;
  #bar: SingleBar | undefined;
  #lib: BarLib | undefined;
  #delay: NodeJS.Timeout | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #stopped = false;

  /**
   * `bar`: show the bar (after the delay); `forced`: also when the stream is not a terminal;
   * `incoming`: the bar measures received bytes against `total` (a download), not sent ones.
   */
  constructor(
    stream: Writable,
    opts: {
      readonly bar: boolean;
      readonly total?: number | undefined;
      readonly forced?: boolean;
      readonly incoming?: boolean;
    },
  ) {
    this.#stream = stream;
    this.#total = opts.total;
    this.#forced = opts.forced === true;
    this.#incoming = opts.incoming === true;
    if (opts.bar) {
      const lib = import("cli-progress").then((m) => (this.#lib = m));
      this.#delay = setTimeout(() => void lib.then(() => this.#show()), PROGRESS_DELAY_MS);
      this.#delay.unref();
    }
  }

  /** Bytes went toward the network. */
  sent(n: number): void {
    this.#sent += n;
  }

  /** Bytes came from the network. */
  received(n: number): void {
    this.#received += n;
  }

  /** The `-v` summary line (see {@link summaryLine}). */
  summary(): string {
    return summaryLine(this.#sent, this.#received, performance.now() - this.#t0);
  }

  /** Removes the bar and stops its timers; idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#delay);
    clearInterval(this.#ticker);
    if (this.#bar !== undefined) {
      this.#update();
      this.#bar.stop();
    }
  }

  #payload() {
    const s = (performance.now() - this.#t0) / 1000;
    return {
      sentText: humanBytes(this.#sent),
      totalText: this.#total === undefined ? "" : humanBytes(this.#total),
      receivedText: humanBytes(this.#received),
      rate: `${humanBytes(Math.round(s > 0 ? (this.#sent + this.#received) / s : 0))}/s`,
    };
  }

  #update(): void {
    const done = this.#incoming ? this.#received : this.#sent;
    this.#bar?.update(Math.min(done, this.#total ?? done), this.#payload());
  }

  #show(): void {
    if (this.#stopped) return;
    const known = this.#total !== undefined;
    const format = !known
      ? "sent {sentText} | received {receivedText} | {rate}"
      : this.#incoming
        ? "received {bar} {percentage}% {receivedText}/{totalText} | {rate} | ETA {eta_formatted}"
        : "sent {bar} {percentage}% {sentText}/{totalText} | {rate} | ETA {eta_formatted} | received {receivedText}";
    const lib = this.#lib;
    if (lib === undefined) return;
    this.#bar = new lib.SingleBar(
      {
        stream: this.#stream as NodeJS.WriteStream,
        format,
        hideCursor: false,
        clearOnComplete: false,
        barsize: 24,
        fps: 5,
        noTTYOutput: this.#forced,
        notTTYSchedule: 1000,
        etaBuffer: 20,
      },
      lib.Presets.shades_classic,
    );
    const done = this.#incoming ? this.#received : this.#sent;
    this.#bar.start(known ? Math.max(this.#total!, 1) : Math.max(done, 1), 0, this.#payload());
    this.#update();
    this.#ticker = setInterval(() => this.#update(), 200);
    this.#ticker.unref();
  }
}
