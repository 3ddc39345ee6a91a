/**
 * The trace exporter's ring: socket calls written as compact binary records into a
 * `SharedArrayBuffer` on the traced program's thread; the exporter's worker copies them out as
 * they are ({@link TraceRing.take}) and the viewer reads them back ({@link decodeRecords}).
 * Writing a record costs a few typed-array stores and a copy of at most
 * {@link RING_PREVIEW} bytes, and no allocation: the program's thread never builds a string per
 * call (see docs/performance.md, figure `tracing`).
 *
 * One writer (the program's thread) and one reader (the worker): the writer owns `HEAD`, the
 * reader owns `TAIL`, both are published with `Atomics.store`, each on a cache line of its own.
 * Each side keeps the other's cursor as it last saw it and looks again only when that is not
 * enough (the writer when the ring seems full, the reader when it seems empty), and the reader
 * publishes its cursor every 32 records or when it has caught up: the program's thread touches
 * a line the worker writes about once per batch, not once per call. A record is written only where
 * {@link RECORD_MAX} contiguous bytes are free, so a record never wraps; a size of 0 tells the
 * reader to go on at offset 0. A full ring refuses the record: the exporter drops and counts it.
 *
 * @example
 * ```ts
 * const ring = new TraceRing(new SharedArrayBuffer(RING_CONTROL_BYTES + (1 << 20)));
 * ring.put(ev, 1, ev.fd, undefined, undefined, 0);
 * const rec = ring.next(); // { sock: 1, fd: 3, call: "listen", args: [5], result: 0, … }
 * ```
 * @module
 */
import type { CallEvent, Sym, TraceValue } from "./trace.js";

/** Bytes of a call's data a record keeps (the viewer shows them as hex). */
export const RING_PREVIEW = 64;
/** Bytes one record may take, at most; an event that needs more is refused (dropped, counted). */
export const RECORD_MAX = 16 * 1024;
/**
 * Bytes of records a ring needs at least: more than two records' room, so that a writer at or
 * past `size − RECORD_MAX` of an empty ring finds the start free (the reader is past RECORD_MAX).
 */
export const RING_MIN = 2 * RECORD_MAX + 8;
/**
 * Bytes before the records: the control words (Int32), four cache lines: what the writer writes,
 * what the reader writes, the flags, the kick.
 */
export const RING_CONTROL_BYTES = 256;

/** Control words (Int32 indices). The writer's offset. */
export const HEAD = 0;
/** Records the writer has written, all told (the exporter's; the ring does not count). */
export const WRITTEN = 1;
/** The reader's offset. */
export const TAIL = 16;
/** Records the reader has delivered or dropped, all told (the exporter's). */
export const DONE = 17;
/** 1: the viewer failed; the writer only counts until a probe gets through. */
export const DOWN = 32;
/** 1: the program ends; the reader sends everything at once. */
export const FLUSH = 33;
/** Notified every so many records: the reader wakes before its timer. */
export const KICK = 48;
/**
 * 1: the reader sleeps until kicked (nothing came since its last batch); the writer that finds
 * it so after a record clears it and kicks, so the first call after a quiet spell goes at once.
 */
export const IDLE = 49;
/** The reader publishes its cursor at least every this many records. */
const PUBLISH_EVERY = 32;

/**
 * UTF-16 units of a string a record keeps; longer ones are cut (the collector keeps no more).
 * @example `s.slice(0, RING_FIELD_CHARS)`
 */
export const RING_FIELD_CHARS = 512;
const FIELD_CHARS = RING_FIELD_CHARS;
/** Values in one list, at most (the collector takes 16 arguments). */
const LIST_MAX = 16;
/** Lists within lists, at most (an address inside accept's result is two). */
const DEPTH_MAX = 4;
/** Bytes a bytes argument keeps: what its rendering shows (40, and one more for its "..."). */
const ARG_BYTES = 41;

// value tags
const T_NUM = 0;
const T_STR = 1;
const T_SYM = 2;
const T_BYTES = 3;
const T_DATA = 4;
const T_NONE = 5;
const T_TRUE = 6;
const T_FALSE = 7;
const T_LIST = 8;

// record flags
const F_ERROR = 1;
const F_RESULT = 2;
const F_DATA = 4;
const F_NEWSOCK = 8;

