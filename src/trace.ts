/**
 * Trace: every socket operation is published on the `node:diagnostics_channel` channel
 * `sockit:call`, in Berkeley terms, so a subscriber (such as `sockit --trace`) can draw the
 * client-server sequence as it happens. Publishing costs nothing while nobody subscribes: callers
 * check {@link tracing} before building an event.
 *
 * @example
 * ```ts
 * import { renderCall, subscribeTrace } from "sockit";
 * const stop = subscribeTrace((ev) => console.error(renderCall(ev)));
 * // socket(AF_INET, SOCK_STREAM) = 3
 * // connect(3, ('127.0.0.1', 8000)) = 0
 * stop();
 * ```
 * @module
 */
import diagnostics_channel from "node:diagnostics_channel";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";

/**
 * Name of the diagnostics channel sockit publishes socket calls on.
 *
 * Subscribing with {@link subscribeTrace} gives typed events; a raw `node:diagnostics_channel`
 * subscriber receives `unknown` messages, which {@link isCallEvent} narrows.
 *
 * @example
 * ```ts
 * import { subscribe } from "node:diagnostics_channel";
 * import { isCallEvent, renderCall, TRACE_CHANNEL } from "sockit";
 * subscribe(TRACE_CHANNEL, (ev) => {
 *   if (isCallEvent(ev)) console.error(renderCall(ev));
 * });
 * ```
 */
export const TRACE_CHANNEL = "sockit:call";

const channel = diagnostics_channel.channel(TRACE_CHANNEL);

// SOCKIT_TRACE=http://HOST:PORT streams the calls to a `sockit trace-view` (trace-export.ts,
// loaded only then). Calls made while it loads are held here, their first bytes copied; if the
// program ends (process.exit()) before it has loaded, a worker delivers them (see postEarly).
const exportTarget = process.env.SOCKIT_TRACE;
if (exportTarget !== undefined && exportTarget !== "") {
  const early: { ev: CallEvent; head: Uint8Array | undefined; len?: number }[] = [];
  const hold = (m: unknown): void => {
    const ev = m as CallEvent;
    const data = dataOf(ev);
    if (early.length >= 4096) return;
    if (!Buffer.isBuffer(data)) early.push({ ev, head: undefined });
    // a buffer of its own (not a slice of Node's pool): it goes to a worker, if at all, as it is
    else early.push({ ev, head: new Uint8Array(data.subarray(0, 64)), len: data.length });
  };
  const atExit = (): void => {
    if (early.length > 0) deliverEarly(exportTarget, early);
  };
  diagnostics_channel.subscribe(TRACE_CHANNEL, hold);
  process.on("exit", atExit);
  const done = (): void => {
    diagnostics_channel.unsubscribe(TRACE_CHANNEL, hold);
    process.off("exit", atExit);
  };
  import("./trace-export.js").then((m) => {
    done();
    const held = early.map((r) => ({
      ...r,
      head: r.head && Buffer.from(r.head.buffer, r.head.byteOffset, r.head.length),
    }));
    if (!m.installExporter(exportTarget, held))
      process.emitWarning(`SOCKIT_TRACE must be an http://HOST:PORT URL, got ${exportTarget}: not tracing`);
  }, done);
}

/**
 * The program ends before the exporter has loaded: a worker loads it and POSTs the held calls;
 * this waits (in the 'exit' handler) at most 500 ms. Payloads are cut to what the records show.
 */
function deliverEarly(
  target: string,
  held: readonly { ev: CallEvent; head: Uint8Array | undefined; len?: number }[],
): void {
  try {
    // bytes the rendering of an argument shows (40, and one more for its "...")
    const clip = (a: TraceValue): TraceValue | Uint8Array =>
      Buffer.isBuffer(a) ? new Uint8Array(a.subarray(0, 41)) : a;
    const early = held.map(({ ev, head, len }) => ({
      ev: { ...ev, data: undefined, args: ev.args.map(clip) },
      head,
      len,
    }));
    const sab = new SharedArrayBuffer(4);
    const module = JSON.stringify(new URL("./trace-export.js", import.meta.url).href);
    const w = new Worker(
      `import(${module}).then((m) => m.postEarly(require("node:worker_threads").workerData))`,
      {
        eval: true,
        workerData: { target, sab, early, origin: performance.timeOrigin },
        execArgv: [],
        env: {},
        stdout: true,
        stderr: true,
      },
    );
    w.unref();
    Atomics.wait(new Int32Array(sab), 0, 0, 500);
  } catch {
    // tracing never breaks the program
  }
}

