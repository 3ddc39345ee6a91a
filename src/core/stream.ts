/**
 * A connected stream socket (TCP or Unix) with pull-based, bounded I/O over `node:net`.
 *
 * Receive side: chunks from Node's 'data' events go into a list; above the high-water mark the
 * socket is paused, so the kernel buffer fills and TCP flow control slows the peer. `recv(n)`
 * hands back at most n bytes as soon as any are there, slicing without copying where it can.
 *
 * Send side: `send()` writes at once when Node's write buffer is below its high-water mark and
 * otherwise waits for 'drain' first, so a peer that stops reading stops the sender instead of
 * growing memory. Both faces (Berkeley and Go-style) use this class; neither does I/O itself.
 *
 * Why this file is longer than the others (~750 lines): it is one class whose private state has
 * to stay in one object — an idle connection is mostly this object (see the idle-memory figure
 * in docs/performance.md), and helper objects per connection would cost what the design saves.
 * What can live apart does: the receive queue (chunks.ts, a base class, so still one object),
 * the Node event wiring (stream-node.ts) and the connect call (connect-stream.ts).
 *
 * @module
 */
import * as fs from "node:fs";
import * as net from "node:net";
import {
  BrokenPipeError,
  closedError,
  FrameTooLargeError,
  makeOSError,
  type OSError,
  toSocketError,
  toSSLError,
} from "../errors/index.js";
import { CLOSE_LINGER_MS, DISPOSE_FLUSH_MS, RECV_HIGH_WATER } from "../limits.js";
import {
  countCall,
  counting,
  type Span,
  span,
  sym,
  traceDone,
  traced,
  traceNow,
  tracing,
  type TraceSink,
} from "../trace.js";
import { type Endpoint, formatEndpoint, fromNode, isUnix, peerFromHandle } from "./endpoint.js";
import { allocFd, releaseFd } from "./fd.js";
import { ChunkQueue } from "./chunks.js";
import { attach, detach, reset } from "./stream-node.js";
import { type Wait, WaitList, Watchers } from "./wait.js";

const EMPTY = Buffer.alloc(0);

/** A Buffer view of caller bytes (no copy), for traces. */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Largest slice handed to Node in one write (see {@link StreamSocket.send}). */
const WRITE_SLICE = 256 * 1024;

const PAUSED = 1;
const EOF = 2;
const RD_SHUT = 4;
const WR_SHUT = 8;
const CLOSED = 16;
const BROKEN = 32;

/** What only some connections need, made on first use. */
interface Extras {
  unix?: UnixNames;
  local?: Endpoint;
  highWater: number;
  want: number;
  readers?: WaitList;
  writers?: WaitList;
  watchers?: Watchers;
}

/** The names of a Unix-domain connection's two ends (a missing one is unnamed: ""). */
export interface UnixNames {
  readonly local?: string;
  readonly remote?: string;
}

/** Flags for {@link StreamSocket.recv}. */
export interface RecvFlags {
  /** Return data without consuming it (MSG_PEEK). */
  readonly peek?: boolean;
  /** Wait for all n bytes unless EOF or an error comes first (MSG_WAITALL). */
  readonly waitall?: boolean;
}

/**
 * A connected TCP or Unix stream socket. Made by {@link connectStream} or by a listener's accept.
 *
 * @example
 * ```ts
 * const s = await connectStream({ address: "127.0.0.1", port: 7, family: 4 });
 * await s.send(Buffer.from("hi"));
 * const reply = await s.recv(1024); // at most 1024 bytes; empty Buffer at EOF
 * await s.close();
 * ```
 */