/**
 * One call as read back from the ring: what the exporter's JSON record is made of.
 *
 * @example
 * ```ts
 * const r: RingRecord = { sock: 1, fd: 3, call: "recv", args: [1024], result: 5, len: 5,
 *   head: Buffer.from("hello"), start: 12.5, duration: 0.01 };
 * ```
 */
export interface RingRecord {
  /** The socket's id within the process. */
  readonly sock: number;
  /** The descriptor (for socket(), the one it made). */
  readonly fd: number;
  /** The call's name. */
  readonly call: string;
  /** The arguments; bytes are cut to what their rendering shows. */
  readonly args: readonly TraceValue[];
  /** The result (absent when the call failed or had none). */
  readonly result?: TraceValue;
  /** The error, when the call failed. */
  readonly error?: CallEvent["error"];
  /** The socket accept() made, within this process. */
  readonly newSock?: number;
  /** Bytes the call moved. */
  readonly len?: number;
  /** The first ≤ {@link RING_PREVIEW} of them. */
  readonly head?: Buffer;
  /** `performance.now()` of the writing thread when the call started, ms. */
  readonly start: number;
  /** How long it took, ms. */
  readonly duration: number;
}

/** A write that does not fit its record's room. */
const FULL = new Error("record full");

/**
 * The ring over one `SharedArrayBuffer` ({@link RING_CONTROL_BYTES} of control words, then the
 * records); both threads make one over the same buffer, the writer calls {@link TraceRing.put},
 * the reader {@link TraceRing.next}.
 *
 * @example
 * ```ts
 * const sab = new SharedArrayBuffer(RING_CONTROL_BYTES + (4 << 20));
 * const writer = new TraceRing(sab); // on the program's thread
 * const reader = new TraceRing(sab); // on the worker, from workerData
 * ```
 */
export class TraceRing {
  /** The control words, shared. */
  readonly ctl: Int32Array;
  /** The records' bytes (a Buffer: a Uint8Array with the string codecs). */
  readonly #buf: Buffer;
  readonly #dv: DataView;
  readonly #size: number;
  /** Writer: its cursor and the reader's as last seen. */
  #head = 0;
  #tailSeen = 0;
  /** Reader: its cursor, the writer's as last seen, records since it published its own. */
  #tail = 0;
  #headSeen = 0;
  #unpublished = 0;
  /** Writer: the cursor and the end of the current record's room. */
  #p = 0;
  #end = 0;
  #data: Uint8Array | undefined;

  /**
   * A view of `sab`: at least {@link RING_CONTROL_BYTES} + {@link RING_MIN} bytes (so that an
   * empty ring always has room for a record, before its end or at its start).
   */
  constructor(sab: SharedArrayBuffer) {
    if (sab.byteLength < RING_CONTROL_BYTES + RING_MIN)
      throw new RangeError(`TraceRing: the buffer needs ${RING_CONTROL_BYTES + RING_MIN} bytes or more`);
    this.ctl = new Int32Array(sab, 0, RING_CONTROL_BYTES / 4);
    // records start 8-aligned and are padded to 8 bytes: a wrap mark always fits
    this.#size = (sab.byteLength - RING_CONTROL_BYTES) & ~7;
    this.#buf = Buffer.from(sab, RING_CONTROL_BYTES, this.#size);
    this.#dv = new DataView(sab, RING_CONTROL_BYTES, this.#size);
  }