/**
 * Calls `fn` with every socket call as it happens (each {@link CallEvent} after the call
 * finished); returns the function that stops it. Any number of subscribers may listen; while none
 * does, tracing costs nothing. `fn` runs synchronously inside the socket call: keep it short,
 * and an exception it throws is reported by Node as an uncaught exception (the call itself goes
 * on).
 *
 * @example
 * ```ts
 * import { renderCall, socket, subscribeTrace, AF_INET, SOCK_STREAM } from "sockit";
 * const stop = subscribeTrace((ev) => console.error(renderCall(ev)));
 * const s = socket(AF_INET, SOCK_STREAM); // socket(AF_INET, SOCK_STREAM) = 3
 * await s.close();                        // close(3) = 0
 * stop();
 * ```
 */
export function subscribeTrace(fn: (ev: CallEvent) => void): () => void {
  if (typeof fn !== "function")
    throw new TypeError(`subscribeTrace: fn must be a function, got ${typeof fn}`);
  const listener = (message: unknown): void => fn(message as CallEvent);
  diagnostics_channel.subscribe(TRACE_CHANNEL, listener);
  let on = true;
  return () => {
    if (!on) return;
    on = false;
    diagnostics_channel.unsubscribe(TRACE_CHANNEL, listener);
  };
}

/**
 * True when `ev` (a message from {@link TRACE_CHANNEL}) is a {@link CallEvent}: narrows the
 * `unknown` a raw `node:diagnostics_channel` subscriber receives.
 *
 * @example
 * ```ts
 * import { subscribe } from "node:diagnostics_channel";
 * subscribe(TRACE_CHANNEL, (ev) => {
 *   if (isCallEvent(ev)) console.error(ev.call, ev.fd);
 * });
 * ```
 */
export function isCallEvent(ev: unknown): ev is CallEvent {
  if (ev === null || typeof ev !== "object") return false;
  const e = ev as Record<string, unknown>;
  return (
    typeof e.fd === "number" &&
    typeof e.call === "string" &&
    Array.isArray(e.args) &&
    typeof e.start === "number" &&
    typeof e.duration === "number"
  );
}

/**
 * A symbolic argument such as `AF_INET`, rendered bare (not quoted).
 *
 * @example
 * ```ts
 * const family: Sym = { sym: "AF_INET" };
 * renderCall({ fd: -1, call: "socket", args: [family, { sym: "SOCK_STREAM" }, 0], result: 3, start: 0, duration: 0 });
 * // "socket(AF_INET, SOCK_STREAM, 0) = 3"
 * ```
 */
export interface Sym {
  readonly sym: string;
}

/**
 * One argument or result value of a traced call: numbers, strings (quoted), symbols (bare),
 * bytes (as Python's `b'…'`) and tuples such as addresses.
 *
 * @example
 * ```ts
 * const address: TraceValue = ["127.0.0.1", 9];
 * renderCall({ fd: 3, call: "connect", args: [address], result: 0, start: 0, duration: 0 });
 * // "connect(3, ('127.0.0.1', 9)) = 0"
 * ```
 */
export type TraceValue = number | string | boolean | null | Sym | Buffer | readonly TraceValue[];

/**
 * One socket call, as published on {@link TRACE_CHANNEL}.
 *
 * @example
 * ```ts
 * const ev: CallEvent = { fd: 3, call: "listen", args: [5], result: 0, start: 0, duration: 0.01 };
 * renderCall(ev); // "listen(3, 5) = 0"
 * ```
 */
