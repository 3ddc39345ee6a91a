/**
 * `sockit listen --broker`: every byte a client sends is relayed to every other client (raw
 * bytes, no framing), like `ncat --broker`. Each client has a bounded send queue drained by its
 * own writer task; a client that stops reading while others talk fills its queue and is dropped
 * instead of stalling the room. {@link SendQueue} is shared with `--chat`.
 *
 * @module
 */
import type { Writable } from "node:stream";
import type { Conn } from "../../net/index.js";
import type { Context } from "../context.js";
import type { Client, ListenMode, ModeOptions } from "./mode.js";

/**
 * Default per-client send queue bound for --broker and --chat, in bytes.
 * @example `brokerMode({ broker: true, sendQueueBytes: DEFAULT_SEND_QUEUE_BYTES }, ctx)`
 */
export const DEFAULT_SEND_QUEUE_BYTES = 1024 * 1024;

/**
 * A per-client outgoing queue with a byte bound, drained by one writer task with
 * `await conn.write()`. Bytes count from `push` until the write that carries them resolves
 * (they have reached the kernel), so the queue holds at most `limit` bytes — or one item, if a
 * single item is larger than the bound.
 *
 * @example
 * ```ts
 * const q = new SendQueue(conn, 1 << 20);
 * if (!q.push(Buffer.from("hi\n"))) conn.abort(); // over the bound: drop the client
 * await q.end(); // waits for the queue to drain (or fail); never rejects
 * ```
 */
export class SendQueue {
  readonly #conn: Pick<Conn, "write">;
  readonly #limit: number;
  #items: Buffer[] = [];
  #head = 0;
  #queued = 0;
  #peak = 0;
  #running: Promise<void> | undefined;
  #dead = false;
  #error: unknown;

