/**
 * The trace exporter: streams this process's socket calls ({@link TRACE_CHANNEL}) to a
 * `sockit trace-view` collector. sockit installs it by itself when the environment holds
 * `SOCKIT_TRACE=http://HOST:PORT` (the viewer's address); otherwise this module is never loaded.
 *
 * Events are batched (every 50 ms or 256 events) and POSTed as JSON to `/events`. The queue is
 * bounded: when it is full, or the viewer is gone or stalls, events are dropped and counted
 * ({@link exporterStats}) — the traced program is never blocked, never sees an exception from
 * here, and is never kept alive by the exporter (its timer and sockets are unref'd; at the end
 * of the program one last batch gets at most {@link FINAL_FLUSH_MS}). The exporter talks through
 * `node:http`, not through sockit, so its own requests are not traced, and only to the address
 * named in `SOCKIT_TRACE`. Of the bytes a call moved only the count and the first 64 go out.
 *
 * @example
 * ```sh
 * sockit trace-view --port 7080 &
 * SOCKIT_TRACE=http://127.0.0.1:7080 node build/examples/02-client-server/daytime-client.js
 * ```
 * @module
 */
import diagnostics_channel from "node:diagnostics_channel";
import http from "node:http";
import { basename } from "node:path";
import { performance } from "node:perf_hooks";
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
/** Events waiting, at most; more are dropped and counted. */
export const QUEUE_MAX = 4096;
/** Bytes of data kept per event. */
export const PREVIEW_BYTES = 64;
/** A request the viewer does not answer within this is abandoned (its events counted dropped). */
export const REQUEST_TIMEOUT_MS = 2000;
/** The last batch, sent when the program would end, gets at most this long. */
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

interface Raw {
  readonly ev: CallEvent;
  readonly head: Buffer | undefined;
}

/** Strings longer than this are cut (the collector keeps no more). */
const FIELD_CHARS = 512;
/** Arguments per event, at most (the collector refuses more). */
const ARGS_MAX = 16;
/**
 * A batch's JSON, at most this many UTF-16 units (≤ 3 bytes each in UTF-8: under the collector's
 * 1 MiB).
 */
const BATCH_CHARS = 256 * 1024;
/** The first retry after the viewer failed, ms; doubled after each failed retry. */
export const RETRY_MIN_MS = 250;
/** The longest pause between retries while the viewer is gone, ms. */
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

/** The process's name for the viewer's lanes. */
function processName(): string {
  const script = process.argv[1];
  return script ? basename(script) : process.title;
}

/** A string as JSON, cut to {@link FIELD_CHARS}. */
function jstr(v: string): string {
  return JSON.stringify(v.length > FIELD_CHARS ? v.slice(0, FIELD_CHARS) : v);
}

/** A number as JSON (a non-finite one, which JSON cannot carry, as 0). */
function jnum(v: number): string {
  return Number.isFinite(v) ? String(v) : "0";
}

/** `,"addr":["host",port]` for an address value, else "". */
function jaddr(v: TraceValue | undefined): string {
  const a = addrOf(v);
  return a ? `,"addr":[${jstr(a[0])},${jnum(a[1])}]` : "";
}

