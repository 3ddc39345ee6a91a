/**
 * Small byte-moving helpers under the session layer (session/splice.ts is the copy itself):
 * waiting for a Writable to take bytes, LF → CRLF, and a half-close that tolerates a gone peer.
 *
 * @module
 */
import type { Writable } from "node:stream";

/**
 * Writes `b` to a Node Writable, waiting for 'drain' when its buffer is full; rejects if the
 * stream fails (e.g. EPIPE on a closed stdout).
 * @example `await writeAll(process.stdout, chunk)`
 */
export async function writeAll(dst: Writable, b: Uint8Array): Promise<void> {
  if (dst.destroyed) throw Object.assign(new Error("write after the output closed"), { code: "EPIPE" });
  if (dst.write(b)) return;
  // wait for 'drain', removing every listener we added whichever event wins
  await new Promise<void>((resolve, reject) => {
    const done = (err?: unknown) => {
      dst.off("drain", onDrain);
      dst.off("close", onClose);
      dst.off("error", onError);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onDrain = () => done();
    const onClose = () => done(Object.assign(new Error("output closed"), { code: "EPIPE" }));
    const onError = (err: Error) => done(err);
    dst.on("drain", onDrain);
    dst.on("close", onClose);
    dst.on("error", onError);
  });
}

/**
 * A stateful LF → CRLF rewriter for --crlf: existing CRLF pairs stay as they are, also when a
 * chunk ends between the CR and the LF.
 * @example `const t = crlf(); t(Buffer.from("a\r")); t(Buffer.from("\nb\n")) // "\nb\r\n"`
 */
export function crlf(): (b: Buffer) => Buffer {
  let prev = -1;
  return (b) => {
    if (!b.includes(0x0a)) {
      if (b.length > 0) prev = b[b.length - 1]!;
      return b;
    }
    const out: number[] = [];
    for (const c of b) {
      if (c === 0x0a && prev !== 0x0d) out.push(0x0d);
      out.push(c);
      prev = c;
    }
    return Buffer.from(out);
  };
}

/**
 * Sends FIN (`shutdown(SHUT_WR)`) unless the connection is already gone: then shutdown(2)
 * fails with ENOTCONN while the reason (a reset) waits for the reading side, which reports it —
 * so the user sees "connection reset by peer", not ENOTCONN. Resolves false when it was gone.
 * @example `await closeWriteIfConnected(conn)`
 */
export async function closeWriteIfConnected(conn: { closeWrite(): Promise<void> }): Promise<boolean> {
  try {
    await conn.closeWrite();
    return true;
  } catch (err) {
    if ((err as { code?: unknown } | null)?.code !== "ENOTCONN") throw err;
    return false;
  }
}
