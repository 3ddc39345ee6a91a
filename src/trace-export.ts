/**
 * The trace exporter: streams this process's socket calls (sockit's trace, `sockit:call`) to a
 * `sockit trace-view` collector. sockit installs it by itself when the environment holds
 * `SOCKIT_TRACE=http://HOST:PORT` (the viewer's address); otherwise this module is never loaded.
 *
 * On the program's thread each call is written, as it happens, as a compact binary record into a
 * shared ring ({@link TraceRing}: a few typed-array stores and a copy of at most 64 bytes, no
 * string and no allocation per call). A worker thread copies the records out of the ring as
 * they are and POSTs them as a binary batch ({@link TRACE_BATCH_TYPE}) to `/events`: the first
 * call after a quiet spell at once (the program's thread wakes the sleeping worker), then what
 * comes every {@link BATCH_MS} while calls keep coming, or at once when 4096 records wait; up to
 * 4096 events a POST, one POST at a time. A quiet program wakes the worker every 5 s. The
 * viewer checks them as they arrive, keeps them as they came and turns them into
 * {@link TraceRecord}s ({@link recordOf}) when a page or an export asks. No JSON and no HTTP on the
 * program's thread. Calls that move bytes go out at most `SOCKIT_TRACE_RATE` a second
 * ({@link TRACE_RATE_DEFAULT}); past that they are counted per socket and go out as
 * {@link SKIPPED_CALL} records, so that the tracer's cost stays bounded however fast the program.
 * The queue is bounded: when it is full, or the viewer is gone or stalls, events are dropped and
 * counted ({@link exporterStats}); after a failed POST the worker only counts what arrives until
 * an empty probe batch gets through (after 250 ms, doubling up to 5 s). The traced program is
 * never blocked (but at its end, below), never sees an exception from here, and is never kept
 * alive by the exporter (its worker is unref'd; it has no timer on the program's thread). When the
 * program ends — by itself or by `process.exit()` — the worker is told to send what is left and
 * the program waits at most {@link FINAL_FLUSH_MS} for it to be delivered. The exporter talks
 * through `node:http`, not through sockit, so its own requests are not traced, and only to the
 * address named in `SOCKIT_TRACE`. Of the bytes a call moved only the count and the first 64 go
 * out.
 *
 * @example
 * ```sh
 * sockit trace-view --port 7080 &
 * SOCKIT_TRACE=http://127.0.0.1:7080 node build/examples/02-client-server/daytime-client.js
 * ```
 * @module
 */
import { basename, dirname } from "node:path";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import {
  type CallEvent,
  dataOf,
  renderValue,
  setTraceSink,
  type TraceSink,
  type TraceValue,
} from "./trace.js";
import {
  DONE,
  DOWN,
  FLUSH,
  IDLE,
  KICK,
  RING_CONTROL_BYTES,
  RING_FIELD_CHARS,
  RING_MIN,
  RING_PREVIEW,
  type RingRecord,
  TraceRing,
  WRITTEN,
} from "./trace-ring.js";

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
export const BATCH_EVENTS = 4096;
/** Events in one POST when the queue is backed up, at most. */
export const POST_EVENTS_MAX = 4096;
/**
 * How often a batch goes out while calls keep coming, ms (the first call after a quiet spell
 * goes at once). Each batch wakes the worker, the kernel's loopback and the viewer a few times,
 * and on a machine with few cores those wake-ups land on the program's core too: fewer, larger
 * batches cost the traced program less (docs/performance.md, "Fewer wake-ups").
 */
export const BATCH_MS = 250;
/** A sleeping worker looks at the ring this often all the same, ms (a quiet program's only wake-up). */
const IDLE_CHECK_MS = 5000;
/** Events waiting or on their way to the viewer, at most; more are dropped and counted. */
export const QUEUE_MAX = 16384;
/** Bytes of data kept per event. */
export const PREVIEW_BYTES = RING_PREVIEW;
/** A request the viewer does not answer within this is abandoned (its events counted dropped). */
export const REQUEST_TIMEOUT_MS = 2000;
/** When the program ends, it waits at most this long for the last events to be delivered. */
export const FINAL_FLUSH_MS = 500;