  /**
   * Writes one call; false when the ring has no room, the call does not fit a record or its name
   * is not a call's (1–32 of a–z and `_`; nothing is written then). `fd` is the descriptor to
   * record, `newSock` accept()'s new socket, `data` the bytes the call moved (`len` of them when
   * `data` is a copy of their start).
   */
  put(
    ev: CallEvent,
    sock: number,
    fd: number,
    newSock: number | undefined,
    data: Uint8Array | undefined,
    len: number,
  ): boolean {
    let at = this.#head;
    let where = this.#room(at, this.#tailSeen);
    if (where < 0) {
      // full as last seen: look again
      this.#tailSeen = Atomics.load(this.ctl, TAIL);
      where = this.#room(at, this.#tailSeen);
      if (where < 0) return false;
    }
    const wrap = where === 1;
    const mark = at;
    if (wrap) at = 0;
    this.#p = at + 4;
    this.#end = at + RECORD_MAX;
    this.#data = data;
    const dv = this.#dv;
    try {
      let flags = 0;
      if (ev.error !== undefined) flags |= F_ERROR;
      else if (ev.result !== undefined) flags |= F_RESULT;
      if (data !== undefined) flags |= F_DATA;
      if (newSock !== undefined) flags |= F_NEWSOCK;
      dv.setInt32(this.#p, sock, true);
      dv.setInt32(this.#p + 4, fd, true);
      dv.setFloat64(this.#p + 8, ev.start, true);
      dv.setFloat64(this.#p + 16, ev.duration, true);
      this.#buf[this.#p + 24] = flags;
      this.#p += 25;
      this.#name(ev.call);
      const args = ev.args;
      const n = args.length < LIST_MAX ? args.length : LIST_MAX;
      this.#fit(1);
      this.#buf[this.#p++] = n;
      for (let i = 0; i < n; i++) this.#value(args[i], 0);
      if (ev.error !== undefined) {
        const e = ev.error;
        this.#str(e.name);
        this.#str(e.code);
        this.#fit(8);
        // an errno is an integer (the reader refuses any other): one that is not is written as 0
        dv.setFloat64(this.#p, Number.isInteger(e.errno) ? e.errno : 0, true);
        this.#p += 8;
        this.#str(e.message);
      } else if (ev.result !== undefined) this.#value(ev.result, 0);
      if (newSock !== undefined) {
        this.#fit(4);
        dv.setInt32(this.#p, newSock, true);
        this.#p += 4;
      }
      if (data !== undefined) {
        const k = data.length < RING_PREVIEW ? data.length : RING_PREVIEW;
        this.#fit(5 + k);
        dv.setUint32(this.#p, len, true);
        this.#buf[this.#p + 4] = k;
        this.#p += 5;
        this.#copy(data, k);
      }
    } catch {
      this.#data = undefined;
      return false;
    }
    this.#data = undefined;
    const size = (this.#p - at + 7) & ~7;
    dv.setUint32(at, size, true);
    if (wrap) dv.setUint32(mark, 0, true);
    this.#head = at + size;
    Atomics.store(this.ctl, HEAD, this.#head);
    return true;
  }

  /**
   * Where a record goes with the writer at `at` and the reader at `tail`: 0 at `at`, 1 at the
   * start (no room before the end; the reader has left room there), -1 nowhere (full).
   */
  #room(at: number, tail: number): number {
    if (tail <= at) {
      if (this.#size - at > RECORD_MAX) return 0;
      return tail > RECORD_MAX ? 1 : -1;
    }
    return tail - at > RECORD_MAX ? 0 : -1;
  }

  #fit(k: number): void {
    if (this.#p + k > this.#end) throw FULL;
  }

  /** Copies the first `k` bytes of `src` (one native copy, but for a few bytes: a loop is cheaper). */
  #copy(src: Uint8Array, k: number): void {
    const u8 = this.#buf;
    const p = this.#p;
    if (k === src.length) u8.set(src, p);
    else if (k >= 24) u8.set(src.subarray(0, k), p);
    else for (let i = 0; i < k; i++) u8[p + i] = src[i]!;
    this.#p = p + k;
  }

  #str(s: string): void {
    const n = s.length < FIELD_CHARS ? s.length : FIELD_CHARS;
    this.#fit(2 + 2 * n);
    const dv = this.#dv;
    let p = this.#p;
    dv.setUint16(p, n, true);
    p += 2;
    for (let i = 0; i < n; i++, p += 2) dv.setUint16(p, s.charCodeAt(i), true);
    this.#p = p;
  }

  /** The call's name: refused (the record is not written) unless 1–32 of a–z and `_`. */
  #name(s: string): void {
    const n = s.length;
    if (n === 0 || n > CALL_NAME_MAX) throw FULL;
    this.#fit(2 + 2 * n);
    const dv = this.#dv;
    let p = this.#p;
    dv.setUint16(p, n, true);
    p += 2;
    for (let i = 0; i < n; i++, p += 2) {
      const u = s.charCodeAt(i);
      if ((u < 0x61 || u > 0x7a) && u !== 0x5f) throw FULL;
      dv.setUint16(p, u, true);
    }
    this.#p = p;
  }

  #value(v: TraceValue | undefined, depth: number): void {
    this.#fit(9);
    const u8 = this.#buf;
    if (typeof v === "number") {
      u8[this.#p] = T_NUM;
      this.#dv.setFloat64(this.#p + 1, v, true);
      this.#p += 9;
    } else if (typeof v === "string") {
      u8[this.#p++] = T_STR;
      this.#str(v);
    } else if (v === undefined || v === null) u8[this.#p++] = T_NONE;
    else if (v === true) u8[this.#p++] = T_TRUE;
    else if (v === false) u8[this.#p++] = T_FALSE;
    else if (v instanceof Uint8Array) {
      if (v === this.#data) {
        u8[this.#p++] = T_DATA;
        return;
      }
      const k = v.length < ARG_BYTES ? v.length : ARG_BYTES;
      u8[this.#p++] = T_BYTES;
      this.#fit(1 + k);
      u8[this.#p++] = k;
      this.#copy(v, k);
    } else if (Array.isArray(v)) {
      if (depth >= DEPTH_MAX) throw FULL;
      const list = v as readonly TraceValue[];
      const n = list.length < LIST_MAX ? list.length : LIST_MAX;
      u8[this.#p] = T_LIST;
      u8[this.#p + 1] = n;
      this.#p += 2;
      for (let i = 0; i < n; i++) this.#value(list[i], depth + 1);
    } else {
      u8[this.#p++] = T_SYM;
      this.#str(String((v as Sym).sym));
    }
  }

  /** Reader: the offset of the next record, or -1 when the ring is empty. */
  #begin(): number {
    for (;;) {
      const at = this.#tail;
      if (at === this.#headSeen) {
        this.#headSeen = Atomics.load(this.ctl, HEAD);
        if (at === this.#headSeen) {
          this.#publish();
          return -1;
        }
      }
      if (this.#dv.getUint32(at, true) !== 0) return at;
      this.#tail = 0; // the wrap mark: the next record is at the start
    }
  }

  /** Reader: past the record at `at`. */
  #past(at: number): void {
    this.#tail = at + this.#dv.getUint32(at, true);
    if (++this.#unpublished >= PUBLISH_EVERY || this.#tail === this.#headSeen) this.#publish();
  }

  #publish(): void {
    this.#unpublished = 0;
    Atomics.store(this.ctl, TAIL, this.#tail);
  }

  /**
   * Reader: whether records wait (the writer's cursor, read now, is not the reader's). A
   * sequentially consistent read: with {@link IDLE} it is the reader's half of a handshake in
   * which a record written as the reader goes to sleep is seen by one side or the other.
   */
  pending(): boolean {
    return Atomics.load(this.ctl, HEAD) !== this.#tail;
  }

  /** Reader: passes over the next record (read nothing of it); false when the ring is empty. */
  skip(): boolean {
    const at = this.#begin();
    if (at < 0) return false;
    this.#past(at);
    return true;
  }

  /** Reader: the next record, or undefined when the ring is empty. */
  next(): RingRecord | undefined {
    const at = this.#begin();
    if (at < 0) return undefined;
    const rec = readRecord(new Reader(this.#buf, this.#dv, true), at, at + this.#dv.getUint32(at, true))!;
    this.#past(at);
    return rec;
  }

  /**
   * Reader: copies whole records, as they are (each with its size word), into `out` from
   * `offset`, at most `max` of them and as many as fit; returns how many and where they end.
   * Records that lie one after another in the ring (up to the writer or the wrap) go in one copy.
   * The exporter's worker sends them so ({@link decodeRecords} reads them back).
   */
  take(out: Uint8Array, offset: number, max: number): { n: number; end: number } {
    const dv = this.#dv;
    let n = 0;
    let end = offset;
    while (n < max) {
      const at = this.#begin();
      if (at < 0) break;
      // the run of records from `at`: up to the writer as last seen, a wrap mark, or the room
      let p = at;
      let k = 0;
      while (n + k < max && p !== this.#headSeen) {
        const size = dv.getUint32(p, true);
        if (size === 0 || end + (p - at) + size > out.length) break;
        p += size;
        k++;
      }
      if (k === 0) break;
      out.set(this.#buf.subarray(at, p), end);
      end += p - at;
      n += k;
      this.#tail = p;
      this.#unpublished += k;
      if (this.#unpublished >= PUBLISH_EVERY || p === this.#headSeen) this.#publish();
    }
    return { n, end };
  }
}

/**
 * Reads back records copied out of a ring ({@link TraceRing.take}): at most `max` of them, each
 * checked (sizes, tags, counts, nesting, every read inside its record, the call's name, an
 * errno that is an integer), for bytes that came over the network. Throws a `RangeError`
 * naming the first thing wrong.
 *
 * @example
 * ```ts
 * const { n, end } = ring.take(out, 0, 1024);
 * const records = decodeRecords(out.subarray(0, end), 1024); // n records
 * ```
 */
export function decodeRecords(bytes: Uint8Array, max: number): RingRecord[] {
  const out: RingRecord[] = [];
  walkRecords(bytes, max, out);
  return out;
}

/**
 * Checks records as {@link decodeRecords} does, every check the same, and returns how many there
 * are, building nothing: the viewer checks a batch as it arrives and decodes it only when a page
 * or an export asks (a batch that passes here decodes without error).
 *
 * @example `const n = checkRecords(body.subarray(headEnd), 1024); // throws RangeError if malformed`
 */
export function checkRecords(bytes: Uint8Array, max: number): number {
  return walkRecords(bytes, max, undefined);
}

/** Walks the records, checking each; decodes them into `out` when given. Returns the count. */
function walkRecords(bytes: Uint8Array, max: number, out: RingRecord[] | undefined): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf, dv, out !== undefined);
  let n = 0;
  let at = 0;
  while (at < buf.length) {
    if (n >= max) throw new RangeError(`more than ${max} records`);
    if (at + 4 > buf.length) throw new RangeError(`record ${n}: cut short`);
    const size = dv.getUint32(at, true);
    if (size < 32 || size > RECORD_MAX || size % 8 !== 0 || at + size > buf.length)
      throw new RangeError(`record ${n}: a size of ${size} bytes is not a record's`);
    const rec = readRecord(r, at, at + size);
    if (out !== undefined) out.push(rec!);
    n++;
    at += size;
  }
  return n;
}

/** A call's name as sockit writes them (`recv`, `recv_into`): 1 to 32 of a–z and `_`. */
const CALL_NAME_MAX = 32;

/**
 * The record at `at` (its size word), reading nothing at or past `end`; built only when the
 * reader keeps what it reads (else undefined, with every check made).
 */
function readRecord(r: Reader, at: number, end: number): RingRecord | undefined {
  r.at(at + 4, end);
  const { buf, dv, keep } = r;
  r.need(25);
  const sock = dv.getInt32(r.p, true);
  const fd = dv.getInt32(r.p + 4, true);
  const start = dv.getFloat64(r.p + 8, true);
  const duration = dv.getFloat64(r.p + 16, true);
  const flags = buf[r.p + 24]!;
  r.p += 25;
  const call = r.name();
  const n = r.byte();
  if (n > LIST_MAX) throw new RangeError(`${n} arguments: at most ${LIST_MAX}`);
  const raw: TraceValue[] | undefined = keep ? [] : undefined;
  for (let i = 0; i < n; i++) {
    const v = r.value(0);
    raw?.push(v);
  }
  let result: TraceValue | undefined;
  let error: CallEvent["error"];
  if ((flags & F_ERROR) !== 0) {
    const name = r.str();
    const code = r.str();
    r.need(8);
    const errno = dv.getFloat64(r.p, true);
    if (!Number.isInteger(errno)) throw new RangeError(`an errno of ${errno}: not an integer`);
    r.p += 8;
    error = { name, code, errno, message: r.str() };
  } else if ((flags & F_RESULT) !== 0) result = r.value(0);
  let newSock: number | undefined;
  if ((flags & F_NEWSOCK) !== 0) {
    r.need(4);
    newSock = dv.getInt32(r.p, true);
    r.p += 4;
  }
  let len: number | undefined;
  let head: Buffer | undefined;
  if ((flags & F_DATA) !== 0) {
    r.need(5);
    len = dv.getUint32(r.p, true);
    const k = buf[r.p + 4]!;
    r.p += 5;
    if (k > RING_PREVIEW || k > len) throw new RangeError(`a preview of ${k} bytes of ${len}`);
    r.need(k);
    if (keep) head = Buffer.from(buf.subarray(r.p, r.p + k));
    r.p += k;
  } else if (r.sawData) throw new RangeError("a reference to data the record does not hold");
  if (!keep) return undefined;
  const rec: { -readonly [K in keyof RingRecord]: RingRecord[K] } = {
    sock,
    fd,
    call,
    args: raw!,
    start,
    duration,
  };
  if (error !== undefined) rec.error = error;
  if (newSock !== undefined) rec.newSock = newSock;
  if (head !== undefined && len !== undefined) {
    rec.len = len;
    rec.head = head;
    // the data among the arguments or in the result: the bytes its rendering shows
    const shown = head.subarray(0, Math.min(head.length, ARG_BYTES));
    const fill = (v: TraceValue): TraceValue =>
      v === DATA ? shown : Array.isArray(v) ? (v as TraceValue[]).map(fill) : v;
    rec.args = raw!.map(fill);
    if (result !== undefined) result = fill(result);
  }
  if (result !== undefined) rec.result = result;
  return rec;
}

/** Stands for the call's data in a read-back value until the data is read (it comes last). */
const DATA: Sym = { sym: "<data>" };

/**
 * A cursor over one record at a time: every read is checked against the record's end. A reader
 * that does not keep what it reads makes every check and builds nothing (strings are "", lists
 * and bytes null).
 */
class Reader {
  p = 0;
  /** A data reference was read (the record must then hold the data). */
  sawData = false;
  readonly buf: Buffer;
  readonly dv: DataView;
  readonly keep: boolean;
  #end = 0;

  constructor(buf: Buffer, dv: DataView, keep: boolean) {
    this.buf = buf;
    this.dv = dv;
    this.keep = keep;
  }

  /** Starts a record: its first byte after the size word, and its end. */
  at(p: number, end: number): void {
    this.p = p;
    this.#end = end;
    this.sawData = false;
  }

  need(k: number): void {
    if (this.p + k > this.#end) throw new RangeError("a record cut short");
  }

  byte(): number {
    this.need(1);
    return this.buf[this.p++]!;
  }

  /** A string's length in UTF-16 units, checked, with the cursor on its first unit. */
  #strLength(): number {
    this.need(2);
    const n = this.dv.getUint16(this.p, true);
    if (n > FIELD_CHARS) throw new RangeError(`a string of ${n} units: at most ${FIELD_CHARS}`);
    this.need(2 + 2 * n);
    this.p += 2;
    return n;
  }

  str(): string {
    const n = this.#strLength();
    const s = n === 0 || !this.keep ? "" : this.buf.toString("utf16le", this.p, this.p + 2 * n);
    this.p += 2 * n;
    return s;
  }

  /** The call's name: a string of 1 to {@link CALL_NAME_MAX} units, each a–z or `_`. */
  name(): string {
    const p = this.p;
    const n = this.#strLength();
    if (n === 0 || n > CALL_NAME_MAX) throw new RangeError(`a call's name of ${n} units`);
    for (let i = 0; i < n; i++) {
      const u = this.dv.getUint16(this.p + 2 * i, true);
      if ((u < 0x61 || u > 0x7a) && u !== 0x5f) throw new RangeError("a call's name is a–z and _");
    }
    this.p = p;
    return this.str();
  }

  value(depth: number): TraceValue {
    const tag = this.byte();
    switch (tag) {
      case T_NUM: {
        this.need(8);
        const v = this.dv.getFloat64(this.p, true);
        this.p += 8;
        return v;
      }
      case T_STR:
        return this.str();
      case T_SYM: {
        const sym = this.str();
        return this.keep ? { sym } : null;
      }
      case T_BYTES: {
        const k = this.byte();
        if (k > ARG_BYTES) throw new RangeError(`bytes of ${k}: at most ${ARG_BYTES}`);
        this.need(k);
        const b = this.keep ? Buffer.from(this.buf.subarray(this.p, this.p + k)) : null;
        this.p += k;
        return b;
      }
      case T_DATA:
        this.sawData = true;
        return DATA;
      case T_NONE:
        return null;
      case T_TRUE:
        return true;
      case T_FALSE:
        return false;
      case T_LIST: {
        if (depth >= DEPTH_MAX) throw new RangeError(`lists nested deeper than ${DEPTH_MAX}`);
        const n = this.byte();
        if (n > LIST_MAX) throw new RangeError(`a list of ${n}: at most ${LIST_MAX}`);
        const out: TraceValue[] | null = this.keep ? [] : null;
        for (let i = 0; i < n; i++) {
          const v = this.value(depth + 1);
          out?.push(v);
        }
        return out;
      }
      default:
        throw new RangeError(`an unknown value tag ${tag}`);
    }
  }
}
