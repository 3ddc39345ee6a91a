/**
 * The server's transfers over a data connection: RETR (from a REST offset), STOR/APPE (into a
 * temporary file renamed only when the whole upload arrived) and the listings (LIST, NLST,
 * MLSD). Every chunk is awaited before the next is read (backpressure both ways: a slow client
 * slows the disk reads, a slow disk slows the socket reads); nothing buffers a whole file.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, open, opendir, rename, stat, truncate, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Conn } from "../../net/index.js";
import { type DataPlan, openData } from "./data.js";
import type { FtpCounters, FtpEvent, ResolvedFtpOptions } from "./options.js";
import { realPathIn, virtualPath } from "./paths.js";
import { type EntryInfo, listLine, mlsxLine } from "./protocol.js";

const CHUNK = 256 * 1024;
/**
 * Upload temporaries: `.NAME.sockit-HEX.part` beside the final name, hidden from listings.
 * @example `PART_FILE.test(".a.bin.sockit-0123456789ab.part") // true`
 */
export const PART_FILE = /^\..*\.sockit-[0-9a-f]{12}\.part$/;

/** What a transfer needs from its session (internal). */
export interface Transfer {
  readonly verb: string;
  readonly arg: string;
  readonly cwd: string;
  readonly root: string;
  readonly binary: boolean;
  readonly rest: number;
  readonly writable: boolean;
  readonly data: DataPlan | undefined;
  readonly peerHost: string;
  readonly localHost: string;
  readonly opts: ResolvedFtpOptions;
  readonly counters: FtpCounters;
  reply(code: number, text: string | readonly string[]): Promise<number>;
  controlClosed(): boolean;
  start(): AbortSignal;
  emit(type: FtpEvent["type"], detail: string): void;
  /** `n` bytes moved (the idle timer and STAT during the transfer see them). */
  activity(n: number): void;
  /** PROT P: makes the data connection TLS right after it opens. */
  readonly secure?: (c: Conn) => Promise<Conn>;
}

/** An entry's listing facts. */
export async function entryInfo(real: string, name: string, writable: boolean): Promise<EntryInfo> {
  const st = await stat(real);
  return {
    name,
    kind: st.isDirectory() ? "dir" : st.isFile() ? "file" : "other",
    size: st.size,
    mtime: st.mtime,
    writable,
  };
}

/** The SHA-256 of a file, hex (streamed, never whole in memory). @example `await hashFile("a.bin") // "9f86d0…"` */
export async function hashFile(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) h.update(chunk as Buffer);
  return h.digest("hex");
}

/**
 * Produces a listing of `real` (a directory's entries, or the one file) in batches of lines;
 * stops after `max` entries when given.
 */