export class StreamSocket extends ChunkQueue {
  /** The small per-process descriptor number (traces, `fileno()`). */
  readonly fd: number;
  readonly #sock: net.Socket;
  // An idle connection is mostly this object, so its state is kept small (see the idle-memory
  // figure in docs/performance.md): the six booleans share one number, and what only some
  // connections need (Unix names, a raised receive mark, wait lists, select watchers) lives in
  // one object made on first use.
  #f = 0;
  // the pending socket error (the kernel's sk_err): raised once, by the first recv (after the
  // bytes that arrived before it) or send that meets it, as Linux does; later calls see EOF or EPIPE
  #error: unknown;
  // the one plain recv() waiting without flags, timeout or signal: served straight from the
  // 'data' handler, without an async frame or a retry loop (the idle state of most servers)
  // (kept as three fields, not an object: the idle state is the common one)
  #slotN = 0; // 0: nobody waits
  #slotResolve: ((b: Buffer) => void) | undefined;
  #slotReject: ((e: unknown) => void) | undefined;
  /** How the waiting recv() is traced: a span, or (the exporter only counts) its sink. */
  #slotSpan: Span | undefined;
  #slotCount: TraceSink | undefined;
  #x: Extras | undefined;
  // the peer (TCP), kept from the start: the kernel forgets it once the connection is closed,
  // and error messages after a reset still name it; two fields, the Endpoint made on demand
  #peerHost: string | undefined;
  #peerPort = 0;
  #received = 0;
  #sent = 0;