/**
 * Calls that moved bytes, exported per second at most unless `SOCKIT_TRACE_RATE` says otherwise
 * ({@link traceRate}). Past it, such calls are *skipped*: counted per socket, with the bytes they
 * sent and received, and each socket's count goes out as one `skipped` record (see
 * {@link SKIPPED_CALL}) before that socket's next record and when the budget has room again.
 * Every other call (socket, connect, accept, close, an end of file, an error…) always goes out.
 * The budget is what bounds the tracer's cost for a program that makes calls faster than
 * another process can usefully draw them (docs/performance.md, figure `tracing`).
 */
export const TRACE_RATE_DEFAULT = 10_000;
/**
 * The budget's burst, in seconds of its rate: up to this many calls' worth go out at once
 * after a quiet spell. Once skipping starts it goes on until half the burst has come back, so
 * what goes out are whole stretches of the conversation, not every n-th call.
 */
const BURST_SECONDS = 0.1;
/**
 * The call name of a record that stands for calls the budget skipped on one socket: its
 * arguments are the number of calls, the bytes they sent and the bytes they received; its time
 * runs from the first skipped call's start to the last one's end.
 * @example `if (e.call === SKIPPED_CALL) sent += Number(e.args[1])`
 */
export const SKIPPED_CALL = "skipped";

/**
 * The budget from `SOCKIT_TRACE_RATE`: a positive integer (calls a second), `all` (every call:
 * `Infinity`), or unset ({@link TRACE_RATE_DEFAULT}). Anything else warns (`warn`, by default
 * a process warning) and keeps the default.
 * @example `traceRate("all") // Infinity`
 */
export function traceRate(
  value: string | undefined = process.env.SOCKIT_TRACE_RATE,
  warn: (message: string) => void = (m) => process.emitWarning(m),
): number {
  if (value === undefined || value.trim() === "") return TRACE_RATE_DEFAULT;
  const v = value.trim();
  if (v.toLowerCase() === "all") return Infinity;
  if (/^[1-9]\d{0,8}$/.test(v)) return Number(v);
  warn(
    `SOCKIT_TRACE_RATE must be a number of calls a second (1 or more) or "all", got ${JSON.stringify(value)}: using ${TRACE_RATE_DEFAULT}`,
  );
  return TRACE_RATE_DEFAULT;
}

/**
 * What the exporter did so far: calls delivered, dropped (the viewer gone or slow, the queue
 * full), waiting, and skipped by the rate budget ({@link TRACE_RATE_DEFAULT}; those reach the
 * viewer as counts in `skipped` records, and are not among the others).
 * @example `exporterStats().dropped`
 */
export interface ExporterStats {
  sent: number;
  dropped: number;
  queued: number;
  skipped: number;
}

/**
 * What the rate budget skipped on one socket since that socket's last record. `counted`: some
 * calls came as counts only (no times): the record's end is read when it is written.
 */
