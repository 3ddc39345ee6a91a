/**
 * `sockit listen --broker`: every byte a client sends is relayed to every other client (raw
 * bytes, no framing), like `ncat --broker`. Each client has a bounded send queue drained by its
 * own writer task; a client that stops reading while others talk fills its queue and is dropped
 * instead of stalling the room. The bounded queue is `SendQueue` from the Go face.
 *
 * @module
 */
import type { Writable } from "node:stream";
import { type Conn, SendQueue } from "../../net/index.js";
import type { Context } from "../context.js";
import type { Client, ListenMode, ModeOptions } from "./mode.js";

/**
 * Default per-client send queue bound for --broker and --chat, in bytes.
 * @example `brokerMode({ broker: true, sendQueueBytes: DEFAULT_SEND_QUEUE_BYTES }, ctx)`
 */
export const DEFAULT_SEND_QUEUE_BYTES = 1024 * 1024;

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