  get #paused(): boolean {
    return (this.#f & PAUSED) !== 0;
  }
  set #paused(v: boolean) {
    this.#f = v ? this.#f | PAUSED : this.#f & ~PAUSED;
  }
  get #eof(): boolean {
    return (this.#f & EOF) !== 0;
  }
  set #eof(v: boolean) {
    this.#f = v ? this.#f | EOF : this.#f & ~EOF;
  }
  get #rdShut(): boolean {
    return (this.#f & RD_SHUT) !== 0;
  }
  set #rdShut(v: boolean) {
    this.#f = v ? this.#f | RD_SHUT : this.#f & ~RD_SHUT;
  }
  get #wrShut(): boolean {
    return (this.#f & WR_SHUT) !== 0;
  }
  set #wrShut(v: boolean) {
    this.#f = v ? this.#f | WR_SHUT : this.#f & ~WR_SHUT;
  }
  get #closed(): boolean {
    return (this.#f & CLOSED) !== 0;
  }
  set #closed(v: boolean) {
    this.#f = v ? this.#f | CLOSED : this.#f & ~CLOSED;
  }
  /** The connection failed (reset, refused write, …): set with the first error, never cleared. */
  get #broken(): boolean {
    return (this.#f & BROKEN) !== 0;
  }
  set #broken(v: boolean) {
    this.#f = v ? this.#f | BROKEN : this.#f & ~BROKEN;
  }

  get #ext(): Extras {
    this.#x ??= { highWater: RECV_HIGH_WATER, want: 0 };
    return this.#x;
  }
  get #unix(): UnixNames | undefined {
    return this.#x?.unix;
  }
  get #highWater(): number {
    return this.#x?.highWater ?? RECV_HIGH_WATER;
  }
  /** Bytes a MSG_WAITALL reader needs: may lift the high-water mark while it waits. */
  get #want(): number {
    return this.#x?.want ?? 0;
  }
  set #want(v: number) {
    if (v !== 0 || this.#x !== undefined) this.#ext.want = v;
  }

  /**
   * Wraps a connected Node socket (takes ownership: its 'error' and 'end' listeners are
   * replaced). `unix` gives a Unix connection's names (Node reports none): the listener's path
   * is the accepted side's local name and the connecting side's peer name; the client end is
   * unnamed (""). A socket from a `pauseOnConnect` server starts reading only now.
   */
  constructor(sock: net.Socket, fd?: number, unix?: UnixNames, remote?: Endpoint) {
    super();
    this.fd = fd ?? allocFd();
    this.#sock = sock;
    if (unix !== undefined) this.#ext.unix = unix;
    else if (remote !== undefined && !isUnix(remote)) {
      this.#peerHost = remote.address; // a dialled peer is known already
      this.#peerPort = remote.port;
    } else this.#keepPeer();
    attach(sock, this); // module-level listeners, one per event
    // an error that came while the connection waited in an accept queue is its pending error
    if (sock.errored !== null) this.#fail(sock.errored);
    sock.resume();
  }

  /** @internal 'data' from Node. */
  _data(chunk: Buffer): void {
    if (this.#rdShut || this.#closed) return; // SHUT_RD: discard
    const n = this.#slotN;
    if (n !== 0 && this.bufferedBytes === 0 && chunk.length <= n) {
      // a plain recv() is waiting and nothing is queued: hand the chunk over as it is
      this.#received += chunk.length;
      this.#slotDone(chunk);
      this.#x?.watchers?.notify();
      return;
    }
    this.pushChunk(chunk);
    this.#received += chunk.length;
    if (!this.#paused && this.bufferedBytes >= Math.max(this.#highWater, this.#want)) {
      this.#paused = true;
      this.#sock.pause();
    }
    if (n !== 0) this.#slotDone(this.#take(n, false));
    this.#x?.readers?.wake();
    this.#x?.watchers?.notify();
  }

  /** Settles the waiting plain recv() (if any) at EOF, on an error or on close. */
  #settleSlot(): void {
    const n = this.#slotN;
    if (n === 0) return;
    if (this.#closed) this.#slotFail(closedError("recv"));
    else if (this.bufferedBytes > 0) this.#slotDone(this.#take(n, false));
    else if (this.#error !== undefined && !this.#rdShut) this.#slotFail(this.#takeError("recv"));
    else this.#slotDone(EMPTY);
  }

  /** Settles the waiting recv() with `d` (the slot is emptied first), traced as it began. */
  #slotDone(d: Buffer): void {
    const resolve = this.#slotResolve!;
    const sp = this.#slotSpan;
    const c = this.#slotCount;
    const n = this.#clearSlot();
    if (c !== undefined) countCall(c, this.fd, "recv", n, undefined, d.length, d);
    else sp?.ok(d.length, d);
    resolve(d);
  }

  /** Fails the waiting recv() with `e` (the slot is emptied first), traced as it began. */
  #slotFail(e: unknown): void {
    const reject = this.#slotReject!;
    const sp = this.#slotSpan;
    const c = this.#slotCount;
    const n = this.#clearSlot();
    if (c !== undefined) traceDone(this.fd, "recv", [n], traceNow(), undefined, e);
    else sp?.fail(e);
    reject(e);
  }

  /** Empties the slot; returns the count it asked for. */
  #clearSlot(): number {
    const n = this.#slotN;
    this.#slotN = 0;
    this.#slotResolve = undefined;
    this.#slotReject = undefined;
    this.#slotSpan = undefined;
    this.#slotCount = undefined;
    return n;
  }

  /** @internal 'end', 'close', 'error', 'drain' from Node. */
  _event(kind: "end" | "close" | "error" | "drain", err?: unknown): void {
    if (kind === "error") this.#fail(err);
    if (kind === "end" && !this.#eof) this.#probeReset();
    if (kind === "end" || kind === "close") {
      // remember the names while the kernel still knows them
      if (!this.#eof) this.#keepNames();
      this.#eof = true;
    }
    if (kind !== "drain") this.#settleSlot();
    if (kind !== "drain") this.#x?.readers?.wake();
    if (kind !== "end") this.#x?.writers?.wake();
    this.#x?.watchers?.notify();
  }

  /** Records the first error of the connection (later ones are its consequences). */
  #fail(err: unknown): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#error = err;
  }

  /**
   * Tells a reset from an orderly close at EOF. libuv 1.46 (Node 20) reports "data, then a reset"
   * as a clean EOF (POLLHUP after a partial read; libuv issue 2319) and never reads the error, so
   * the kernel still holds it: a zero-length write(2) on the descriptor returns it (ECONNRESET)
   * without sending anything, and returns 0 (CLOSE_WAIT) or EPIPE (both sides closed) after a FIN.
   * This works whether or not our write side is shut, which no write through Node could do.
   */
  #probeReset(): void {
    if (this.#unix !== undefined || this.#broken) return;
    // a TLS socket's handle wraps the TCP one (its _parent), which holds the descriptor
    const h = (this.#sock as unknown as { _handle?: { fd?: number; _parent?: { fd?: number } } | null })
      ._handle;
    const fd = h?.fd ?? h?._parent?.fd;
    if (typeof fd !== "number" || fd < 0) return;
    try {
      fs.writeSync(fd, EMPTY);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      // EPIPE: the connection closed in order (both FINs), or a reset came after the peer's FIN —
      // Linux's recv reports EOF for both; anything else is the error the kernel kept for us
      if (code !== "EPIPE" && code !== "EAGAIN") this.#fail(Object.assign(new Error(String(code)), { code }));
    }
  }

  /** Hands out the pending error once (Linux's sock_error): later calls see EOF or EPIPE. */
  #takeError(op: string): OSError {
    const err = this.#convert(this.#error, op);
    this.#error = undefined;
    return err;
  }

  /** The error a send meets once the pending one was handed out: the connection is gone. */
  #brokenPipe(op: string, hint: string): OSError {
    return new BrokenPipeError("EPIPE", { op, address: formatEndpoint(this.remoteEndpoint()), hint });
  }

  get #readers(): WaitList {
    return (this.#ext.readers ??= new WaitList());
  }

  get #writers(): WaitList {
    return (this.#ext.writers ??= new WaitList());
  }

  /** The peer, formatted (called only when an error message needs it). */
  peerText(): string {
    return formatEndpoint(this.remoteEndpoint());
  }

  /** The local endpoint (cached after the first call). */
  localEndpoint(): Endpoint | undefined {
    const x = this.#x;
    if (x?.local !== undefined) return x.local;
    const unix = x?.unix;
    const local = unix ? { path: unix.local ?? "" } : fromNode(this.#sock.address() as net.AddressInfo);
    if (local !== undefined) this.#ext.local = local;
    return local;
  }

  /** The peer's endpoint (cached after the first call). */
  remoteEndpoint(): Endpoint | undefined {
    const unix = this.#unix;
    if (unix !== undefined) return { path: unix.remote ?? "" };
    const host = this.#peerHost;
    if (host === undefined) return undefined;
    return { address: host, port: this.#peerPort, family: host.includes(":") ? 6 : 4 };
  }

  /** Reads the peer's name from the handle (not Node's remoteAddress, which keeps a copy). */
  #keepPeer(): void {
    const peer = peerFromHandle(this.#sock);
    if (peer === undefined) return;
    this.#peerHost = peer.address;
    this.#peerPort = peer.port;
  }

  /** Keeps the local name for good (called when the connection ends, before the kernel forgets it). */
  #keepNames(): void {
    this.localEndpoint();
  }

  /** Bytes handed to Node but not yet written to the kernel. */
  get writableLength(): number {
    return this.#sock.writableLength;
  }

  /** Total bytes received and sent over this connection. */
  get counters(): { received: number; sent: number } {
    return { received: this.#received, sent: this.#sent };
  }

  /** The receive high-water mark in bytes (`SO_RCVBUF`). */
  get receiveBufferSize(): number {
    return this.#highWater;
  }

  set receiveBufferSize(n: number) {
    this.#ext.highWater = n;
    this.#maybeResume();
  }

  /** True when the socket has been closed locally. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True when a recv would not wait: data buffered, EOF, or an error pending. */
  get readable(): boolean {
    return this.bufferedBytes > 0 || this.#eof || this.#rdShut || this.#broken || this.#closed;
  }

  /** True when the peer has closed its side and every byte has been read (poll's POLLHUP). */
  get hangup(): boolean {
    return this.#eof && this.bufferedBytes === 0;
  }

  /**
   * True once the peer's FIN has been seen, even with bytes of it still unread (Linux's
   * RCV_SHUTDOWN from the peer); also once the connection is gone. The FIN is seen when sockit
   * has read up to it: it reads ahead up to the receive high-water mark.
   */
  get finReceived(): boolean {
    return this.#eof;
  }

  /** True once our write side is shut (`shutdown(false, true)`): Linux's SEND_SHUTDOWN. */
  get writeShut(): boolean {
    return this.#wrShut;
  }

  /** True once our read side is shut (`shutdown(true, false)`). */
  get readShut(): boolean {
    return this.#rdShut;
  }

  /** True once the connection failed (reset, refused write): the kernel has closed it (TCP_CLOSE). */
  get broken(): boolean {
    return this.#broken;
  }

  /** True when a send would not wait. */
  get writable(): boolean {
    return !this.#sock.writableNeedDrain || this.#broken || this.#closed;
  }

  /** The pending error as an OSError, if any, without consuming it (SO_ERROR reads it). */
  pendingError(op: string): OSError | undefined {
    return this.#error === undefined ? undefined : this.#convert(this.#error, op);
  }

  /** Calls `cb` whenever readiness may have changed (for select()); returns the remover. */
  watch(cb: () => void): () => void {
    return (this.#ext.watchers ??= new Watchers()).add(cb);
  }

  /** Sets TCP_NODELAY. */
  setNoDelay(on: boolean): void {
    this.#sock.setNoDelay(on);
  }

  /** Sets SO_KEEPALIVE (with Node's default probe delay when on). */
  setKeepAlive(on: boolean, initialDelayMs = 0): void {
    this.#sock.setKeepAlive(on, initialDelayMs);
  }

  /**
   * Receives at most `n` bytes, as soon as at least one is available; an empty Buffer at EOF.
   * With `waitall`, waits for all n unless EOF or an error comes first. Buffered bytes are
   * handed out before a pending error is raised.
   */
  recv(n: number, flags?: RecvFlags, w?: Wait): Promise<Buffer> {
    // traced, the call keeps its fast paths and is published as it completes (no extra
    // promise); while the exporter only counts, it builds no span at all
    const c = counting();
    const sp = c === undefined ? span(this.fd, "recv", [n]) : undefined;
    if (flags === undefined && !this.#closed && !this.#rdShut) {
      // fast path: bytes are waiting and no flag changes what to take
      if (this.bufferedBytes > 0) {
        const d = this.#take(n, false);
        if (c !== undefined) countCall(c, this.fd, "recv", n, undefined, d.length, d);
        else sp?.ok(d.length, d);
        return Promise.resolve(d);
      }
      // idle path: wait in the slot, served directly by the 'data' handler
      if (
        w === undefined &&
        n > 0 &&
        this.#slotN === 0 &&
        !this.#broken &&
        !this.#eof &&
        (this.#x?.readers === undefined || this.#x.readers.size === 0)
      ) {
        this.#maybeResume();
        return new Promise<Buffer>((resolve, reject) => {
          this.#slotN = n;
          this.#slotResolve = resolve;
          this.#slotReject = reject;
          this.#slotSpan = sp;
          this.#slotCount = c;
        });
      }
    }
    // the other paths trace through a span (a counting one while the exporter only counts)
    const slow = c === undefined ? sp : span(this.fd, "recv", [n]);
    return traced(slow, this.#recv(n, flags, w, "recv"), (d) => [d.length, d]);
  }

  /**
   * Receives at most `nbytes` into `buf` (from offset 0); resolves the count, 0 at EOF.
   */
  recvInto(buf: Uint8Array, nbytes: number, flags?: RecvFlags, w?: Wait): Promise<number> {
    const sp = span(this.fd, "recv_into", [nbytes]);
    const p = this.#recv(nbytes, flags, w, "recv_into").then((data) => {
      buf.set(data, 0);
      sp?.ok(data.length, data);
      return data.length;
    });
    return sp === undefined ? p : p.catch((err: unknown) => (sp.fail(err), Promise.reject(err)));
  }

  /**
   * Receives one line: bytes up to and including the first `delim` (default LF). At EOF it
   * returns what is left (possibly without `delim`; empty when nothing is). Rejects
   * FrameTooLargeError when `max` bytes arrive without `delim` (they stay buffered).
   */
  recvLine(max: number, w?: Wait, delim = 0x0a): Promise<Buffer> {
    const sp = tracing() ? span(this.fd, "readline", [max]) : undefined;
    return traced(sp, this.#recvLine(max, w, delim), (line) => [line.length, line]);
  }

  async #recvLine(max: number, w: Wait | undefined, delim: number): Promise<Buffer> {
    this.#want = max;
    try {
      let scanned = 0;
      for (;;) {
        if (this.#closed) throw closedError("readline");
        if (this.#rdShut) return EMPTY;
        const at = this.findByte(delim, scanned, max);
        if (at >= 0) {
          return this.#take(at + 1, false);
        }
        scanned = Math.min(this.bufferedBytes, max);
        if (this.bufferedBytes >= max) {
          throw new FrameTooLargeError(
            `readline: no line end within ${max} bytes — raise max or check that the peer sends newlines`,
            max,
          );
        }
        if (this.#eof || this.#broken) {
          if (this.bufferedBytes > 0) return this.#take(this.bufferedBytes, false);
          if (this.#error !== undefined) throw this.#takeError("readline");
          return EMPTY;
        }
        this.#maybeResume();
        await this.#readers.wait(w, "readline", this);
      }
    } finally {
      this.#want = 0;
    }
  }

  async #recv(n: number, flags: RecvFlags | undefined, w: Wait | undefined, op: string): Promise<Buffer> {
    // MSG_WAITALL waits for all n bytes, with or without MSG_PEEK (Linux)
    const waitall = flags?.waitall === true;
    if (waitall) this.#want = n;
    try {
      for (;;) {
        if (this.#closed) throw closedError(op);
        if (this.#rdShut) return EMPTY;
        if (this.bufferedBytes > 0 && (!waitall || this.bufferedBytes >= n || this.#eof || this.#broken)) {
          return this.#take(n, flags?.peek === true);
        }
        if (n === 0) return EMPTY;
        if (this.#error !== undefined) {
          // MSG_PEEK reports the error without clearing it, as Linux's recv does
          if (flags?.peek === true) throw this.#convert(this.#error, op);
          throw this.#takeError(op);
        }
        if (this.#eof || this.#broken) return EMPTY;
        this.#maybeResume();
        await this.#readers.wait(w, op, this);
      }
    } finally {
      if (waitall) this.#want = 0;
    }
  }

  #take(n: number, peek: boolean): Buffer {
    const out = this.takeBytes(n, peek);
    if (!peek) this.#maybeResume();
    return out;
  }

  #maybeResume(): void {
    if (this.#paused && this.bufferedBytes < Math.max(this.#highWater, this.#want)) {
      this.#paused = false;
      this.#sock.resume();
    }
  }

  /**
   * Sends all of `data`: waits first while Node's write buffer is above its high-water mark (so
   * memory stays bounded), then hands the bytes over; resolves the byte count.
   */
  send(data: Uint8Array, w?: Wait, op = "send"): Promise<number> {
    // while the exporter only counts, the call builds no span: it is counted as it completes
    const c = counting();
    const sp = c === undefined && tracing() ? span(this.fd, op, [asBuffer(data), data.length]) : undefined;
    return this.#send(data, w, op, sp, c);
  }

  /**
   * Sends (see send()); a traced call is published here as it completes (no extra promise): `sp`
   * its span, or `c` the sink that counts it.
   */
  async #send(
    data: Uint8Array,
    w: Wait | undefined,
    op: string,
    sp: Span | undefined,
    c?: TraceSink,
  ): Promise<number> {
    try {
      const nonblocking = w?.nonblocking === true;
      // big buffers go out in slices (no copy), each waiting for room: the Node-side queue
      // never holds more than the write high-water mark plus one slice
      let off = 0;
      do {
        // a non-blocking send() that got part out reports the part, as send(2) does
        if (nonblocking && off > 0 && op === "send" && this.#sock.writableNeedDrain) break;
        while (this.#sock.writableNeedDrain && !this.#broken && !this.#closed) {
          await this.#writers.wait(w, op, this);
        }
        this.#checkWritable(op);
        const end = Math.min(data.length, off + WRITE_SLICE);
        if (end > off) {
          const slice = off === 0 && end === data.length ? data : data.subarray(off, end);
          // a non-blocking send may not wait for the kernel, so Node gets a copy it may keep
          this.#sock.write(nonblocking ? Buffer.from(slice) : slice);
          // a write the kernel refused at once (peer gone) is known now, though Node reports it
          // only a tick later: the caller hears it from this very call, as from send(2)
          const refused = this.#sock.errored;
          if (refused !== null) {
            this.#fail(refused);
            this.#checkWritable(op);
          }
        }
        this.#sent += end - off;
        off = end;
      } while (off < data.length);
      // the caller may reuse its buffer once we resolve (Python's sendall, Go's io.Writer): if
      // Node still holds some of it, wait until it has gone to the kernel. Fast path: libuv
      // wrote it synchronously and nothing is queued.
      if (!nonblocking && this.#sock.writableLength > 0 && data.length > 0) {
        let written = false;
        this.#sock.write(EMPTY, (err) => {
          written = err == null;
          if (err != null) this.#fail(err);
          this.#writers.wake();
        });
        while (!written && !this.#broken && !this.#closed) {
          await this.#writers.wait(w, op, this);
        }
        // our bytes are in the kernel, or the connection failed before they got there
        if (!written) this.#checkWritable(op, true);
      }
      if (c !== undefined) countCall(c, this.fd, op, asBuffer(data), data.length, off);
      else sp?.ok(off);
      return off;
    } catch (err) {
      if (c !== undefined) traceDone(this.fd, op, [asBuffer(data), data.length], traceNow(), undefined, err);
      else sp?.fail(err);
      throw err;
    }
  }

  /** Waits until everything handed to Node has been written to the kernel (or an error). */
  async flush(w?: Wait): Promise<void> {
    while (this.#sock.writableLength > 0 && !this.#broken && !this.#closed) {
      if (!this.#sock.writableNeedDrain) {
        // no 'drain' will come below the mark: wait for the write callbacks instead
        await new Promise<void>((resolve) => this.#sock.write(EMPTY, () => resolve()));
        continue;
      }
      await this.#writers.wait(w, "flush", this);
    }
    if (this.#sock.writableLength > 0) this.#checkWritable("send", true);
  }

  /**
   * Throws what a send meets now: EBADF once closed, the pending error once (ECONNRESET after a
   * reset, as Linux), then EPIPE; EPIPE after SHUT_WR. With `failed`, throws in any case (bytes
   * did not reach the kernel).
   */
  #checkWritable(op: string, failed = false): void {
    if (this.#closed) throw closedError(op);
    if (this.#error !== undefined) throw this.#takeError(op);
    if (this.#broken || failed) {
      throw this.#brokenPipe(op, "the connection was reset or failed earlier; data sent now is lost");
    }
    if (this.#wrShut || this.#sock.writableEnded) {
      throw this.#brokenPipe(op, "the write side was shut down (shutdown(SHUT_WR) or closeWrite())");
    }
  }

  /**
   * Half-closes: `read` stops receiving (later recv calls return EOF, incoming bytes are
   * discarded), `write` sends FIN after queued bytes (the peer reads EOF and can still answer).
   */
  shutdown(read: boolean, write: boolean): void {
    if (this.#closed) throw closedError("shutdown");
    const sp = tracing()
      ? span(this.fd, "shutdown", [sym(read && write ? "SHUT_RDWR" : read ? "SHUT_RD" : "SHUT_WR")])
      : undefined;
    if (!this.#stillConnected()) {
      const err = makeOSError("ENOTCONN", {
        op: "shutdown",
        address: formatEndpoint(this.remoteEndpoint()),
        hint: "the connection is already gone (reset, or both sides have shut down)",
      });
      sp?.fail(err);
      throw err;
    }
    if (read && !this.#rdShut) {
      this.#rdShut = true;
      this.clearChunks();
      this.#maybeResume();
      this.#settleSlot();
      this.#readers.wake();
    }
    if (write && !this.#wrShut) {
      this.#wrShut = true;
      this.#sock.end();
      this.#writers.wake();
    }
    sp?.ok(0);
  }

  /**
   * True while the kernel still holds the connection: false after a reset or an error, or once
   * both sides have shut down and the last FIN was acknowledged (Linux's TCP_CLOSE, where
   * shutdown(2) fails with ENOTCONN). The kernel forgets the peer's name in exactly that state,
   * so getpeername(2) on the handle tells, without a side effect.
   */
  get connected(): boolean {
    return this.#stillConnected();
  }

  #stillConnected(): boolean {
    if (this.#broken || this.#sock.destroyed) return false;
    if (this.#unix !== undefined) return true;
    const handle = (this.#sock as unknown as { _handle?: { getpeername?(o: object): number } | null })
      ._handle;
    if (typeof handle?.getpeername !== "function") return true;
    return handle.getpeername({}) !== -107; // UV_ENOTCONN
  }

  /** Rejects the calls now waiting to read (`"read"`) or write (`"write"`) with `err`. */
  interrupt(which: "read" | "write", makeError: (op: string) => OSError): void {
    if (which === "read" && this.#slotN !== 0) this.#slotFail(makeError("recv"));
    (which === "read" ? this.#readers : this.#writers).fail(makeError);
  }

  /**
   * Hands the Node socket on (STARTTLS: TLS takes it over) and leaves this object closed without
   * closing the connection; the descriptor number goes with it. Refuses (EINVAL) while received
   * bytes are unread — they were sent before the switch, and TLS would never see them — and after
   * a shutdown, an error or close. @internal (core/tls.ts uses it)
   */
  handOff(op: string): {
    sock: net.Socket;
    fd: number;
    unix: UnixNames | undefined;
    remote: Endpoint | undefined;
  } {
    if (this.#closed) throw closedError(op);
    if (this.#error !== undefined) throw this.#takeError(op);
    const unread = this.bufferedBytes + this.#sock.readableLength;
    const address = formatEndpoint(this.remoteEndpoint());
    if (unread > 0) {
      throw makeOSError("EINVAL", {
        op,
        address,
        hint: `${unread} received byte(s) are still unread: read the peer's whole answer before starting TLS (a peer that sends plain text after agreeing to start TLS is broken or under attack)`,
      });
    }
    if (this.#broken || this.#eof || this.#rdShut || this.#wrShut || this.#sock.destroyed) {
      throw makeOSError("ENOTCONN", {
        op,
        address,
        hint: "the connection is shut down or gone; TLS needs both directions open",
      });
    }
    if (this.#slotN !== 0 || (this.#x?.readers?.size ?? 0) > 0) {
      throw makeOSError("EINVAL", {
        op,
        address,
        hint: "a recv is still waiting on this socket; let it finish before starting TLS",
      });
    }
    const unix = this.#unix;
    const remote = this.remoteEndpoint();
    this.#keepNames();
    this.#closed = true;
    detach(this.#sock);
    this.#sock.pause();
    this.#x?.writers?.fail((o) => closedError(o));
    return { sock: this.#sock, fd: this.fd, unix, remote };
  }

  /**
   * Closes: waiting calls and every later call reject with EBADF; queued outgoing bytes are still
   * delivered (FIN after them), bounded by {@link CLOSE_LINGER_MS}. Unread incoming data resets
   * a TCP connection instead (RST; queued outgoing bytes are dropped), as close(2) does on Linux:
   * the peer's next call fails with ECONNRESET rather than reading an orderly end. Idempotent;
   * returns at once.
   */
  close(): void {
    if (this.#closed) return;
    const sp = span(this.fd, "close", []);
    // Node has already taken what the kernel received: bytes unread here would be unread in the
    // kernel under a plain close(2), which answers them with a reset (RST) — so must we, or the
    // peer takes an orderly end for "everything I sent was read"
    const unread = this.bufferedBytes + this.#sock.readableLength > 0 && !this.#broken;
    this.#closed = true;
    this.clearChunks();
    const err = (op: string) => closedError(op);
    this.#keepNames();
    this.#settleSlot();
    this.#x?.readers?.fail(err);
    this.#x?.writers?.fail(err);
    this.#x?.watchers?.notify();
    const sock = this.#sock;
    if (!sock.destroyed) {
      if (unread && this.#unix === undefined) {
        this.#reset();
      } else if (this.#broken || sock.writableFinished) {
        sock.destroy();
      } else {
        if (!sock.writableEnded) sock.end();
        const timer = setTimeout(() => sock.destroy(), CLOSE_LINGER_MS);
        timer.unref();
        sock.once("finish", () => {
          clearTimeout(timer);
          sock.destroy();
        });
        sock.once("close", () => clearTimeout(timer));
      }
    }
    releaseFd(this.fd);
    sp?.ok(0);
  }

  /**
   * The one flush-then-close of both faces' `await using`: waits (at most `timeoutMs`) until the
   * bytes handed to Node are in the kernel, then closes. A failure of the flush is the
   * connection's own (a reset: the send that met it was told) and does not stop the close.
   */
  async flushAndClose(timeoutMs = DISPOSE_FLUSH_MS): Promise<void> {
    if (!this.#closed && !this.#broken) {
      try {
        await this.flush({ timeout: timeoutMs });
      } catch {
        // closing anyway: see above
      }
    }
    this.close();
  }

  /**
   * Resets the connection (RST, SO_LINGER 0), discarding queued data both ways, so nothing stays
   * in the kernel. After a half-close the reset waits until the shutdown has reached the kernel
   * (the next turn of the event loop when nothing is queued in Node).
   */
  abort(): void {
    if (!this.#sock.destroyed) this.#reset();
    this.close();
  }

  /** RST (a Unix socket has none: it is closed). */
  #reset(): void {
    const sock = this.#sock;
    // libuv refuses a reset while a shutdown is in flight (and Node then never emits 'close');
    // once the shutdown is done ('finish') the reset works again
    if (this.#unix !== undefined) sock.destroy();
    else if (sock.writableEnded && !sock.writableFinished) sock.once("finish", () => reset(sock));
    else reset(sock);
  }

  #convert(err: unknown, op: string): OSError {
    const details = { op, address: formatEndpoint(this.remoteEndpoint()) };
    return toSSLError(err, details) ?? toSocketError(err, details);
  }
}