export interface CallEvent {
  /** The socket's descriptor number (see `fileno()`); -1 for calls not on a socket. */
  readonly fd: number;
  /** The call in Berkeley terms: `socket`, `bind`, `listen`, `accept`, `connect`, `send`, `recv`… */
  readonly call: string;
  /** The arguments after the descriptor, e.g. `[["127.0.0.1", 8000]]` for `bind`. */
  readonly args: readonly TraceValue[];
  /** The result: a number (0 for success, bytes for send/recv), a descriptor, an address… */
  readonly result?: TraceValue;
  /** The error, when the call failed. */
  readonly error?: {
    readonly name: string;
    readonly code: string;
    readonly errno: number;
    readonly message: string;
  };
  /** Bytes that went out or came in (send/recv family); the caller's buffer, not a copy. */
  readonly data?: Buffer;
  /** When the call started (`performance.now()`, ms). */
  readonly start: number;
  /** How long it took, ms. */
  readonly duration: number;
}

/**
 * True when someone subscribes to {@link TRACE_CHANNEL}; check it before building an event.
 * @example `if (tracing()) publishCall({ fd, call: "close", args: [], result: 0, start, duration: 0 })`
 */
export function tracing(): boolean {
  return channel.hasSubscribers || sink !== undefined;
}

/**
 * sockit's trace exporter, called directly rather than through {@link TRACE_CHANNEL}: so that
 * while it only *counts* calls that move bytes (over its rate budget) and nobody subscribes to
 * the channel, such a call costs no clock read, no event and no publish ({@link span}).
 * @example `setTraceSink({ call: (ev) => {}, skipping: false, count: () => false })`
 */
export interface TraceSink {
  /** Takes one finished call, as a channel subscriber would. */
  call(ev: CallEvent): void;
  /** True while calls that move bytes are only counted. */
  skipping: boolean;
  /**
   * Counts a call on descriptor `fd` that moved `bytes` (sent, for the send family): false when
   * it is not skipped after all, and must be published in full.
   */
  count(fd: number, call: string, bytes: number): boolean;
}
let sink: TraceSink | undefined;

/**
 * Installs (or with `undefined` removes) the exporter's {@link TraceSink}; the trace exporter
 * calls this itself.
 * @example `setTraceSink(undefined)`
 */
export function setTraceSink(s: TraceSink | undefined): void {
  sink = s;
}

/**
 * The installed {@link TraceSink}, if any (the exporter's while `SOCKIT_TRACE` exports): for a
 * benchmark that switches it off and on again between measurements (bench/tracing-ab.ts).
 * @example `const s = traceSink(); setTraceSink(undefined); … setTraceSink(s);`
 */
export function traceSink(): TraceSink | undefined {
  return sink;
}

/** Hands one finished call to the channel's subscribers and to the sink. */
function deliver(ev: CallEvent): void {
  if (channel.hasSubscribers) channel.publish(ev);
  const s = sink;
  if (s !== undefined) {
    try {
      s.call(ev);
    } catch {
      // tracing never breaks the program
    }
  }
}

/**
 * The current time for an event's `start` (ms, monotonic).
 * @example `const t0 = traceNow();`
 */
export function traceNow(): number {
  return performance.now();
}

/**
 * A bare symbolic value for trace arguments (`AF_INET` renders without quotes).
 * @example `sym("SOCK_STREAM")`
 */
export function sym(name: string): Sym {
  return { sym: name };
}

/**
 * The bytes a call moved: its `data`, else (send family) the buffer among its arguments, cut to
 * the count the call returned (a non-blocking `send` may take only part of it).
 * @example `dataOf({ fd: 3, call: "send", args: [Buffer.from("hello"), 5], result: 2, start: 0, duration: 0 }) // "he"`
 */
export function dataOf(ev: CallEvent): Buffer | undefined {
  if (ev.data !== undefined) return ev.data;
  if (ev.error !== undefined || !ev.call.startsWith("send")) return undefined;
  for (const a of ev.args) {
    if (!Buffer.isBuffer(a)) continue;
    const n = ev.result;
    return typeof n === "number" && n >= 0 && n < a.length ? a.subarray(0, n) : a;
  }
  return undefined;
}

/**
 * Publishes one call. Call only when {@link tracing} is true.
 * @example `publishCall({ fd: 3, call: "listen", args: [5], result: 0, start: t0, duration: traceNow() - t0 })`
 */
export function publishCall(ev: CallEvent): void {
  deliver(ev);
}

/**
 * Publishes a finished call: `error` if it failed, else `result`.
 * @example `traceDone(3, "bind", [["0.0.0.0", 8000]], t0, 0)`
 */
