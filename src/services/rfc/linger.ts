/**
 * Ending a TCP connection without leaving memory in the kernel.
 *
 * A plain close() after the last write returns the descriptor, but the kernel keeps the socket
 * (an "orphan") with every byte the client has not acknowledged yet, retrying for minutes: a
 * client that never reads pins a full send buffer per connection, outside every limit (1 000
 * quick chargen connections pinned 1.4 GB). So a service ends with {@link settle}: a FIN after
 * the last byte, then the connection keeps its slot until the client has read everything and
 * closed — and if it has not within the linger time (or its slot is needed), a reset (RST,
 * SO_LINGER 0), which makes the kernel drop the queue at once.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Conn } from "../../net/index.js";
import { OSError } from "../../net/index.js";

/**
 * What {@link settle} needs from a connection (sockit's `Conn` has it).
 *
 * @example
 * ```ts
 * async function finish(c: SettleConn & Pick<Conn, "write">, last: string): Promise<SettleEnd> {
 *   await c.write(last);
 *   return settle(c, 5000);
 * }
 * ```
 */
export type SettleConn = Pick<Conn, "read" | "closeWrite" | "abort" | "setReadDeadline" | "setWriteDeadline">;

/**
 * How a connection ended: the client closed after reading everything (`closed`), the client
 * reset it (`reset`; nothing stays queued either way), or it was cut by the linger time or by
 * someone aborting it meanwhile (`cut`: reset by us).
 *
 * @example
 * ```ts
 * await conn.write("bye\r\n");
 * const end: SettleEnd = await settle(conn, 5000);
 * if (end === "cut") console.error("the client had not read everything: reset");
 * ```
 */
export type SettleEnd = "closed" | "reset" | "cut";

const READ_SIZE = 64 * 1024;
/** Longest pause between two looks at the connection's state while the client finishes. */
const POLL_MAX_MS = 50;

/**
 * True when the kernel has closed the connection (TCP_CLOSE: both FINs sent and acknowledged,
 * or reset), so nothing of it stays queued. Linux forgets the peer in exactly that state, and a
 * second shutdown(SHUT_WR) — a no-op otherwise — then fails with ENOTCONN.
 */
async function gone(conn: Pick<Conn, "closeWrite">): Promise<boolean> {
  try {
    await conn.closeWrite();
    return false;
  } catch (err) {
    if (err instanceof OSError && err.code === "ENOTCONN") return true;
    throw err;
  }
}

/**
 * Ends a connection whose service has written its last byte (every write completed): sends FIN
 * after what is queued, throws away whatever the client still sends, and waits — at most `ms` —
 * until the client has closed and the kernel holds nothing more for it. Then, in every case,
 * resets it (an RST only goes out if something was left: a connection the client closed is
 * already gone in the kernel). Never rejects. Aborting `conn` meanwhile ends it at once (`cut`).
 *
 * Do not call it while a write may still be pending: the FIN would wait behind the unsent
 * bytes, and the reset with it; abort such a connection instead.
 *
 * @example
 * ```ts
 * await conn.write(reply);
 * const end = await settle(conn, 5000); // "closed" when the client read the reply and closed
 * ```
 */
export async function settle(conn: SettleConn, ms: number): Promise<SettleEnd> {
  const until = Date.now() + ms;
  try {
    conn.setWriteDeadline(null);
    if (await gone(conn)) return "closed";
    conn.setReadDeadline(until);
    while ((await conn.read(READ_SIZE)) !== null) {
      // thrown away: the service is done
    }
    // the client closed its side; our bytes may still be queued (a client that half-closed
    // early and reads slowly): wait until the kernel has closed the connection
    for (let wait = 1; !(await gone(conn)); wait = Math.min(wait * 2, POLL_MAX_MS)) {
      const left = until - Date.now();
      if (left <= 0) return "cut";
      await sleep(Math.min(wait, left));
    }
    return "closed";
  } catch (err) {
    const code = err instanceof OSError ? err.code : undefined;
    return code === "ECONNRESET" || code === "EPIPE" || code === "ENOTCONN" ? "reset" : "cut";
  } finally {
    conn.abort();
  }
}