export async function listing(
  real: string,
  writable: boolean,
  kind: "LIST" | "NLST" | "MLSD",
  sink: (lines: string[]) => Promise<void>,
  max = Infinity,
): Promise<void> {
  const now = new Date();
  const fmt = (e: EntryInfo) => (kind === "LIST" ? listLine(e, now) : kind === "NLST" ? e.name : mlsxLine(e));
  const st = await stat(real);
  if (!st.isDirectory()) {
    await sink([fmt(await entryInfo(real, basename(real), writable))]);
    return;
  }
  let batch: string[] = [];
  let n = 0;
  for await (const d of await opendir(real, { bufferSize: 64 })) {
    if (PART_FILE.test(d.name)) continue;
    let e: EntryInfo;
    try {
      e = await entryInfo(join(real, d.name), d.name, writable);
    } catch {
      continue; // vanished, or a dangling link
    }
    batch.push(fmt(e));
    if (++n >= max) break;
    if (batch.length >= 128) {
      await sink(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await sink(batch);
}

/** LF → CRLF for TYPE A (a CR already before the LF is kept); `prev` is the last byte sent. */
function toCrlf(b: Buffer, prev: number): Buffer {
  let extra = 0;
  for (let i = 0; i < b.length; i++) if (b[i] === 0x0a && (i > 0 ? b[i - 1] : prev) !== 0x0d) extra++;
  if (extra === 0) return b;
  const out = Buffer.allocUnsafe(b.length + extra);
  let j = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x0a && (i > 0 ? b[i - 1] : prev) !== 0x0d) out[j++] = 0x0d;
    out[j++] = b[i]!;
  }
  return out;
}

async function withData(
  t: Transfer,
  opening: string,
  run: (data: Conn, signal: AbortSignal) => Promise<number>,
  commit?: () => Promise<void>,
): Promise<boolean> {
  if (t.data === undefined) {
    await t.reply(425, "Use PASV/EPSV or PORT/EPRT first, then this command.");
    return false;
  }
  await t.reply(150, opening);
  let data: Conn;
  try {
    data = await openData(t.data, t.peerHost, t.localHost, t.opts.dataTimeoutMs, t.secure);
  } catch (err) {
    await t.reply(
      425,
      `Can't open data connection${t.secure ? " (TLS, PROT P)" : ""}: ${(err as Error).message}`,
    );
    return false;
  }
  const signal = t.start();
  let bytes = 0;
  try {
    bytes = await run(data, signal);
    await data[Symbol.asyncDispose]();
    if (commit) {
      try {
        await commit();
      } catch (err) {
        throw new LocalError(err);
      }
    }
  } catch (err) {
    data.abort();
    t.counters.aborted++;
    const code = (err as { code?: string }).code;
    t.emit("aborted", `${t.verb} ${t.arg}: ${signal.aborted ? "aborted" : (err as Error).message}`);
    if (t.controlClosed()) return false;
    if (code === "ENOSPC" || code === "EDQUOT")
      await t.reply(452, "Insufficient storage space; upload discarded.");
    else if (signal.aborted) await t.reply(426, "Transfer aborted; data connection closed.");
    else if (err instanceof LocalError) await t.reply(451, `Local error: ${err.message}`);
    else if (code === "ETIMEDOUT")
      await t.reply(
        426,
        `The data connection stalled for ${t.opts.dataTimeoutMs / 1000} s; transfer aborted.`,
      );
    else await t.reply(426, `Data connection failed; transfer aborted (${code ?? (err as Error).message}).`);
    return false;
  }
  t.counters.transfers++;
  t.emit("transfer", `${t.verb} ${t.arg} ${bytes} bytes`);
  await t.reply(226, "Transfer complete.");
  return true;
}

/** A file-system error during a transfer (451), not a network one (426). */
class LocalError extends Error {
  constructor(cause: unknown) {
    super((cause as Error).message, { cause });
  }
}

/** RETR and the listings. Path errors reject (the session answers 550) before any 150. */
export async function sendFile(t: Transfer): Promise<void> {
  if (t.verb !== "RETR") {
    const arg = t.arg.replace(/^(-[a-zA-Z]+\s*)+/, "");
    const real = await realPathIn(t.root, virtualPath(t.cwd, arg === "" ? "." : arg));
    const st = await stat(real);
    if (t.verb === "MLSD" && !st.isDirectory()) {
      await t.reply(501, "MLSD wants a directory; use MLST for a file.");
      return;
    }
    await withData(t, `Here comes the listing.`, async (data, signal) => {
      let n = 0;
      await listing(real, t.writable, t.verb as "LIST", async (lines) => {
        data.setWriteDeadline(Date.now() + t.opts.dataTimeoutMs);
        const k = await data.write(lines.map((l) => `${l}\r\n`).join(""), { signal });
        n += k;
        t.activity(k);
      });
      t.counters.bytesOut += n;
      return n;
    });
    return;
  }
  const real = await realPathIn(t.root, virtualPath(t.cwd, t.arg));
  const st = await stat(real);
  if (!st.isFile()) {
    await t.reply(550, `${t.arg}: not a regular file.`);
    return;
  }
  if (t.rest > st.size) {
    await t.reply(554, `REST ${t.rest} is beyond the end of the file (${st.size} bytes).`);
    return;
  }
  const fh = await open(real, "r");
  try {
    const mode = t.binary ? "BINARY" : "ASCII";
    await withData(
      t,
      `Opening ${mode} mode data connection for ${t.arg} (${st.size - t.rest} bytes).`,
      async (data, signal) => {
        let n = 0;
        let prev = 0;
        let pos = t.rest;
        for (;;) {
          let b: Buffer;
          try {
            const r = await fh.read(Buffer.allocUnsafe(CHUNK), 0, CHUNK, pos);
            b = r.buffer.subarray(0, r.bytesRead);
          } catch (err) {
            throw new LocalError(err);
          }
          if (b.length === 0) break;
          pos += b.length;
          const out = t.binary ? b : toCrlf(b, prev);
          prev = b[b.length - 1]!;
          data.setWriteDeadline(Date.now() + t.opts.dataTimeoutMs); // a client that stops reading
          n += await data.write(out, { signal });
          t.counters.bytesOut += out.length;
          t.activity(out.length);
        }
        return n;
      },
    );
  } finally {
    await fh.close();
  }
}

/**
 * STOR and APPE: the bytes go to `.NAME.sockit-HEX.part` beside NAME (after a copy of the first
 * REST bytes of NAME when resuming, or all of it for APPE) and are renamed over NAME only when
 * the client closed the data connection cleanly and is still there; anything else (reset, ABOR,
 * the control connection gone, a full disk) removes the temporary and leaves NAME as it was.
 */
export async function receiveFile(t: Transfer): Promise<void> {
  const virtual = virtualPath(t.cwd, t.arg);
  const real = await realPathIn(t.root, virtual);
  const dir = await stat(dirname(real));
  if (!dir.isDirectory()) {
    await t.reply(550, `${dirname(virtual)}: not a directory.`);
    return;
  }
  const existing = await stat(real).catch(() => undefined);
  if (existing?.isDirectory()) {
    await t.reply(550, `${virtual}: is a directory.`);
    return;
  }
  const offset = t.verb === "APPE" ? (existing?.size ?? 0) : t.rest;
  if (offset > 0 && (existing === undefined || existing.size < offset)) {
    await t.reply(554, `REST ${offset} is beyond the end of ${virtual} (${existing?.size ?? 0} bytes).`);
    return;
  }
  if (t.data === undefined) {
    await t.reply(425, "Use PASV/EPSV or PORT/EPRT first, then this command.");
    return;
  }
  const tmp = join(dirname(real), `.${basename(real)}.sockit-${randomBytes(6).toString("hex")}.part`);
  let done = false;
  try {
    if (offset > 0) {
      await copyFile(real, tmp);
      await truncate(tmp, offset);
    }
    const fh = await open(tmp, offset > 0 ? "r+" : "wx", 0o644);
    let closed = false;
    const close = async () => {
      if (!closed) await fh.close();
      closed = true;
    };
    try {
      done = await withData(
        t,
        `Ready to receive ${virtual}${offset > 0 ? ` from byte ${offset}` : ""}.`,
        async (data, signal) => {
          let pos = offset;
          let cr = false;
          for (;;) {
            data.setReadDeadline(Date.now() + t.opts.dataTimeoutMs); // a client that stops sending
            const b = await data.read(CHUNK, { signal });
            if (b === null) break;
            let out = b;
            if (!t.binary) {
              // CRLF → LF for TYPE A; a CR at the end of one chunk waits for the next
              const s: string = (cr ? "\r" : "") + b.toString("latin1");
              cr = s.endsWith("\r");
              out = Buffer.from((cr ? s.slice(0, -1) : s).replace(/\r\n/g, "\n"), "latin1");
            }
            try {
              await fh.write(out, 0, out.length, pos);
            } catch (err) {
              if ((err as { code?: string }).code === "ENOSPC") throw err;
              throw new LocalError(err);
            }
            pos += out.length;
            t.counters.bytesIn += b.length;
            t.activity(b.length);
          }
          if (cr) await fh.write(Buffer.from("\r"), 0, 1, pos++);
          // a client killed mid-upload closes both connections at once: if the control connection
          // ends right behind the data, the upload is not trusted to be whole
          await sleep(25);
          if (t.controlClosed() || signal.aborted) throw new Error("the client went away");
          return pos - offset;
        },
        async () => {
          await close();
          await rename(tmp, real); // before the 226: the client's next command sees the file
        },
      );
    } finally {
      await close();
    }
  } finally {
    if (!done) await unlink(tmp).catch(() => {});
  }
}
