/**
 * The trace exporter: streams this process's socket calls ({@link TRACE_CHANNEL}) to a
 * `sockit trace-view` collector. sockit installs it by itself when the environment holds
 * `SOCKIT_TRACE=http://HOST:PORT` (the viewer's address); otherwise this module is never loaded.
 *
 * Each call becomes its JSON record once, as it happens, on the program's thread; batches (every
 * 50 ms or 256 events) go to a worker thread that POSTs them to `/events` (merging what waits, up
 * to 1024 events a POST), so the HTTP work is off the program's thread. The queue is bounded:
 * when it is full, or the viewer is gone or stalls, events are dropped and counted
 * ({@link exporterStats}); after a failed POST nothing is serialized until an empty probe batch
 * gets through (after 250 ms, doubling up to 5 s). The traced program is never blocked (but at
 * its end, below), never sees an exception from here, and is never kept alive by the exporter
 * (its timer and worker are unref'd). When the program ends — by itself or by `process.exit()` —
 * what is left is handed to the worker and the program waits at most {@link FINAL_FLUSH_MS} for
 * it to be delivered. The exporter talks through `node:http`, not through sockit, so its own
 * requests are not traced, and only to the address named in `SOCKIT_TRACE`. Of the bytes a call
 * moved only the count and the first 64 go out.
 *
 * @example
 * ```sh
 * sockit trace-view --port 7080 &
 * SOCKIT_TRACE=http://127.0.0.1:7080 node build/examples/02-client-server/daytime-client.js
 * ```
 * @module
 */
import diagnostics_channel from "node:diagnostics_channel";
import { basename, dirname } from "node:path";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { type CallEvent, renderValue, TRACE_CHANNEL, type TraceValue } from "./trace.js";

/**
 * One call as the exporter sends it and the viewer draws it (the JSON export of the viewer is an
 * array of these).
 *
 * @example
 * ```ts
 * const r: TraceRecord = { pid: 42, proc: "daytime-client.js", sock: 1, fd: 3, call: "connect",
 *   args: ["('127.0.0.1', 7013)"], addr: ["127.0.0.1", 7013], result: "0", t: 1.7e12, dur: 0.4 };
 * ```
 */
export interface TraceRecord {
  /** The process id. */
  readonly pid: number;
  /** The process's name: its script's base name (argv[1]), else its title. */
  readonly proc: string;
  /** The socket's id within the process (a descriptor reused after close gets a new id). */
  readonly sock: number;
  /** The descriptor number (-1: not on a socket). */
  readonly fd: number;
  /** The call: `socket`, `bind`, `connect`, `accept`, `send`, `recv`, `close`… */
  readonly call: string;
  /** The arguments after the descriptor, each rendered as Python prints it. */
  readonly args: readonly string[];
  /** The address argument of bind/connect/sendto, or the peer of accept/recvfrom: [host, port]. */
  readonly addr?: readonly [string, number];
  /** The result rendered (absent when the call failed). */
  readonly result?: string;
  /** The socket accept made, within this process. */
  readonly newSock?: number;
  /** The error, when the call failed: its class (`ConnectionRefusedError`), code, errno, message. */
  readonly error?: {
    readonly name: string;
    readonly code: string;
    readonly errno: number;
    readonly message: string;
  };
  /** Bytes the call moved, all of them (send/recv family). */
  readonly len?: number;
  /** The first ≤ 64 of those bytes, hex. */
  readonly hex?: string;
  /** When the call started: ms since the epoch (fractional). */
  readonly t: number;
  /** How long it took, ms. */
  readonly dur: number;
}

/** A batch goes out when this many events wait (or every {@link BATCH_MS}). */
export const BATCH_EVENTS = 256;
/** Events in one POST when the queue is backed up, at most. */
export const POST_EVENTS_MAX = 1024;
/** How often a batch goes out, ms. */
export const BATCH_MS = 50;
/** Events waiting or on their way to the viewer, at most; more are dropped and counted. */
export const QUEUE_MAX = 16384;
/** Bytes of data kept per event. */
export const PREVIEW_BYTES = 64;
/** A request the viewer does not answer within this is abandoned (its events counted dropped). */
export const REQUEST_TIMEOUT_MS = 2000;
/** When the program ends, it waits at most this long for the last events to be delivered. */
export const FINAL_FLUSH_MS = 500;