interface Gap {
  readonly fd: number;
  n: number;
  out: number;
  in: number;
  readonly start: number;
  end: number;
  counted: boolean;
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

/** Bytes in one POST, at most (the collector takes up to 1 MiB). */
const POST_BYTES_MAX = 1_000_000;

/**
 * The content type of a binary batch, the exporter's: `SKTB`, a u32 (little-endian) length, that
 * many bytes of JSON header ({@link BatchHead}), then the records as the ring holds them
 * (trace-ring.ts: each a u32 size, then its fields). The collector also takes JSON batches.
 * @example `headers: { "content-type": TRACE_BATCH_TYPE }`
 */
export const TRACE_BATCH_TYPE = "application/vnd.sockit.trace-batch";
/**
 * Bytes of a binary batch's JSON header, at most.
 * @example `if (headLength > BATCH_HEAD_MAX) throw new BatchError(400, "header too long")`
 */
export const BATCH_HEAD_MAX = 4096;
/** Where the worker puts a batch's records in its body buffer: after the longest header. */
const RECORDS_AT = 8 + BATCH_HEAD_MAX;

/**
 * A binary batch's header: who sent the records and from when their times count.
 * @example `const h: BatchHead = { pid: 42, proc: "client.js", origin: performance.timeOrigin, dropped: 0 };`
 */
export interface BatchHead {
  /** The process id. */
  readonly pid: number;
  /** The process's name ({@link processName}). */
  readonly proc: string;
  /** The `performance.timeOrigin` of the thread that wrote the records (ms since the epoch). */
  readonly origin: number;
  /** Events the exporter dropped so far. */
  readonly dropped: number;
}

/**
 * The start of a binary batch: magic, length, JSON header.
 * @example `Buffer.concat([batchHead({ pid, proc, origin, dropped: 0 }), records])`
 */
export function batchHead(h: BatchHead): Buffer {
  const json = Buffer.from(JSON.stringify(h));
  const b = Buffer.allocUnsafe(8 + json.length);
  b.write("SKTB", 0, "latin1");
  b.writeUInt32LE(json.length, 4);
  json.copy(b, 8);
  return b;
}
/**
 * The ring's bytes: about {@link QUEUE_MAX} records of the common sizes fit (a record takes ~100
 * bytes for socket() or a send/recv of 32 bytes, ~140 with a full 64-byte preview); when the
 * bytes run out first, the record is dropped and counted like any other. Small enough to stay
 * near the caches the two threads share, and the process's memory stays bounded by it.
 */
const RING_BYTES = 2 << 20;

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

/** `[host, port, …]` as an address (a port is an integer; anything else is not an address). */
function addrOf(v: TraceValue | undefined): [string, number] | undefined {
  if (Array.isArray(v) && v.length >= 2 && typeof v[0] === "string" && Number.isInteger(v[1]))
    return [v[0], v[1] as number];
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

/** A string cut to {@link RING_FIELD_CHARS}, as the collector keeps it. */
function cut(v: string): string {
  return v.length > RING_FIELD_CHARS ? v.slice(0, RING_FIELD_CHARS) : v;
}

/** A number JSON can carry (a non-finite one as 0). */
function finite(v: number): number {
  return Number.isFinite(v) ? v : 0;
}

/** A time in ms, to the µs (a non-finite or negative one as 0). */
function ms(v: number): number {
  return !Number.isFinite(v) || v < 0 ? 0 : Math.round(v * 1000) / 1000;
}

/**
 * One call read back from a ring as the viewer keeps it: arguments and result rendered as Python
 * prints them, the address picked out, the data's first bytes as hex, times in ms since the epoch
 * (`origin`: the writing thread's `performance.timeOrigin`).
 *
 * @example `const r = recordOf(ring.next()!, process.pid, processName(), performance.timeOrigin);`
 */
export function recordOf(rec: RingRecord, pid: number, proc: string, origin: number): TraceRecord {
  const args = rec.args.map((a) => (typeof a === "number" ? String(a) : cut(renderValue(a))));
  const r: { -readonly [K in keyof TraceRecord]: TraceRecord[K] } = {
    pid,
    proc,
    sock: rec.sock,
    fd: finite(rec.fd),
    call: rec.call,
    args,
    t: ms(origin + rec.start),
    dur: ms(rec.duration),
  };
  let addr = addrOf(rec.args[0]);
  if (rec.error) {
    const e = rec.error;
    r.error = { name: e.name, code: e.code, errno: finite(e.errno), message: e.message };
  } else {
    const res = rec.result;
    r.result = typeof res === "number" ? String(res) : cut(renderValue(res));
    // accept(): (newfd, address); recvfrom(): (bytes, address)
    if (Array.isArray(res) && res.length === 2 && typeof res[0] === "number")
      addr = addrOf(res[1] as TraceValue) ?? addr;
    if (rec.newSock !== undefined) r.newSock = rec.newSock;
  }
  if (addr) r.addr = [cut(addr[0]), addr[1]];
  if (rec.len !== undefined && rec.head !== undefined) {
    r.len = rec.len;
    r.hex = rec.head.toString("hex");
  }
  return r;
}

/* The counters shared with the worker (BigInt64): what it delivered, what it dropped, what the
 * program's thread dropped. The ring's control words (trace-ring.ts) hold the rest. */
const SENT = 0;
const W_DROPPED = 1;
const M_DROPPED = 2;

/** What the worker is given. */
interface WorkerData {
  readonly url: string;
  /** The ring (trace-ring.ts) and the counters. */
  readonly ring: SharedArrayBuffer;
  readonly counters: SharedArrayBuffer;
  /** The process id and name. */
  readonly pid: number;
  readonly proc: string;
  /** The program thread's `performance.timeOrigin` (records hold its `performance.now()`). */
  readonly origin: number;
  readonly batchMs: number;
  readonly batchEvents: number;
  readonly timeoutMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  readonly maxEvents: number;
  readonly maxBytes: number;
}

/**
 * Gives sockets their ids (a descriptor reused after close gets a new one) and writes each call
 * into a ring.
 */
class Recorder {
  readonly ring: TraceRing;
  readonly #socks = new Map<number, number>();
  #nextSock = 1;

  constructor(ring: TraceRing) {
    this.ring = ring;
  }

  /**
   * The id of the socket on descriptor `fd` (0: not on a socket); `fresh` gives it a new one (a
   * socket() or an accept() made it).
   */
  sockOf(fd: number, fresh: boolean): number {
    if (fd < 0) return 0;
    let id = this.#socks.get(fd);
    if (id === undefined || fresh) {
      id = this.#nextSock++;
      this.#socks.set(fd, id);
    }
    return id;
  }

  /**
   * Writes one call; false when the ring refused it. `head`: a copy of the first bytes the call
   * moved, `len` of them, for an event whose buffer may since have been reused.
   */
  put(ev: CallEvent, head: Buffer | undefined, len: number | undefined): boolean {
    let fd = ev.fd;
    const call = ev.call;
    const fresh = call === "socket";
    if (fresh && typeof ev.result === "number") fd = ev.result;
    const sock = this.sockOf(fd, fresh);
    let newSock: number | undefined;
    const r = ev.result;
    if (
      call === "accept" &&
      ev.error === undefined &&
      Array.isArray(r) &&
      r.length === 2 &&
      typeof r[0] === "number"
    )
      newSock = this.sockOf(r[0], true);
    const copied = head !== undefined && len !== undefined;
    const data = copied ? head : dataOf(ev);
    const ok = this.ring.put(ev, sock, fd, newSock, data, copied ? len : (data?.length ?? 0));
    if (call === "close") this.#socks.delete(fd);
    return ok;
  }
}

/**
 * One POST of a batch to the collector's `/events`; `done(ok)` with whether it took it (200/204),
 * called once, and only once Node no longer holds `body` (all of it written, or the request
 * gone), so the caller may fill the same buffer again. Handed `http`: the program's thread never loads it (only
 * the worker and postEarly use this).
 */
function postEvents(
  http: typeof import("node:http"),
  url: string | URL,
  body: Buffer,
  timeoutMs: number,
  agent: import("node:http").Agent | undefined,
  done: (ok: boolean) => void,
): void {
  // the answer, and whether Node is done with the body (Node writes a Buffer without copying
  // it): done() needs both, as a collector may answer before it has read the whole body
  let ok: boolean | undefined;
  let out = false;
  let called = false;
  const settle = (): void => {
    if (called || ok === undefined || !out) return;
    called = true;
    done(ok);
  };
  const answer = (v: boolean): void => {
    ok ??= v;
    settle();
  };
  const gone = (): void => {
    out = true;
    settle();
  };
  try {
    const req = http.request(
      url,
      {
        method: "POST",
        path: "/events",
        ...(agent === undefined ? {} : { agent }),
        headers: { "content-type": TRACE_BATCH_TYPE, "content-length": body.length },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on("end", () => answer(res.statusCode === 204 || res.statusCode === 200));
        res.on("error", () => answer(false));
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => {
      answer(false);
      gone();
    });
    req.on("finish", gone);
    req.on("close", gone);
    req.end(body);
  } catch {
    answer(false);
    gone();
  }
}

/** `Atomics.waitAsync` (Node ≥ 16; the ES2024 library types name it, ours are older). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      a: Int32Array,
      i: number,
      v: number,
      ms: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

/**
 * The exporter's worker thread (sockit starts it; not for direct use): copies the ring's records
 * into binary batches, POSTs them one at a time, and keeps the shared counters. It wakes every
 * {@link BATCH_MS} while calls keep coming and sleeps when none came; the program's thread kicks
 * it awake (a record written while it sleeps, {@link BATCH_EVENTS} records written, or the
 * program's end).
 *
 * @example `import(exportModule).then((m) => m.runExporterWorker(workerData))`
 */
export async function runExporterWorker(d: WorkerData): Promise<void> {
  const http = await import("node:http");
  const ring = new TraceRing(d.ring);
  const ctl = ring.ctl;
  const big = new BigInt64Array(d.counters);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let busy = false;
  let retryMs = d.retryMinMs;
  let retry: NodeJS.Timeout | undefined;
  /**
   * One batch's body, filled again for every batch (no allocation per batch): the records are
   * copied out of the ring to RECORDS_AT, and the header is written just before them.
   */
  const body = Buffer.allocUnsafe(RECORDS_AT + d.maxBytes);
  const head = (): Buffer =>
    batchHead({
      pid: d.pid,
      proc: d.proc,
      origin: d.origin,
      dropped: Number(Atomics.load(big, W_DROPPED) + Atomics.load(big, M_DROPPED)),
    });
  const settle = (n: number, ok: boolean): void => {
    if (n === 0) return;
    Atomics.add(big, ok ? SENT : W_DROPPED, BigInt(n));
    Atomics.add(ctl, DONE, n);
    Atomics.notify(ctl, DONE);
  };
  const post = (payload: Buffer, done: (ok: boolean) => void): void => {
    busy = true;
    postEvents(http, d.url, payload, d.timeoutMs, agent, (ok) => {
      busy = false;
      done(ok);
    });
  };
  /** The viewer is down: what waits is dropped, counted. */
  const discard = (): void => {
    let n = 0;
    while (ring.skip()) n++;
    settle(n, false);
  };
  /** An empty batch (it carries the drop count): is the viewer there? */
  const probe = (): void => {
    post(head(), (ok) => {
      if (!ok) return down();
      retryMs = d.retryMinMs;
      Atomics.store(ctl, DOWN, 0);
      pump(true);
    });
  };
  const down = (): void => {
    Atomics.store(ctl, DOWN, 1);
    discard();
    if (retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      probe();
    }, retryMs);
    retryMs = Math.min(retryMs * 2, d.retryMaxMs);
  };
  /** Sends what waits: all of it when `now` (timer, kick, end), else only a full batch. */
  const pump = (now: boolean): void => {
    if (busy) return;
    if (Atomics.load(ctl, DOWN) !== 0) return discard();
    const waiting = (Atomics.load(ctl, WRITTEN) - Atomics.load(ctl, DONE)) | 0;
    if (waiting <= 0 || (!now && waiting < d.batchEvents && Atomics.load(ctl, FLUSH) === 0)) return;
    const { n, end } = ring.take(body, RECORDS_AT, d.maxEvents);
    if (n === 0) return;
    const h = head();
    // a header longer than the collector takes (a very long process name) goes as before: the
    // collector refuses the batch, and it is counted as dropped
    const batch =
      h.length <= RECORDS_AT
        ? body.subarray(RECORDS_AT - h.copy(body, RECORDS_AT - h.length), end)
        : Buffer.concat([h, body.subarray(RECORDS_AT, end)]);
    post(batch, (ok) => {
      settle(n, ok);
      if (!ok) down();
      else retryMs = d.retryMinMs;
      pump(false);
    });
  };
  // connect at once: the first batch finds the connection open, a viewer that is not there is
  // known before the program has made many calls
  probe();
  let timer: NodeJS.Timeout | undefined;
  /** Calls came: what waits goes now, and then every batchMs while more come. */
  const wake = (): void => {
    pump(true);
    timer ??= setTimeout(step, d.batchMs);
  };
  const step = (): void => {
    timer = undefined;
    if (busy || ring.pending()) return wake();
    // nothing came since the last batch: sleep until the program's thread kicks (it clears
    // IDLE after a record); a record written meanwhile is seen here or there (ring.pending())
    Atomics.store(ctl, IDLE, 1);
    if (ring.pending() && Atomics.exchange(ctl, IDLE, 0) === 1) wake();
  };
  // the timer keeps this thread alive (a pending waitAsync does not), and would send what a
  // missed kick had left waiting
  setInterval(() => {
    if (timer === undefined && ring.pending()) wake();
  }, IDLE_CHECK_MS);
  wake();
  for (;;) {
    const seen = Atomics.load(ctl, KICK);
    const w = waitAsync(ctl, KICK, seen, Infinity);
    if (w.async) await w.value;
    wake();
  }
}

class Exporter {
  readonly #url: URL;
  readonly #ringSab = new SharedArrayBuffer(RING_CONTROL_BYTES + RING_BYTES);
  readonly #counters = new SharedArrayBuffer(24);
  readonly #big = new BigInt64Array(this.#counters);
  readonly #rec = new Recorder(new TraceRing(this.#ringSab));
  readonly #ctl = this.#rec.ring.ctl;
  /** Records written since the worker was last kicked. */
  #unkicked = 0;
  /**
   * Records written, all told (int32, wrapping: differences stay right), and the worker's count
   * of those it is done with as last seen (looked at again only when the queue seems full).
   */
  #written = 0;
  #doneSeen = 0;
  #worker: Worker | undefined;
  /** A wait at the end ran out. */
  #gaveUp = false;
  /** The rate budget: calls a ms (Infinity: none), the burst, what is left, when last filled. */
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #filled = -Infinity;
  /** Calls skipped, all told, and what each socket's next `skipped` record will say. */
  #skipped = 0;
  readonly #gaps = new Map<number, Gap>();
  /** Calls counted without a clock read since the last one (see the sink's `count`). */
  #unclocked = 0;
  /**
   * What sockit's trace calls (trace.ts: {@link setTraceSink}), not a channel subscriber:
   * every finished call, and while the budget is spent and nobody else listens, only the count
   * of a call that moved bytes — no clock read, no event (the clock is read every 64 of them,
   * for the budget; the `skipped` record runs from its first count to when it is written).
   */
  readonly #sink: TraceSink = {
    call: (ev: CallEvent): void => {
      if (Atomics.load(this.#ctl, DOWN) !== 0) return this.#drop();
      if (this.#perMs !== Infinity && this.#skip(ev)) return;
      if (this.#gaps.size > 0) this.#gapBefore(ev);
      this.#put(ev);
    },
    /** Skipping (until half the burst is back). */
    skipping: false,
    count: (fd: number, call: string, bytes: number): boolean => {
      if (!this.#sink.skipping) return false;
      if (++this.#unclocked >= 64) {
        this.#unclocked = 0;
        this.#fill(performance.now());
        if (!this.#sink.skipping) return false;
      }
      this.#addGap(fd, call, bytes);
      return true;
    },
  };
  /** The program ends (by itself, or by process.exit()): send the rest, wait (bounded). */
  readonly #atEnd = (): void => {
    this.#flushGaps();
    this.#drain(FINAL_FLUSH_MS);
  };

  /** `rate`: calls that move bytes, a second, at most ({@link traceRate}). */
  constructor(url: URL, rate: number) {
    this.#url = url;
    this.#perMs = rate / 1000;
    this.#burst = Math.max(64, rate * BURST_SECONDS);
    this.#tokens = this.#burst;
  }

  /**
   * Writes one record, or drops and counts it (the queue full, the ring out of room); `sock`:
   * a `skipped` record's socket. Drops count records, as the worker's do: a lost `skipped`
   * record counts as one (the calls it stood for are in `skipped` all the same).
   */
  #put(ev: CallEvent, sock?: number): void {
    if (((this.#written - this.#doneSeen) | 0) >= QUEUE_MAX) {
      this.#doneSeen = Atomics.load(this.#ctl, DONE);
      if (((this.#written - this.#doneSeen) | 0) >= QUEUE_MAX) return this.#drop();
    }
    let ok = false;
    try {
      ok =
        sock === undefined
          ? this.#rec.put(ev, undefined, undefined)
          : this.#rec.ring.put(ev, sock, ev.fd, undefined, undefined, 0);
    } catch {
      // a value the ring cannot hold: dropped like a record that does not fit
    }
    if (!ok) return this.#drop();
    this.#wrote();
  }

  /**
   * The budget: true when this call is skipped (it moved bytes and the budget is spent); it is
   * then counted into its socket's gap. Calls that moved nothing or failed are never skipped.
   */
  #skip(ev: CallEvent): boolean {
    const now = ev.start + ev.duration;
    const data = ev.error === undefined ? dataOf(ev) : undefined;
    if (data === undefined || data.length === 0) {
      // a call that is never skipped: if the budget has room again, the counts go out now
      if (this.#sink.skipping) this.#fill(now);
      return false;
    }
    const t = this.#fill(now);
    if (!this.#sink.skipping && t >= 1) {
      this.#tokens = t - 1;
      return false;
    }
    this.#sink.skipping = true;
    this.#tokens = t;
    this.#addGap(ev.fd, ev.call, data.length, ev.start, now);
    return true;
  }

  /**
   * Counts one skipped call into its socket's gap; without `start` and `end` (a count from the
   * sink), a new gap reads the clock for its start, and the record its end when written.
   */
  #addGap(fd: number, call: string, bytes: number, start?: number, end?: number): void {
    this.#skipped++;
    const sock = this.#rec.sockOf(fd, false);
    const out = call.startsWith("send") || call === "write";
    const g = this.#gaps.get(sock);
    if (g === undefined) {
      const t = start ?? performance.now();
      this.#gaps.set(sock, {
        fd,
        n: 1,
        out: out ? bytes : 0,
        in: out ? 0 : bytes,
        start: t,
        end: end ?? t,
        counted: end === undefined,
      });
    } else {
      g.n++;
      if (out) g.out += bytes;
      else g.in += bytes;
      if (end === undefined) g.counted = true;
      else g.end = end;
    }
  }

  /**
   * The budget at `now` (ms): what has come back since it was last filled, up to the burst.
   * Skipping ends once half the burst is back, and every socket's count goes out then.
   */
  #fill(now: number): number {
    let t = this.#tokens + (now - this.#filled) * this.#perMs;
    if (!(t <= this.#burst)) t = this.#burst; // also the first call (−Infinity)
    this.#filled = now;
    this.#tokens = t;
    if (this.#sink.skipping && t >= this.#burst / 2) {
      this.#sink.skipping = false;
      this.#flushGaps();
    }
    return t;
  }

  /** A socket's skipped calls go out before its next record. */
  #gapBefore(ev: CallEvent): void {
    if (ev.call === "socket" || ev.fd < 0) return;
    const sock = this.#rec.sockOf(ev.fd, false);
    const g = this.#gaps.get(sock);
    if (g === undefined) return;
    this.#gaps.delete(sock);
    this.#putGap(sock, g);
  }

  /** Every socket's skipped calls go out (the budget has room again, or the program ends). */
  #flushGaps(): void {
    for (const [sock, g] of this.#gaps) this.#putGap(sock, g);
    this.#gaps.clear();
  }

  #putGap(sock: number, g: Gap): void {
    const end = g.counted ? Math.max(g.end, performance.now()) : g.end;
    this.#put(
      {
        fd: g.fd,
        call: SKIPPED_CALL,
        args: [g.n, g.out, g.in],
        result: g.n,
        start: g.start,
        duration: end - g.start,
      },
      sock,
    );
  }

  start(early: readonly Raw[]): void {
    const data: WorkerData = {
      url: this.#url.href,
      ring: this.#ringSab,
      counters: this.#counters,
      pid: process.pid,
      proc: processName(),
      origin: performance.timeOrigin,
      batchMs: BATCH_MS,
      batchEvents: BATCH_EVENTS,
      timeoutMs: REQUEST_TIMEOUT_MS,
      retryMinMs: RETRY_MIN_MS,
      retryMaxMs: RETRY_MAX_MS,
      maxEvents: POST_EVENTS_MAX,
      maxBytes: POST_BYTES_MAX - 8 - BATCH_HEAD_MAX,
    };
    const module = JSON.stringify(import.meta.url);
    const w = new Worker(
      `import(${module}).then((m) => m.runExporterWorker(require("node:worker_threads").workerData))`,
      {
        eval: true,
        workerData: data,
        // the program's preloads and flags are not the worker's business (nor SOCKIT_TRACE)
        execArgv: [],
        env: {},
        stdout: true,
        stderr: true,
        name: "sockit trace exporter",
      },
    );
    // a worker that fails is a viewer gone for good: events are counted, never sent
    const dead = (): void => {
      const ctl = this.#ctl;
      Atomics.store(ctl, DOWN, 1);
      const left = (this.#written - Atomics.load(ctl, DONE)) | 0;
      if (left > 0) Atomics.add(this.#big, M_DROPPED, BigInt(left));
      Atomics.store(ctl, DONE, this.#written);
      Atomics.notify(ctl, DONE);
    };
    w.on("error", dead);
    w.on("exit", dead);
    w.unref();
    this.#worker = w;
    for (const r of early) {
      if (this.#rec.put(r.ev, r.head, r.len)) this.#wrote();
      else this.#drop();
    }
    setTraceSink(this.#sink);
    process.on("beforeExit", this.#atEnd);
    process.on("exit", this.#atEnd);
  }

  stop(): void {
    setTraceSink(undefined);
    process.off("beforeExit", this.#atEnd);
    process.off("exit", this.#atEnd);
    const w = this.#worker;
    this.#worker = undefined;
    w?.removeAllListeners("exit");
    void w?.terminate().catch(() => {});
  }

  stats(): ExporterStats {
    return {
      sent: Number(Atomics.load(this.#big, SENT)),
      dropped: Number(Atomics.load(this.#big, M_DROPPED) + Atomics.load(this.#big, W_DROPPED)),
      queued: (this.#written - Atomics.load(this.#ctl, DONE)) | 0,
      skipped: this.#skipped,
    };
  }

  /** One more record in the ring: published for the worker, which is kicked for a full batch. */
  #wrote(): void {
    this.#written = (this.#written + 1) | 0;
    // a plain store: the worker reads it as a hint (how full a batch would be); the kick and
    // the end's flag, both atomic, publish it exactly when it matters
    const ctl = this.#ctl;
    ctl[WRITTEN] = this.#written;
    if (++this.#unkicked >= BATCH_EVENTS) this.#kick();
    // the worker sleeps (nothing came for a batch's time): this record wakes it. The ring
    // published the record with a sequentially consistent store, so a worker that went to
    // sleep without seeing it has set IDLE where this load sees it.
    else if (Atomics.load(ctl, IDLE) !== 0 && Atomics.exchange(ctl, IDLE, 0) !== 0) this.#kick();
  }

  #drop(): void {
    Atomics.add(this.#big, M_DROPPED, 1n);
  }

  #kick(): void {
    this.#unkicked = 0;
    Atomics.add(this.#ctl, KICK, 1);
    Atomics.notify(this.#ctl, KICK);
  }

  /**
   * Tells the worker to send everything and waits, at most `ms`, until it has delivered it (or
   * given up on it). Synchronous: it runs in 'exit' handlers. Once a wait ran out (a viewer that
   * does not answer), later ones (beforeExit, then exit) do not wait again.
   */
  #drain(ms: number): void {
    Atomics.store(this.#ctl, FLUSH, 1);
    this.#kick();
    if (this.#gaveUp) return;
    const end = performance.now() + ms;
    for (;;) {
      const done = Atomics.load(this.#ctl, DONE);
      if (((this.#written - done) | 0) <= 0) return;
      const left = end - performance.now();
      if (left <= 0) {
        this.#gaveUp = true;
        return;
      }
      Atomics.wait(this.#ctl, DONE, done, left);
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
 * {@link FINAL_FLUSH_MS}. `origin` is the program thread's `performance.timeOrigin` (the
 * events' times count from it).
 *
 * @example `await postEarly({ target: "http://127.0.0.1:7080", sab, early, origin })`
 */
export async function postEarly(d: {
  readonly target: string;
  readonly sab: SharedArrayBuffer;
  readonly early: readonly Raw[];
  readonly origin?: number;
}): Promise<void> {
  const flag = new Int32Array(d.sab);
  try {
    const url = new URL(d.target);
    if (url.protocol !== "http:") return;
    const rec = new Recorder(new TraceRing(new SharedArrayBuffer(RING_CONTROL_BYTES + RING_MIN)));
    const h = batchHead({
      pid: process.pid,
      proc: processName(),
      origin: d.origin ?? performance.timeOrigin,
      dropped: 0,
    });
    const scratch = Buffer.allocUnsafe(POST_BYTES_MAX - 8 - BATCH_HEAD_MAX);
    const bodies: Buffer[] = [];
    let n = 0;
    let end = 0;
    const cutBatch = (): void => {
      if (n > 0) bodies.push(Buffer.concat([h, scratch.subarray(0, end)]));
      n = 0;
      end = 0;
    };
    for (const r of d.early) {
      const ev = { ...r.ev, args: r.ev.args.map((a) => revive(a)) };
      // one record at a time through a ring: the same records as the exporter's
      if (!rec.put(ev, revive(r.head), r.len)) continue;
      let got = rec.ring.take(scratch, end, 1);
      if (got.n === 0) {
        cutBatch();
        got = rec.ring.take(scratch, end, 1);
      }
      n += got.n;
      end = got.end;
      if (n >= POST_EVENTS_MAX) cutBatch();
    }
    cutBatch();
    const http = await import("node:http");
    for (const body of bodies) {
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
 * before this module loaded (with their first bytes copied); `rate`, the calls that move bytes
 * it exports a second at most (`Infinity`: every call; by default `SOCKIT_TRACE_RATE`, see
 * {@link traceRate}). Returns false, doing nothing, when `target` is not an http: URL. sockit
 * calls this itself when `SOCKIT_TRACE` is set.
 *
 * @example `installExporter("http://127.0.0.1:7080", [], Infinity)`
 */
export function installExporter(
  target: string,
  early: readonly Raw[] = [],
  rate: number = traceRate(),
): boolean {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return false;
  }
  if (url.protocol !== "http:") return false;
  current?.stop();
  current = new Exporter(url, rate > 0 ? rate : TRACE_RATE_DEFAULT);
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
  return current ? current.stats() : { sent: 0, dropped: 0, queued: 0, skipped: 0 };
}