export function traceDone(
  fd: number,
  call: string,
  args: readonly TraceValue[],
  start: number,
  result: TraceValue | undefined,
  err?: unknown,
  data?: Buffer,
): void {
  const duration = performance.now() - start;
  const ev: { -readonly [K in keyof CallEvent]: CallEvent[K] } = { fd, call, args, start, duration };
  if (err !== undefined) {
    const e = err as { name?: string; code?: string; errno?: number; message?: string };
    ev.error = {
      name: String(e?.name ?? "Error"),
      code: String(e?.code ?? ""),
      errno: Number(e?.errno ?? 0),
      message: String(e?.message ?? err),
    };
  } else if (result !== undefined) {
    ev.result = result;
  }
  if (data !== undefined) ev.data = data;
  deliver(ev);
}

/**
 * One traced call in progress: made by {@link span} when someone subscribes, it publishes the
 * call once, with its result ({@link Span.ok}) or its error ({@link Span.fail}).
 *
 * @example
 * ```ts
 * const sp = span(fd, "connect", [["127.0.0.1", 80]]);
 * try {
 *   await doConnect();
 *   sp?.ok(0);
 * } catch (err) {
 *   sp?.fail(err);
 *   throw err;
 * }
 * ```
 */
export class Span {
  readonly #fd: number;
  readonly #call: string;
  readonly #args: readonly TraceValue[];
  /** When the call started; none for a counted call (if it is published after all, its end). */
  readonly #start: number | undefined;
  /** Only the sink listens and only counts such calls: counted, not published (see span()). */
  readonly #counting: TraceSink | undefined;

  /** Use {@link span}. */
  constructor(fd: number, call: string, args: readonly TraceValue[], counting?: TraceSink) {
    this.#fd = fd;
    this.#call = call;
    this.#args = args;
    this.#counting = counting;
    // a counted call reads no clock
    this.#start = counting === undefined ? performance.now() : undefined;
  }