/**
 * What the exporter did so far.
 * @example `exporterStats().dropped`
 */
export interface ExporterStats {
  sent: number;
  dropped: number;
  queued: number;
}

/**
 * A call held before the exporter loaded: the event, a copy of its first bytes and (when its
 * buffer is not kept) how many bytes it moved.
 * @example `const r: Raw = { ev, head: Buffer.from(data.subarray(0, 64)), len: data.length };`
 */
export interface Raw {
  readonly ev: CallEvent;
  readonly head: Buffer | undefined;
  readonly len?: number;
}

/** Strings longer than this are cut (the collector keeps no more). */
const FIELD_CHARS = 512;
/** Bytes in one POST, at most (the collector takes up to 1 MiB). */
const POST_BYTES_MAX = 1_000_000;
const ENCODER = new TextEncoder();
/** Arguments per event, at most (the collector refuses more). */
const ARGS_MAX = 16;
/**
 * A batch's JSON, at most this many UTF-16 units (≤ 3 bytes each in UTF-8: under the collector's
 * 1 MiB).
 */
const BATCH_CHARS = 256 * 1024;
/**
 * The first retry after the viewer failed, ms; doubled after each failed retry.
 * @example `setTimeout(probe, RETRY_MIN_MS)`
 */
export const RETRY_MIN_MS = 250;
/**
 * The longest pause between retries while the viewer is gone, ms.
 * @example `retryMs = Math.min(retryMs * 2, RETRY_MAX_MS)`
 */
export const RETRY_MAX_MS = 5000;

function addrOf(v: TraceValue | undefined): [string, number] | undefined {
  if (Array.isArray(v) && v.length >= 2 && typeof v[0] === "string" && typeof v[1] === "number")
    return [v[0], v[1]];
  return undefined;
}

/**
 * The bytes a call moved: its `data`, else (send family) the buffer among its arguments.
 * @example `dataOf({ fd: 3, call: "sendall", args: [Buffer.from("hi")], result: 2, start: 0, duration: 0 })`
 */
export function dataOf(ev: CallEvent): Buffer | undefined {
  if (ev.data !== undefined) return ev.data;
  if (ev.error !== undefined || !ev.call.startsWith("send")) return undefined;
  for (const a of ev.args) if (Buffer.isBuffer(a)) return a;
  return undefined;
}

/** Commands of the `sockit` CLI whose next word names a subcommand (`serve http`, `game join`). */
const WITH_SUBCOMMANDS = new Set(["serve", "game", "ftp", "mail", "rpc"]);

/**
 * The process's name for the viewer's lanes: the script's file name, or for the `sockit` CLI
 * the command it runs (`sockit serve http`, `sockit get`), which says more than `main.js`.
 * @example `processName(["node", "/x/dist/cli/main.js", "-v", "serve", "ftp", "."]) // "sockit serve ftp"`
 */
export function processName(argv: readonly string[] = process.argv): string {
  const script = argv[1];
  if (!script) return process.title;
  const name = basename(script);
  const cli = name === "sockit" || (name === "main.js" && basename(dirname(script)) === "cli");
  if (!cli) return name;
  const words: string[] = [];
  for (let i = 2; i < argv.length && words.length < 2; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (a.startsWith("-")) {
      if (a === "--color" && words.length === 0) i++; // the one global option with a value
      continue;
    }
    if (words.length === 1 && !WITH_SUBCOMMANDS.has(words[0]!)) break;
    words.push(a);
  }
  return ["sockit", ...words].join(" ");
}

/** A string as JSON, cut to {@link FIELD_CHARS}. */
function jstr(v: string): string {
  return JSON.stringify(v.length > FIELD_CHARS ? v.slice(0, FIELD_CHARS) : v);
}

/** A value rendered as Python prints it, as a JSON string (numbers without the general path). */
function jval(v: TraceValue | undefined): string {
  return typeof v === "number" ? `"${v}"` : jstr(renderValue(v));
}

/** A number as JSON (a non-finite one, which JSON cannot carry, as 0). */
function jnum(v: number): string {
  return Number.isFinite(v) ? String(v) : "0";
}