  /** A queue writing to `conn`, holding at most `limit` bytes. */
  constructor(conn: Pick<Conn, "write">, limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`send queue bound must be ≥ 1 byte, got ${limit}`);
    this.#conn = conn;
    this.#limit = limit;
  }

  /** Bytes queued or being written now. */
  get queued(): number {
    return this.#queued;
  }

  /** The most bytes ever held at once (for tests and -v reports). */
  get peak(): number {
    return this.#peak;
  }

  /** The bound in bytes. */
  get limit(): number {
    return this.#limit;
  }

  /** The write error that stopped the queue, if any. */
  get error(): unknown {
    return this.#error;
  }

  /**
   * Queues `b` (it must not be modified afterwards). Returns false, queueing nothing, if that
   * would exceed the bound (the caller drops the client) or if the queue is stopped.
   */
  push(b: Buffer): boolean {
    if (this.#dead) return false;
    if (b.length === 0) return true;
    if (this.#queued > 0 && this.#queued + b.length > this.#limit) return false;
    this.#items.push(b);
    this.#queued += b.length;
    if (this.#queued > this.#peak) this.#peak = this.#queued;
    this.#running ??= this.#drain();
    return true;
  }

  /** Stops the queue: nothing more is written or accepted, queued bytes are released. */
  stop(): void {
    this.#dead = true;
    this.#items = [];
    this.#head = 0;
    this.#queued = 0;
  }

  /** Waits until everything queued has been written, or the queue stopped or failed. */
  async end(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      while (!this.#dead && this.#head < this.#items.length) {
        const b = this.#next();
        try {
          await this.#conn.write(b);
        } catch (err) {
          this.#error = err;
          this.stop();
          return;
        }
        if (!this.#dead) this.#queued -= b.length;
      }
      this.#items = [];
      this.#head = 0;
    } finally {
      this.#running = undefined;
    }
  }

  /** The next item, joined with the ones after it up to {@link COALESCE_BYTES}: one write for many lines. */
  #next(): Buffer {
    const start = this.#head;
    let end = start + 1;
    let size = this.#items[start]!.length;
    while (end < this.#items.length && size + this.#items[end]!.length <= COALESCE_BYTES) {
      size += this.#items[end++]!.length;
    }
    const out = end === start + 1 ? this.#items[start]! : Buffer.concat(this.#items.slice(start, end), size);
    this.#items.fill(EMPTY, start, end);
    this.#head = end;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }
}

/** Queued items are joined into writes of up to this many bytes. */
const COALESCE_BYTES = 64 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * Adapts a Node Writable (stdout, a child's stdin) to the `write()` a {@link SendQueue} or a
 * pump needs: resolves when the stream has taken the chunk (its write callback: for a pipe,
 * when the bytes reached the kernel), rejects if the stream fails or is gone. Awaiting it is
 * backpressure, and it leaves no listener behind (pump.ts's writeAll keeps a 'close' and an
 * 'error' listener per wait for drain until the stream closes).
 *
 * @example
 * ```ts
 * const out = writableSink(process.stdout);
 * await out.write(Buffer.from("hello\n"));
 * ```
 */
export function writableSink(w: Writable): { write(b: Uint8Array): Promise<number> } {
  return {
    write: (b) =>
      new Promise<number>((resolve, reject) => {
        w.write(b, (err) => (err ? reject(err) : resolve(b.length)));
      }),
  };
}

/**
 * How long a leaving client's queued bytes may take to drain before it is closed anyway, ms.
 * @example `conn.setWriteDeadline(Date.now() + LEAVE_FLUSH_MS)`
 */
export const LEAVE_FLUSH_MS = 10_000;

/**
 * Lets `queue` drain (bounded by {@link LEAVE_FLUSH_MS}: a write deadline), then closes `conn`.
 * Never rejects.
 *
 * @example
 * ```ts
 * await flushAndClose(conn, queue); // after the client left the room
 * ```
 */
export async function flushAndClose(conn: Conn, queue: SendQueue): Promise<void> {
  try {
    if (queue.queued > 0) {
      conn.setWriteDeadline(Date.now() + LEAVE_FLUSH_MS);
      await queue.end();
    }
  } catch {
    // closing anyway
  } finally {
    await conn.close().catch(() => {});
  }
}

/** One member of a relay room: the client and its send queue. */
interface Member {
  readonly client: Client;
  readonly queue: SendQueue;
  dropped: boolean;
}

/**
 * Drops a client whose send queue went over `limit` (broker and chat): stops its queue, resets
 * the connection so its memory is freed at once, and says why (with -v).
 * @example `if (!m.queue.push(b)) dropSlowClient(m, ctx, limit);`
 */
export function dropSlowClient(m: Member, ctx: Context, limit: number): void {
  m.dropped = true;
  m.queue.stop();
  ctx.info(
    `client ${m.client.id} (${m.client.peer}) dropped: it is not reading (send queue over ${limit} bytes)`,
  );
  m.client.conn.abort();
}

/**
 * What {@link brokerMode} returns: a {@link ListenMode} with counters (for tests and reports).
 *
 * @example
 * ```ts
 * const mode = brokerMode({ broker: true, sendQueueBytes: 65536 }, ctx);
 * mode.stats; // { clients: 0, dropped: 0, peakQueued: 0 }
 * ```
 */
export interface BrokerMode extends ListenMode {
  /** Clients now in the room, clients dropped for not reading, the largest queue seen. */
  readonly stats: { readonly clients: number; readonly dropped: number; readonly peakQueued: number };
}

/**
 * The `--broker` mode: relays each client's bytes to all other clients. A client leaves when it
 * half-closes or closes (what it sent before is still relayed; what others send to it is
 * flushed first). A client whose send queue would pass `opts.sendQueueBytes`
 * (default {@link DEFAULT_SEND_QUEUE_BYTES}) is reset and dropped (`-v` says so).
 *
 * @example
 * ```ts
 * const mode = brokerMode({ broker: true }, ctx);
 * for await (const conn of ln) void mode.serve({ conn, id: ++n, peer: conn.remoteAddress, peerAddress: "", peerPort: 0 });
 * ```
 */
export function brokerMode(opts: ModeOptions, ctx: Context): BrokerMode {
  const limit = opts.sendQueueBytes ?? DEFAULT_SEND_QUEUE_BYTES;
  const members = new Set<Member>();
  let dropped = 0;
  let peakQueued = 0;
  let closing = false;

  const leave = (m: Member): Promise<void> => flushAndClose(m.client.conn, m.queue);
  const drop = (m: Member): void => {
    if (m.dropped || closing) return;
    dropped++;
    peakQueued = Math.max(peakQueued, m.queue.peak);
    members.delete(m);
    dropSlowClient(m, ctx, limit);
  };

  return {
    get stats() {
      let peak = peakQueued;
      for (const m of members) peak = Math.max(peak, m.queue.peak);
      return { clients: members.size, dropped, peakQueued: peak };
    },

    async serve(client: Client): Promise<void> {
      const { conn } = client;
      const me: Member = { client, queue: new SendQueue(conn, limit), dropped: false };
      members.add(me);
      ctx.info(`client ${client.id} (${client.peer}) joined the broker (${members.size} connected)`);
      const dump = ctx.dumper(`[${client.id}]`);
      let reason = "closed";
      try {
        for (;;) {
          const b = await conn.read();
          if (b === null) break;
          dump?.received(b);
          for (const other of members) {
            if (other !== me && !other.queue.push(b)) drop(other);
          }
          if (me.queue.error !== undefined) throw me.queue.error;
        }
      } catch (err) {
        reason = me.dropped ? "dropped" : closing ? "shutting down" : `error: ${(err as Error).message}`;
      } finally {
        members.delete(me);
        peakQueued = Math.max(peakQueued, me.queue.peak);
        if (!me.dropped) await leave(me);
        ctx.info(`client ${client.id} (${client.peer}) left the broker (${reason})`);
      }
    },

    async close(): Promise<void> {
      closing = true;
      for (const m of members) {
        m.queue.stop();
        await m.client.conn.close();
      }
      members.clear();
    },
  };
}