class Exporter {
  readonly stats: ExporterStats = { sent: 0, dropped: 0, queued: 0 };
  readonly #url: URL;
  /** The events waiting, each already JSON. */
  #chunks: string[] = [];
  #chars = 0;
  readonly #socks = new Map<number, number>();
  /** `{"pid":N,"proc":"name","sock":` — the same for every event. */
  readonly #head = `{"pid":${process.pid},"proc":${jstr(processName())},"sock":`;
  readonly #origin = performance.timeOrigin;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  #nextSock = 1;
  #busy = false;
  #final = false;
  #deadline = 0;
  /** The viewer failed: events are only counted until a retry gets through. */
  #down = false;
  #retryMs = RETRY_MIN_MS;
  #retry: NodeJS.Timeout | undefined;
  #request: http.ClientRequest | undefined;
  #socket: NonNullable<http.ClientRequest["socket"]> | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #listener = (m: unknown): void => {
    if (this.#down || this.#chunks.length >= QUEUE_MAX) {
      this.stats.dropped++;
      return;
    }
    try {
      this.push(m as CallEvent, undefined);
    } catch {
      this.stats.dropped++;
    }
  };
  readonly #beforeExit = (): void => {
    // the program would end: what is left gets at most FINAL_FLUSH_MS, holding the process
    if (this.#final || (this.#chunks.length === 0 && !this.#busy)) return;
    this.#final = true;
    this.#deadline = performance.now() + FINAL_FLUSH_MS;
    if (this.#busy) {
      this.#socket?.ref();
      this.#request?.setTimeout(FINAL_FLUSH_MS);
    } else this.#flush();
  };

  constructor(url: URL) {
    this.#url = url;
  }

  start(early: readonly Raw[]): void {
    for (const r of early) this.push(r.ev, r.head);
    diagnostics_channel.subscribe(TRACE_CHANNEL, this.#listener);
    this.#timer = setInterval(() => this.#flush(), BATCH_MS);
    this.#timer.unref();
    process.on("beforeExit", this.#beforeExit);
  }

  stop(): void {
    diagnostics_channel.unsubscribe(TRACE_CHANNEL, this.#listener);
    if (this.#timer) clearInterval(this.#timer);
    if (this.#retry) clearTimeout(this.#retry);
    process.off("beforeExit", this.#beforeExit);
    this.#dropRest();
    this.#agent.destroy();
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
  push(ev: CallEvent, head: Buffer | undefined): void {
    let fd = ev.fd;
    const call = ev.call;
    const fresh = call === "socket";
    if (fresh && typeof ev.result === "number") fd = ev.result;
    const sock = this.#sockOf(fd, fresh);
    let j = `${this.#head}${sock},"fd":${jnum(fd)},"call":${jstr(call)},"args":[`;
    const args = ev.args;
    const n = args.length < ARGS_MAX ? args.length : ARGS_MAX;
    for (let i = 0; i < n; i++) j += `${i === 0 ? "" : ","}${jstr(renderValue(args[i]))}`;
    j += "]";
    let addr = jaddr(args[0]);
    if (ev.error) {
      const e = ev.error;
      j += `,"error":{"name":${jstr(e.name)},"code":${jstr(e.code)},"errno":${jnum(e.errno)},"message":${jstr(e.message)}}`;
    } else {
      const r = ev.result;
      j += `,"result":${jstr(renderValue(r))}`;
      // accept(): (newfd, address); recvfrom(): (bytes, address)
      if (Array.isArray(r) && r.length === 2 && typeof r[0] === "number") {
        const peer = jaddr(r[1] as TraceValue);
        if (peer) addr = peer;
        if (call === "accept") j += `,"newSock":${this.#sockOf(r[0], true)}`;
      }
    }
    j += addr;
    const data = dataOf(ev);
    if (data !== undefined) {
      // the count and the first bytes only: hex straight from the caller's buffer, no copy
      j += `,"len":${data.length},"hex":"${(head ?? data).toString("hex", 0, PREVIEW_BYTES)}"`;
    }
    j += `,"t":${jnum(this.#origin + ev.start)},"dur":${jnum(ev.duration)}}`;
    if (call === "close") this.#socks.delete(fd);
    this.#chunks.push(j);
    this.#chars += j.length;
    this.stats.queued = this.#chunks.length;
    if ((this.#chunks.length >= BATCH_EVENTS || this.#chars >= BATCH_CHARS) && !this.#busy) this.#flush();
  }

  /** Takes the next batch off the queue: at most POST_EVENTS_MAX events and BATCH_CHARS. */
  #take(): { n: number; body: string } {
    const all = this.#chunks;
    let n = 0;
    let chars = 0;
    while (n < all.length && n < POST_EVENTS_MAX && (n === 0 || chars + all[n]!.length <= BATCH_CHARS))
      chars += all[n++]!.length;
    const events = n === all.length ? all : all.slice(0, n);
    this.#chunks = n === all.length ? [] : all.slice(n);
    this.#chars -= chars;
    this.stats.queued = this.#chunks.length;
    return { n, body: `{"events":[${events.join(",")}],"dropped":${this.stats.dropped}}` };
  }

  #flush(): void {
    if (this.#busy || this.#down || this.#chunks.length === 0) return;
    const left = this.#deadline - performance.now();
    if (this.#final && left <= 0) return this.#dropRest();
    // a backed-up queue goes out in bigger batches (the collector takes up to 1024 events)
    const { n, body } = this.#take();
    this.#post(body, n, this.#final ? left : REQUEST_TIMEOUT_MS);
  }

  /** POSTs one body of `n` events; on failure, stops taking events until a retry gets through. */
  #post(body: string, n: number, timeoutMs: number): void {
    this.#busy = true;
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      this.#busy = false;
      this.#request = undefined;
      this.#socket = undefined;
      if (ok) {
        this.stats.sent += n;
        this.#down = false;
        this.#retryMs = RETRY_MIN_MS;
      } else {
        this.stats.dropped += n;
        this.#goDown();
      }
      if (this.#final) {
        if (ok) this.#flush();
        else this.#dropRest();
      }
    };
    try {
      const req = http.request(
        this.#url,
        {
          method: "POST",
          path: "/events",
          agent: this.#agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
          timeout: Math.max(1, Math.ceil(timeoutMs)),
        },
        (res) => {
          res.resume();
          res.on("end", () => finish(res.statusCode === 204 || res.statusCode === 200));
          res.on("error", () => finish(false));
        },
      );
      this.#request = req;
      req.on("socket", (s) => {
        this.#socket = s;
        // unref'd, the exporter never keeps the program alive; at its end, held for the last batch
        if (this.#final) s.ref();
        else s.unref();
      });
      req.on("timeout", () => req.destroy());
      req.on("error", () => finish(false));
      req.end(body);
    } catch {
      finish(false);
    }
  }

  /**
   * The viewer failed: what waits is dropped, new events are only counted, and an empty batch
   * (which carries the drop count) probes the viewer after a pause that doubles up to
   * RETRY_MAX_MS.
   */
  #goDown(): void {
    this.#down = true;
    this.#dropRest();
    if (this.#retry || this.#final) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#busy) return;
      this.#post(`{"events":[],"dropped":${this.stats.dropped}}`, 0, REQUEST_TIMEOUT_MS);
    }, this.#retryMs);
    this.#retry.unref();
    this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
  }

  #dropRest(): void {
    this.stats.dropped += this.#chunks.length;
    this.#chunks = [];
    this.#chars = 0;
    this.stats.queued = 0;
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
  return current ? { ...current.stats } : { sent: 0, dropped: 0, queued: 0 };
}