/**
 * A time in ms as JSON with µs precision: integers print much faster than the shortest form of
 * a fraction such as 1765072039123.4567.
 */
function jms(v: number): string {
  if (!Number.isFinite(v) || v < 0) return "0";
  const us = Math.round(v * 1000);
  const ms = Math.floor(us / 1000);
  const frac = us - ms * 1000;
  return frac === 0 ? String(ms) : `${ms}.${frac < 10 ? "00" : frac < 100 ? "0" : ""}${frac}`;
}

/** `,"addr":["host",port]` for an address value, else "". */
function jaddr(v: TraceValue | undefined): string {
  const a = addrOf(v);
  return a ? `,"addr":[${jstr(a[0])},${jnum(a[1])}]` : "";
}

/* The state shared with the worker: BigInt64 counters, then Int32 flags. */
const SENT = 0; // events delivered
const W_DROPPED = 1; // events the worker dropped (POST failed, viewer down)
const M_DROPPED = 2; // events the program's thread dropped (published every tick)
const PENDING = 0; // events handed to the worker, not yet delivered or dropped
const DOWN = 1; // 1: the viewer failed; events are only counted until a probe gets through

/** What the worker is given. */
interface WorkerData {
  readonly url: string;
  readonly sab: SharedArrayBuffer;
  readonly timeoutMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  readonly maxEvents: number;
  readonly maxBytes: number;
}

/**
 * One POST of a batch to the collector's `/events`; `done(ok)` with whether it took it (200/204).
 * Self-contained (the exporter's worker is built from its source text and this one's), so it
 * is handed `http` rather than importing it.
 */
function postEvents(
  http: typeof import("node:http"),
  url: string | URL,
  body: string | Buffer,
  timeoutMs: number,
  agent: import("node:http").Agent | undefined,
  done: (ok: boolean) => void,
): void {
  try {
    const req = http.request(
      url,
      {
        method: "POST",
        path: "/events",
        ...(agent === undefined ? {} : { agent }),
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on("end", () => done(res.statusCode === 204 || res.statusCode === 200));
        res.on("error", () => done(false));
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => done(false));
    req.end(body);
  } catch {
    done(false);
  }
}

/**
 * The worker thread's code (run from its source text, so it needs no file of its own): takes
 * batches `{n, bytes}` (`bytes`: the records' JSON joined by commas, UTF-8), merges what waits
 * into one POST, one POST at a time, and keeps the shared counters.
 */
function exporterWorker(require: NodeJS.Require): void {
  const { parentPort, workerData } = require("node:worker_threads") as typeof import("node:worker_threads");
  const http = require("node:http") as typeof import("node:http");
  const d = workerData as WorkerData;
  const big = new BigInt64Array(d.sab, 0, 3);
  const flags = new Int32Array(d.sab, 24, 2);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const queue: { n: number; bytes: Uint8Array }[] = [];
  const open = Buffer.from('{"events":[');
  const comma = Buffer.from(",");
  let busy = false;
  let retryMs = d.retryMinMs;
  let retry: NodeJS.Timeout | undefined;
  const dropped = (): string => String(Atomics.load(big, 1) + Atomics.load(big, 2));
  const settle = (n: number, ok: boolean): void => {
    if (n === 0) return;
    Atomics.add(big, ok ? 0 : 1, BigInt(n));
    Atomics.sub(flags, 0, n);
    Atomics.notify(flags, 0);
  };
  const post = (body: string | Buffer, done: (ok: boolean) => void): void => {
    busy = true;
    let over = false;
    const finish = (ok: boolean): void => {
      if (over) return;
      over = true;
      busy = false;
      done(ok);
    };
    postEvents(http, d.url, body, d.timeoutMs, agent, finish);
  };
  /** An empty batch (it carries the drop count): is the viewer there? */
  const probe = (): void => {
    post(`{"events":[],"dropped":${dropped()}}`, (ok) => {
      if (!ok) return down();
      retryMs = d.retryMinMs;
      Atomics.store(flags, 1, 0);
      next();
    });
  };
  const down = (): void => {
    Atomics.store(flags, 1, 1);
    for (const b of queue.splice(0)) settle(b.n, false);
    if (retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      probe();
    }, retryMs);
    retryMs = Math.min(retryMs * 2, d.retryMaxMs);
  };
  const next = (): void => {
    if (busy || queue.length === 0) return;
    if (Atomics.load(flags, 1) !== 0) {
      for (const b of queue.splice(0)) settle(b.n, false);
      return;
    }
    // what waits goes out together: bigger batches when the program outpaces the viewer
    let n = queue[0]!.n;
    let size = queue[0]!.bytes.length;
    let k = 1;
    while (
      k < queue.length &&
      n + queue[k]!.n <= d.maxEvents &&
      size + queue[k]!.bytes.length <= d.maxBytes
    ) {
      n += queue[k]!.n;
      size += queue[k]!.bytes.length;
      k++;
    }
    const parts: Uint8Array[] = [open];
    for (const b of queue.splice(0, k)) {
      if (parts.length > 1) parts.push(comma);
      parts.push(b.bytes);
    }
    parts.push(Buffer.from(`],"dropped":${dropped()}}`));
    post(Buffer.concat(parts), (ok) => {
      settle(n, ok);
      if (!ok) down();
      else retryMs = d.retryMinMs;
      next();
    });
  };
  parentPort!.on("message", (b: { n: number; bytes: Uint8Array }) => {
    queue.push(b);
    next();
  });
  // connect at once: the first batch finds the connection open, a viewer that is not there is
  // known before the program has made many calls
  probe();
}

