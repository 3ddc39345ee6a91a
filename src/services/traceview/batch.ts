/**
 * The collector's input: a batch of trace events, checked field by field — binary as the
 * exporter POSTs it ({@link TRACE_BATCH_TYPE}: a header, then the records as its ring holds them)
 * or JSON (`{"events": [TraceRecord…], "dropped": N}`, also a saved trace). Anything else is
 * refused with a {@link BatchError} whose status the collector answers (400, 413).
 *
 * @module
 */
import { BATCH_HEAD_MAX, recordOf, TRACE_BATCH_TYPE, type TraceRecord } from "../../trace-export.js";
import { checkRecords, decodeRecords, RING_FIELD_CHARS } from "../../trace-ring.js";

/** A batch body larger than this is refused (413). */
export const MAX_BATCH_BYTES = 1024 * 1024;
/** Events in one batch, at most. */
export const MAX_BATCH_EVENTS = 4096;
/** Strings in an event (names, rendered arguments, messages) are cut to this many characters. */
export const MAX_FIELD_CHARS = RING_FIELD_CHARS;

/**
 * A batch the collector refuses: `status` is the HTTP status to answer (400 or 413).
 * @example `try { parseBatch(body) } catch (e) { if (e instanceof BatchError) res.writeHead(e.status) }`
 */