  /** Publishes the call's success: its `result` and the bytes it moved, if any. */
  ok(result: TraceValue, data?: Buffer): void {
    const c = this.#counting;
    if (c !== undefined) {
      const bytes = data !== undefined ? data.length : typeof result === "number" ? result : 0;
      if (bytes > 0 && c.count(this.#fd, this.#call, bytes)) return;
    }
    traceDone(this.#fd, this.#call, this.#args, this.#start ?? performance.now(), result, undefined, data);
  }

  /** Publishes the call's failure. */
  fail(err: unknown): void {
    traceDone(this.#fd, this.#call, this.#args, this.#start ?? performance.now(), undefined, err);
  }
}

/**
 * Starts tracing one call, or returns undefined (at no cost) when nobody subscribes; the
 * arguments are given once, the outcome by `ok()` or `fail()`.
 * @example `const sp = span(3, "listen", [5]); sp?.ok(0);`
 */
export function span(fd: number, call: string, args: readonly TraceValue[]): Span | undefined {
  if (channel.hasSubscribers) return new Span(fd, call, args);
  const s = sink;
  if (s === undefined) return undefined;
  // only the exporter listens, and it only counts calls that move bytes: no clock, no event
  if (s.skipping && COUNTED.has(call)) return new Span(fd, call, args, s);
  return new Span(fd, call, args);
}

/**
 * The exporter's sink while it only counts calls that move bytes and nobody subscribes to the
 * channel, else undefined. A stream's send or recv that gets one builds no span, no argument
 * list and no closure: it hands its outcome to {@link countCall} as it completes (the hot calls
 * of a traced program pay only this check and a count; docs/performance.md, figure `tracing`).
 * @example `const c = counting(); const sp = c === undefined ? span(fd, "recv", [n]) : undefined;`
 */
export function counting(): TraceSink | undefined {
  const s = sink;
  return s !== undefined && s.skipping && !channel.hasSubscribers ? s : undefined;
}

/**
 * The end of a call started while {@link counting}: counted by the sink when it moved bytes
 * (`result`, the count), else — nothing moved, or the budget has room again — published in full
 * as {@link Span.ok} would, timed from now. `a0`, `a1`: its arguments (`a1` absent for one).
 * @example `countCall(c, 5, "recv", 1024, undefined, d.length, d)`
 */
export function countCall(
  c: TraceSink,
  fd: number,
  call: string,
  a0: TraceValue,
  a1: TraceValue | undefined,
  result: number,
  data?: Buffer,
): void {
  if (result > 0 && c.count(fd, call, result)) return;
  traceDone(fd, call, a1 === undefined ? [a0] : [a0, a1], performance.now(), result, undefined, data);
}

/** The calls a {@link TraceSink} may only count (those that move bytes). */
const COUNTED = new Set(["send", "sendall", "sendto", "recv", "recv_into", "recvfrom", "readline"]);

/**
 * Traces an asynchronous call: publishes it when `p` settles and returns `p`'s value or error.
 * `show` gives the result (default: the value when it is a number) and any data bytes.
 * @example `return traced(fd, "accept", [], acceptOne(), (c) => [[c.fd, addr]]);`
 */
export function traced<T>(
  sp: Span | undefined,
  p: Promise<T>,
  show?: (v: T) => readonly [TraceValue, Buffer?],
): Promise<T> {
  if (sp === undefined) return p;
  return p.then(
    (v) => {
      const [result, data] = show ? show(v) : [typeof v === "number" ? v : 0];
      sp.ok(result, data);
      return v;
    },
    (err: unknown) => {
      sp.fail(err);
      throw err;
    },
  );
}

const MAX_PREVIEW = 40;

/**
 * Renders bytes the way Python prints them: `b'hello\r\n'`, at most `max` bytes then `...`.
 * @example `bytesRepr(Buffer.from("hi\n")) // "b'hi\\n'"`
 */
export function bytesRepr(buf: Buffer, max = MAX_PREVIEW): string {
  const n = Math.min(buf.length, max);
  const tail = buf.length > max ? "'..." : "'";
  let plain = true; // printable ASCII that needs no escape: the bytes as they are
  for (let i = 0; i < n && plain; i++) {
    const c = buf[i]!;
    plain = c >= 0x20 && c < 0x7f && c !== 0x5c && c !== 0x27;
  }
  if (plain) return `b'${buf.toString("latin1", 0, n)}${tail}`;
  let s = "b'";
  for (let i = 0; i < n; i++) {
    const c = buf[i]!;
    if (c === 0x5c) s += "\\\\";
    else if (c === 0x27) s += "\\'";
    else if (c === 0x0a) s += "\\n";
    else if (c === 0x0d) s += "\\r";
    else if (c === 0x09) s += "\\t";
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return s + tail;
}

/**
 * Renders one trace value as Python would print it (`('127.0.0.1', 8000)`, `'x'`, `AF_INET`).
 * @example `renderValue(["127.0.0.1", 8000]) // "('127.0.0.1', 8000)"`
 */
export function renderValue(v: TraceValue | undefined): string {
  if (v === undefined || v === null) return "None";
  if (typeof v === "number") return String(v);
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "string")
    return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\0/g, "\\x00")}'`;
  if (Buffer.isBuffer(v)) return bytesRepr(v);
  if (Array.isArray(v)) return `(${v.map((x) => renderValue(x)).join(", ")})`;
  return (v as Sym).sym;
}

/**
 * Renders an event like strace: `recv(4, 1024) = 38 b'acknowledgement…'`.
 * @example `diagnostics_channel.subscribe(TRACE_CHANNEL, (ev) => console.error(renderCall(ev as CallEvent)))`
 */
export function renderCall(ev: CallEvent): string {
  // socket() creates the descriptor: it is the result, not an argument
  const args = (ev.fd >= 0 && ev.call !== "socket" ? [String(ev.fd)] : []).concat(
    ev.args.map((a) => renderValue(a)),
  );
  const head = `${ev.call}(${args.join(", ")})`;
  if (ev.error) return `${head} = -1 ${ev.error.code} (${ev.error.name})`;
  let tail = renderValue(ev.result);
  if (Array.isArray(ev.result) && ev.result.length === 2 && typeof ev.result[0] === "number") {
    // accept(): (newfd, address) renders as "4 ('127.0.0.1', 51514)"
    tail = `${ev.result[0]} ${renderValue(ev.result[1] as TraceValue)}`;
  }
  if (ev.data !== undefined && (ev.call.startsWith("recv") || ev.call === "read"))
    tail += ` ${bytesRepr(ev.data)}`;
  return `${head} = ${tail}`;
}