class Exporter {
  readonly #url: URL;
  /** The events waiting, each already JSON. */
  #chunks: string[] = [];
  #chars = 0;
  /** Events dropped on this thread (queue full, viewer down). */
  #dropped = 0;
  readonly #socks = new Map<number, number>();
  /** `{"pid":N,"proc":"name","sock":` — the same for every event. */
  readonly #head = `{"pid":${process.pid},"proc":${jstr(processName())},"sock":`;
  readonly #origin = performance.timeOrigin;
  readonly #sab = new SharedArrayBuffer(32);
  readonly #big = new BigInt64Array(this.#sab, 0, 3);
  readonly #flags = new Int32Array(this.#sab, 24, 2);
  #worker: Worker | undefined;
  #nextSock = 1;
  #timer: NodeJS.Timeout | undefined;
  /** A wait at the end ran out. */
  #gaveUp = false;
  readonly #listener = (m: unknown): void => {
    if (
      Atomics.load(this.#flags, DOWN) !== 0 ||
      this.#chunks.length + Atomics.load(this.#flags, PENDING) >= QUEUE_MAX
    ) {
      this.#dropped++;
      return;
    }
    try {
      this.push(m as CallEvent, undefined);
    } catch {
      this.#dropped++;
    }
  };
  /** The program ends (by itself, or by process.exit()): hand over the rest, wait (bounded). */
  readonly #atEnd = (): void => {
    this.#drain(FINAL_FLUSH_MS);
  };

  constructor(url: URL) {
    this.#url = url;
  }

  start(early: readonly Raw[]): void {
    const data: WorkerData = {
      url: this.#url.href,
      sab: this.#sab,
      timeoutMs: REQUEST_TIMEOUT_MS,
      retryMinMs: RETRY_MIN_MS,
      retryMaxMs: RETRY_MAX_MS,
      maxEvents: POST_EVENTS_MAX,
      maxBytes: POST_BYTES_MAX,
    };
    const w = new Worker(`${postEvents.toString()}\n(${exporterWorker.toString()})(require)`, {
      eval: true,
      workerData: data,
      // the program's preloads and flags are not the worker's business
      execArgv: [],
      env: {},
      stdout: true,
      stderr: true,
      name: "sockit trace exporter",
    });
    // a worker that fails is a viewer gone for good: events are counted, never sent
    const dead = (): void => {
      Atomics.store(this.#flags, DOWN, 1);
      Atomics.store(this.#flags, PENDING, 0);
    };
    w.on("error", dead);
    w.on("exit", dead);
    w.unref();
    this.#worker = w;
    for (const r of early) this.push(r.ev, r.head, r.len);
    diagnostics_channel.subscribe(TRACE_CHANNEL, this.#listener);
    this.#timer = setInterval(() => this.#tick(), BATCH_MS);
    this.#timer.unref();
    process.on("beforeExit", this.#atEnd);
    process.on("exit", this.#atEnd);
  }

  stop(): void {
    diagnostics_channel.unsubscribe(TRACE_CHANNEL, this.#listener);
    if (this.#timer) clearInterval(this.#timer);
    process.off("beforeExit", this.#atEnd);
    process.off("exit", this.#atEnd);
    this.#dropped += this.#chunks.length;
    this.#chunks = [];
    this.#chars = 0;
    const w = this.#worker;
    this.#worker = undefined;
    w?.removeAllListeners("exit");
    void w?.terminate().catch(() => {});
  }

  stats(): ExporterStats {
    return {
      sent: Number(Atomics.load(this.#big, SENT)),
      dropped: this.#dropped + Number(Atomics.load(this.#big, W_DROPPED)),
      queued: this.#chunks.length + Atomics.load(this.#flags, PENDING),
    };
  }

  #sockOf(fd: number, fresh: boolean): number {
    if (fd < 0) return 0;
    let id = this.#socks.get(fd);
    if (id === undefined || fresh) {
      id = this.#nextSock++;
      this.#socks.set(fd, id);
    }
    return id;
  }

  /**
   * Queues one event as its JSON record (built once, here; nothing of the event is kept). `head`:
   * a copy of its first bytes, for an event whose buffer may since have been reused.
   */
  push(ev: CallEvent, head: Buffer | undefined, len?: number): void {
    let fd = ev.fd;
    const call = ev.call;
    const fresh = call === "socket";
    if (fresh && typeof ev.result === "number") fd = ev.result;
    const sock = this.#sockOf(fd, fresh);
    let j = `${this.#head}${sock},"fd":${jnum(fd)},"call":${jstr(call)},"args":[`;
    const args = ev.args;
    const n = args.length < ARGS_MAX ? args.length : ARGS_MAX;
    for (let i = 0; i < n; i++) j += i === 0 ? jval(args[i]) : `,${jval(args[i])}`;
    j += "]";
    let addr = jaddr(args[0]);
    if (ev.error) {
      const e = ev.error;
      j += `,"error":{"name":${jstr(e.name)},"code":${jstr(e.code)},"errno":${jnum(e.errno)},"message":${jstr(e.message)}}`;
    } else {
      const r = ev.result;
      j += `,"result":${jval(r)}`;
      // accept(): (newfd, address); recvfrom(): (bytes, address)
      if (Array.isArray(r) && r.length === 2 && typeof r[0] === "number") {
        const peer = jaddr(r[1] as TraceValue);
        if (peer) addr = peer;
        if (call === "accept") j += `,"newSock":${this.#sockOf(r[0], true)}`;
      }
    }
    j += addr;
    const data = len !== undefined && head !== undefined ? head : dataOf(ev);
    if (data !== undefined) {
      // the count and the first bytes only: hex straight from the caller's buffer, no copy
      j += `,"len":${len ?? data.length},"hex":"${(head ?? data).toString("hex", 0, PREVIEW_BYTES)}"`;
    }
    j += `,"t":${jms(this.#origin + ev.start)},"dur":${jms(ev.duration)}}`;
    if (call === "close") this.#socks.delete(fd);
    this.#chunks.push(j);
    this.#chars += j.length;
    if (this.#chunks.length >= BATCH_EVENTS || this.#chars >= BATCH_CHARS) this.#flush();
  }

  /** The waiting records as POST bodies (for {@link postEarly}: no worker, no counters). */
  bodies(): string[] {
    const out: string[] = [];
    const all = this.#chunks;
    this.#chunks = [];
    this.#chars = 0;
    for (let i = 0; i < all.length; i += POST_EVENTS_MAX)
      out.push(`{"events":[${all.slice(i, i + POST_EVENTS_MAX).join(",")}],"dropped":0}`);
    return out;
  }

  #tick(): void {
    this.#flush();
    Atomics.store(this.#big, M_DROPPED, BigInt(this.#dropped));
  }

  /** Hands what waits to the worker, in batches of at most POST_EVENTS_MAX events and BATCH_CHARS. */
  #flush(): void {
    const w = this.#worker;
    if (w === undefined || this.#chunks.length === 0) return;
    const all = this.#chunks;
    this.#chunks = [];
    this.#chars = 0;
    if (Atomics.load(this.#flags, DOWN) !== 0) {
      this.#dropped += all.length;
      return;
    }
    let i = 0;
    while (i < all.length) {
      let n = 0;
      let chars = 0;
      while (
        i + n < all.length &&
        n < POST_EVENTS_MAX &&
        (n === 0 || chars + all[i + n]!.length <= BATCH_CHARS)
      )
        chars += all[i + n++]!.length;
      const events = n === all.length ? all.join(",") : all.slice(i, i + n).join(",");
      // UTF-8 in a buffer of its own, handed over without a copy; the worker POSTs it as it is
      const bytes = ENCODER.encode(events);
      Atomics.add(this.#flags, PENDING, n);
      try {
        w.postMessage({ n, bytes }, [bytes.buffer]);
      } catch {
        Atomics.sub(this.#flags, PENDING, n);
        this.#dropped += n;
      }
      i += n;
    }
  }

  /**
   * Hands over everything and waits, at most `ms`, until the worker has delivered it (or given
   * up on it). Synchronous: it runs in 'exit' handlers. Once a wait ran out (a viewer that does
   * not answer), later ones (beforeExit, then exit) do not wait again.
   */
  #drain(ms: number): void {
    this.#tick();
    if (this.#gaveUp) return;
    const end = performance.now() + ms;
    for (;;) {
      const pending = Atomics.load(this.#flags, PENDING);
      if (pending <= 0) return;
      const left = end - performance.now();
      if (left <= 0) {
        this.#gaveUp = true;
        return;
      }
      Atomics.wait(this.#flags, PENDING, pending, left);
    }
  }
}

/** A buffer that came through a worker's structured clone (a Uint8Array) as a Buffer again. */
function revive<T>(v: T): T | Buffer {
  return v instanceof Uint8Array && !Buffer.isBuffer(v)
    ? Buffer.from(v.buffer, v.byteOffset, v.byteLength)
    : v;
}

/**
 * Delivers the calls a program made before the exporter had loaded, when the program ends first
 * (`process.exit()` before the module's import completed): run in a worker thread that sockit
 * starts from its 'exit' handler, which waits on `sab` (set to 1 here when done) for at most
 * {@link FINAL_FLUSH_MS}.
 *
 * @example `await postEarly({ target: "http://127.0.0.1:7080", sab, early })`
 */
export async function postEarly(d: {
  readonly target: string;
  readonly sab: SharedArrayBuffer;
  readonly early: readonly Raw[];
}): Promise<void> {
  const flag = new Int32Array(d.sab);
  try {
    const url = new URL(d.target);
    if (url.protocol !== "http:") return;
    const ex = new Exporter(url);
    for (const r of d.early) {
      const head = revive(r.head);
      ex.push({ ...r.ev, args: r.ev.args.map((a) => revive(a)) }, head, r.len);
    }
    const http = await import("node:http");
    for (const body of ex.bodies()) {
      const ok = await new Promise<boolean>((resolve) =>
        postEvents(http, url, body, FINAL_FLUSH_MS, undefined, resolve),
      );
      if (!ok) return;
    }
  } catch {
    // tracing never breaks the program
  } finally {
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  }
}

let current: Exporter | undefined;

/**
 * Starts exporting to `target` (an `http://HOST:PORT` URL); `early` are the events that came
 * before this module loaded (with their first bytes copied). Returns false, doing nothing, when
 * `target` is not an http: URL. sockit calls this itself when `SOCKIT_TRACE` is set.
 *
 * @example `installExporter("http://127.0.0.1:7080")`
 */
export function installExporter(target: string, early: readonly Raw[] = []): boolean {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return false;
  }
  if (url.protocol !== "http:") return false;
  current?.stop();
  current = new Exporter(url);
  current.start(early);
  return true;
}

/**
 * Stops the exporter (pending events are dropped); `sockit trace-view` calls this so that it does
 * not trace itself.
 * @example `stopExporter()`
 */
export function stopExporter(): void {
  current?.stop();
  current = undefined;
}

/**
 * The exporter's counters (zeros when none runs): events sent, dropped, waiting.
 * @example `const { sent, dropped } = exporterStats();`
 */
export function exporterStats(): ExporterStats {
  return current ? current.stats() : { sent: 0, dropped: 0, queued: 0 };
}