export class BatchError extends Error {
  override readonly name = "BatchError";
  /** The HTTP status for the answer. */
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * A checked batch: its events and the exporter's count of events it dropped so far.
 * @example `const { events, dropped } = parseBatch(body);`
 */
export interface Batch {
  readonly events: TraceRecord[];
  readonly dropped: number;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

function str(v: unknown, what: string, i: number): string {
  if (typeof v !== "string") throw new BatchError(400, `event ${i}: ${what} must be a string`);
  return v.slice(0, MAX_FIELD_CHARS);
}

function num(v: unknown, what: string, i: number, integer = false): number {
  if (typeof v !== "number" || !Number.isFinite(v) || (integer && !Number.isInteger(v)))
    throw new BatchError(400, `event ${i}: ${what} must be a finite ${integer ? "integer" : "number"}`);
  return v;
}

function record(v: unknown, i: number): TraceRecord {
  if (!isObj(v)) throw new BatchError(400, `event ${i} is not an object`);
  if (!Array.isArray(v.args) || v.args.length > 16)
    throw new BatchError(400, `event ${i}: args must be an array of at most 16 strings`);
  const call = str(v.call, "call", i);
  if (!CALL_NAME.test(call)) throw new BatchError(400, `event ${i}: call must be a call name`);
  const r: { -readonly [K in keyof TraceRecord]: TraceRecord[K] } = {
    pid: num(v.pid, "pid", i, true),
    proc: str(v.proc, "proc", i),
    sock: num(v.sock, "sock", i, true),
    fd: num(v.fd, "fd", i, true),
    call,
    args: v.args.map((a, k) => str(a, `args[${k}]`, i)),
    t: num(v.t, "t", i),
    dur: num(v.dur, "dur", i),
  };
  if (v.addr !== undefined) {
    if (!Array.isArray(v.addr) || v.addr.length !== 2)
      throw new BatchError(400, `event ${i}: addr must be [host, port]`);
    r.addr = [str(v.addr[0], "addr host", i), num(v.addr[1], "addr port", i, true)];
  }
  if (v.result !== undefined) r.result = str(v.result, "result", i);
  if (v.newSock !== undefined) r.newSock = num(v.newSock, "newSock", i, true);
  if (v.error !== undefined) {
    if (!isObj(v.error)) throw new BatchError(400, `event ${i}: error must be an object`);
    r.error = {
      name: str(v.error.name, "error.name", i),
      code: str(v.error.code, "error.code", i),
      errno: num(v.error.errno, "error.errno", i, true),
      message: str(v.error.message, "error.message", i),
    };
  }
  if (v.len !== undefined) r.len = num(v.len, "len", i, true);
  if (v.hex !== undefined) {
    const hex = str(v.hex, "hex", i);
    if (!/^(?:[0-9a-f]{2}){0,64}$/.test(hex))
      throw new BatchError(400, `event ${i}: hex must be ≤ 64 bytes of hex`);
    r.hex = hex;
  }
  return r;
}

/** A call's name, as {@link record} takes it. */
const CALL_NAME = /^[a-z_]{1,32}$/;

/**
 * Checks a batch body (a POST to `/events`, or a saved trace: a bare array of events) and
 * returns its events; throws {@link BatchError} (413: too large, 400: not JSON or not a batch).
 *
 * @example
 * ```ts
 * parseBatch(Buffer.from('{"events":[],"dropped":0}')) // { events: [], dropped: 0 }
 * ```
 */
export function parseBatch(
  body: Buffer | string,
  maxBytes = MAX_BATCH_BYTES,
  maxEvents = MAX_BATCH_EVENTS,
): Batch {
  const size = typeof body === "string" ? Buffer.byteLength(body) : body.length;
  if (size > maxBytes) throw new BatchError(413, `batch of ${size} bytes: at most ${maxBytes}`);
  let v: unknown;
  try {
    v = JSON.parse(typeof body === "string" ? body : body.toString("utf8"));
  } catch {
    throw new BatchError(400, "the batch is not JSON");
  }
  const list = Array.isArray(v) ? v : isObj(v) ? v.events : undefined;
  if (!Array.isArray(list)) throw new BatchError(400, 'a batch is {"events": [...]} or an array of events');
  if (list.length > maxEvents) throw new BatchError(413, `${list.length} events: at most ${maxEvents}`);
  const dropped = isObj(v) && v.dropped !== undefined ? v.dropped : 0;
  if (typeof dropped !== "number" || !Number.isInteger(dropped) || dropped < 0)
    throw new BatchError(400, "dropped must be a count");
  return { events: list.map((e, i) => record(e, i)), dropped };
}

/**
 * A binary batch checked as it arrived, its records kept as they came: what the viewer stores
 * (a few bytes per call, no object per call) until a page or an export asks for the events
 * ({@link eventsOf}).
 * @example `const b = checkBinaryBatch(body); kept.push(b); // later: eventsOf(b)`
 */
export interface BinaryBatch {
  /** The sending process, its name (cut) and its time origin (ms since the epoch). */
  readonly pid: number;
  readonly proc: string;
  readonly origin: number;
  /** Events the exporter dropped so far. */
  readonly dropped: number;
  /** The records, checked. */
  readonly records: Buffer;
  /** How many. */
  readonly count: number;
}

/**
 * Checks a binary batch (`content-type: application/vnd.sockit.trace-batch`, what the exporter
 * sends): its header, then every record (sizes, tags, counts, each read inside its record, the
 * call's name, an integer errno), building nothing per record. Throws {@link BatchError} (413:
 * too large or too many events, 400: anything malformed). A batch that passes decodes without
 * error ({@link eventsOf}) into events that {@link parseBatch} would take.
 *
 * @example
 * ```ts
 * checkBinaryBatch(batchHead({ pid: 1, proc: "x", origin: 0, dropped: 0 })).count // 0
 * ```
 */
export function checkBinaryBatch(
  body: Buffer,
  maxBytes = MAX_BATCH_BYTES,
  maxEvents = MAX_BATCH_EVENTS,
): BinaryBatch {
  if (body.length > maxBytes) throw new BatchError(413, `batch of ${body.length} bytes: at most ${maxBytes}`);
  if (body.length < 8 || body.toString("latin1", 0, 4) !== "SKTB")
    throw new BatchError(400, `a binary batch starts with SKTB (${TRACE_BATCH_TYPE})`);
  const headLength = body.readUInt32LE(4);
  if (headLength > BATCH_HEAD_MAX || 8 + headLength > body.length)
    throw new BatchError(
      400,
      `a batch header of ${headLength} bytes: at most ${BATCH_HEAD_MAX}, within the body`,
    );
  let h: unknown;
  try {
    h = JSON.parse(body.toString("utf8", 8, 8 + headLength));
  } catch {
    throw new BatchError(400, "the batch header is not JSON");
  }
  if (!isObj(h)) throw new BatchError(400, "the batch header is not an object");
  const { pid, proc, origin, dropped } = h;
  if (typeof pid !== "number" || !Number.isInteger(pid) || pid < 0)
    throw new BatchError(400, "the batch header's pid must be a process id");
  if (typeof proc !== "string") throw new BatchError(400, "the batch header's proc must be a string");
  if (typeof origin !== "number" || !Number.isFinite(origin))
    throw new BatchError(400, "the batch header's origin must be a finite number");
  if (typeof dropped !== "number" || !Number.isInteger(dropped) || dropped < 0)
    throw new BatchError(400, "dropped must be a count");
  const records = body.subarray(8 + headLength);
  let count;
  try {
    count = checkRecords(records, maxEvents);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new BatchError(/^more than/.test(why) ? 413 : 400, `bad records: ${why}`);
  }
  return { pid, proc: proc.slice(0, MAX_FIELD_CHARS), origin, dropped, records, count };
}

/**
 * The events of a checked binary batch, rendered as the viewer shows them.
 * @example `const events = eventsOf(checkBinaryBatch(body));`
 */
export function eventsOf(b: BinaryBatch): TraceRecord[] {
  return decodeRecords(b.records, b.count).map((r) => recordOf(r, b.pid, b.proc, b.origin));
}

/**
 * Checks a binary batch ({@link checkBinaryBatch}) and returns its events ({@link eventsOf}).
 * Throws {@link BatchError} (413: too large or too many events, 400: anything malformed).
 *
 * @example
 * ```ts
 * parseBinaryBatch(Buffer.concat([batchHead({ pid: 1, proc: "x", origin: 0, dropped: 0 })]))
 * // { events: [], dropped: 0 }
 * ```
 */
export function parseBinaryBatch(
  body: Buffer,
  maxBytes = MAX_BATCH_BYTES,
  maxEvents = MAX_BATCH_EVENTS,
): Batch {
  const b = checkBinaryBatch(body, maxBytes, maxEvents);
  return { events: eventsOf(b), dropped: b.dropped };
}
