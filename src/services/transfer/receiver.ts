/**
 * The receiving side of a direct transfer: one session on one connection, into one directory.
 * Its rules: names are checked component by component ({@link checkName}); every directory on
 * the way is a real directory inside DIR (a symlink is refused, never followed); a file is
 * written to `.NAME.part` beside its final name and renamed only when its SHA-256 matches the
 * header; an existing file is never replaced without `force`; the size is checked against
 * `maxSize` and the file system's free space before a byte is accepted; a `.part` left by an
 * earlier attempt is offered for resume.
 *
 * @module
 */
import { constants, createReadStream } from "node:fs";
import {
  type FileHandle,
  link,
  lstat,
  mkdir,
  open,
  realpath,
  rename,
  statfs,
  unlink,
} from "node:fs/promises";
import { createHash, type Hash } from "node:crypto";
import { join } from "node:path";
import {
  ConnectionResetError,
  makeOSError,
  type OSError,
  toSocketError,
  TimeoutError,
} from "../../errors/index.js";
import type { ConnLike } from "../../net/index.js";
import {
  EMPTY_SHA256,
  formatReceiver,
  HELLO,
  HELLO2,
  isRefusal,
  MAX_LINE,
  parseSenderLine,
  partName,
  type ReceiverMessage,
  type Refusal,
  type SenderMessage,
} from "./protocol.js";

/**
 * How {@link receive} treats what arrives.
 * @example `const o: ReceiveOptions = { dir: "/tmp/in", force: false, maxSize: 1e9 }`
 */
export interface ReceiveOptions {
  /** Where files go (must exist). */
  readonly dir: string;
  /** Replace an existing file of the same name (default false: refused with EEXIST). */
  readonly force?: boolean;
  /** Refuse files larger than this many bytes (EFBIG). */
  readonly maxSize?: number;
  /** Give up when the sender is silent this long, ms (default 60000; 0: never). */
  readonly idleMs?: number;
  /** A file was accepted: `from` bytes of it were already here (a resumed `.part`). */
  readonly onFile?: (path: string, size: number, from: number) => void;
  /** Bytes of file data arrived. */
  readonly onBytes?: (n: number) => void;
  /** An entry is settled (saved, had or refused), as it goes into the report. */
  readonly onEntry?: (e: ReceivedEntry) => void;
}

/**
 * What became of one entry of a session.
 * @example `{ path: "a.bin", size: 10, sha256: "…", from: 0, received: 10, status: "saved" }`
 */
export interface ReceivedEntry {
  /** The path as the sender named it (`a.bin`, `photos/a.jpg`). */
  readonly path: string;
  /** `file` or `dir`. */
  readonly kind: "file" | "dir";
  /** Announced size (0 for a directory). */
  readonly size: number;
  /** Announced SHA-256 (empty for a directory). */
  readonly sha256: string;
  /** Bytes already here from an earlier attempt (resume). */
  readonly from: number;
  /** File bytes that arrived in this session. */
  readonly received: number;
  /** `saved` (verified and renamed), `had` (an identical file was already there), `refused`. */
  readonly status: "saved" | "had" | "refused";
  /** Why it was refused. */
  readonly error?: OSError;
}

/**
 * The result of {@link receive}: every entry, and whether the session ended with END.
 * @example `report.entries.filter((e) => e.status === "refused").length`
 */
export interface ReceiveReport {
  readonly entries: ReceivedEntry[];
}

const CHUNK = 1 << 20;
const DEFAULT_IDLE_MS = 60_000;

function refusalError(r: Refusal, path?: string): OSError {
  return makeOSError(r.errno, { op: "recv", ...(path === undefined ? {} : { address: path }), hint: r.text });
}

/** Reads one control line; null at a clean EOF; a refusal when it is too long. */
async function readLine(conn: ConnLike): Promise<Buffer | Refusal | null> {
  try {
    return await conn.readLine({ max: MAX_LINE });
  } catch (err) {
    if ((err as { code?: unknown }).code === "EFRAMETOOLARGE")
      return {
        errno: "EPROTO",
        text: `a control line longer than ${MAX_LINE} bytes: is the peer a sockit sender?`,
      };
    throw toSocketError(err, { op: "recv", address: conn.remoteAddress });
  }
}

/** Hashes the first bytes of a file (all of it by default). */
async function hashFile(path: string, hash: Hash = createHash("sha256")): Promise<Hash> {
  const rs = createReadStream(path, { highWaterMark: CHUNK });
  for await (const b of rs) hash.update(b as Buffer);
  return hash;
}

async function lstatOrNull(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT") return null;
    throw err;
  }
}

/**
 * Serves one session on `conn`: reads the sender's entries into `opts.dir` by the rules above,
 * answers each, and resolves the report at END. Rejects (an OSError) when the connection fails or
 * the peer breaks the protocol; a `.part` being written is kept for resume. Does not close `conn`.
 *
 * @example
 * ```ts
 * const ln = await listen("tcp", "127.0.0.1:0");
 * const conn = await ln.accept();
 * const report = await receive(conn, { dir: "/tmp/in" });
 * await conn.close();
 * ```
 */
export async function receive(conn: ConnLike, opts: ReceiveOptions): Promise<ReceiveReport> {
  const root = await realpath(opts.dir).catch((err: unknown) => {
    throw toSocketError(err, { op: "open", address: opts.dir, hint: "check that --dir exists" });
  });
  if (!(await lstat(root)).isDirectory())
    throw makeOSError("ENOTDIR", { op: "open", address: opts.dir, hint: "--dir must be a directory" });
  const idle = opts.idleMs ?? DEFAULT_IDLE_MS;
  // the deadline moves at most every 1/16 of the idle time (a timer re-armed per 64 KiB read
  // costs more than the read): the sender is given up after between 15/16 and all of `idle`
  let touched = -Infinity;
  const touch = () => {
    if (idle <= 0) return;
    const now = Date.now();
    if (now - touched < idle / 16) return;
    touched = now;
    conn.setReadDeadline(now + idle);
  };
  const send = async (m: ReceiverMessage) => {
    try {
      await conn.write(formatReceiver(m));
    } catch (err) {
      throw toSocketError(err, { op: "send", address: conn.remoteAddress });
    }
  };
  const entries: ReceivedEntry[] = [];
  const settle = (e: ReceivedEntry) => {
    entries.push(e);
    opts.onEntry?.(e);
  };
  const fatal = async (r: Refusal): Promise<never> => {
    await send({ kind: "NO", errno: r.errno, text: r.text }).catch(() => {});
    throw refusalError(r);
  };
  const next = async (): Promise<SenderMessage | Refusal | null> => {
    touch();
    const line = await readLine(conn).catch((err: unknown) => {
      if (err instanceof TimeoutError || (err as { code?: unknown }).code === "EAGAIN")
        throw makeOSError("ETIMEDOUT", {
          op: "recv",
          address: conn.remoteAddress,
          hint: `the sender was silent for ${idle / 1000} s`,
        });
      throw err;
    });
    if (line === null || isRefusal(line)) return line;
    if (line[line.length - 1] !== 0x0a)
      throw new ConnectionResetError("ECONNRESET", {
        op: "recv",
        address: conn.remoteAddress,
        hint: "the sender went away in the middle of a message",
      });
    return parseSenderLine(line);
  };

  touch();
  const hello = await readLine(conn);
  const said = hello === null || isRefusal(hello) ? "" : hello.toString("latin1");
  if (said !== `${HELLO}\n` && said !== `${HELLO2}\n`)
    await fatal({ errno: "EPROTO", text: `expected ${HELLO} or ${HELLO2}: is the peer a sockit sender?` });
  const version = said === `${HELLO2}\n` ? 2 : 1;
  if (version === 2) await send({ kind: "HELLO", version: 2 });

  for (;;) {
    const m = await next();
    if (m === null)
      throw new ConnectionResetError("ECONNRESET", {
        op: "recv",
        address: conn.remoteAddress,
        hint: "the sender closed the connection before END",
      });
    if (isRefusal(m)) {
      if (m.errno === "EPROTO") await fatal(m);
      // a name refused: say so, and go on with the next entry
      await send({ kind: "NO", errno: m.errno, text: m.text });
      settle({
        path: "?",
        kind: "file",
        size: 0,
        sha256: "",
        from: 0,
        received: 0,
        status: "refused",
        error: refusalError(m),
      });
      continue;
    }
    if (m.kind === "END") {
      await send({ kind: "BYE" });
      return { entries };
    }
    if (m.kind === "DATA") await fatal({ errno: "EPROTO", text: "DATA without an accepted FILE" });
    if (m.kind === "SHA256") await fatal({ errno: "EPROTO", text: "SHA256 without a file's data" });
    if (m.kind === "FILE" && m.sha256 === undefined && version === 1)
      await fatal({ errno: "EPROTO", text: `FILE without a SHA-256 needs ${HELLO2}` });
    if (m.kind === "DIR") {
      const r = await makeDir(root, m.path);
      await send(r === undefined ? { kind: "OK", have: 0, sha256: EMPTY_SHA256 } : { ...r, kind: "NO" });
      settle({
        path: m.path,
        kind: "dir",
        size: 0,
        sha256: "",
        from: 0,
        received: 0,
        status: r === undefined ? "saved" : "refused",
        ...(r === undefined ? {} : { error: refusalError(r, m.path) }),
      });
      continue;
    }
    if (m.kind === "FILE")
      settle(
        await receiveFile(conn, root, m, opts, send, next, fatal, touch).catch((err: unknown) => {
          throw toSocketError(err, { op: "recv", address: m.path });
        }),
      );
  }
}

/** Walks `parts` below root, each a real directory (never a symlink); creates missing ones if asked. */
async function walkDirs(root: string, parts: readonly string[], create: boolean): Promise<string | Refusal> {
  let at = root;
  for (const p of parts) {
    const next = join(at, p);
    const st = await lstatOrNull(next);
    if (st === null) {
      if (!create)
        return { errno: "ENOENT", text: `directory ${JSON.stringify(p)} does not exist on the receiver` };
      await mkdir(next, { mode: 0o755 });
    } else if (st.isSymbolicLink())
      return { errno: "ELOOP", text: `${JSON.stringify(p)} is a symbolic link on the receiver: refused` };
    else if (!st.isDirectory())
      return { errno: "ENOTDIR", text: `${JSON.stringify(p)} exists on the receiver and is not a directory` };
    at = next;
  }
  return at;
}

async function makeDir(root: string, path: string): Promise<Refusal | undefined> {
  try {
    const r = await walkDirs(root, path.split("/"), true);
    return typeof r === "string" ? undefined : r;
  } catch (err) {
    const e = toSocketError(err, { op: "mkdir", address: path });
    return { errno: e.code, text: `cannot create directory ${JSON.stringify(path)}: ${e.strerror}` };
  }
}

async function receiveFile(
  conn: ConnLike,
  root: string,
  m: Extract<SenderMessage, { kind: "FILE" }>,
  opts: ReceiveOptions,
  send: (m: ReceiverMessage) => Promise<void>,
  next: () => Promise<SenderMessage | Refusal | null>,
  fatal: (r: Refusal) => Promise<never>,
  touch: () => void,
): Promise<ReceivedEntry> {
  // the announced SHA-256: from the header, or (version 2's `FILE <size> -`) from the SHA256 line
  let want = m.sha256;
  const entry = () => ({ path: m.path, kind: "file" as const, size: m.size, sha256: want ?? "" });
  const refuse = async (r: Refusal, from = 0, received = 0): Promise<ReceivedEntry> => {
    await send({ kind: "NO", errno: r.errno, text: r.text });
    return { ...entry(), from, received, status: "refused", error: refusalError(r, m.path) };
  };
  const parts = m.path.split("/");
  const name = parts.pop()!;
  const shown = JSON.stringify(m.path);

  const dir = await walkDirs(root, parts, false).catch((err: unknown) => {
    const e = toSocketError(err, { op: "lstat", address: m.path });
    return { errno: e.code, text: `${shown}: ${e.strerror}` };
  });
  if (typeof dir !== "string") return refuse(dir);
  if (opts.maxSize !== undefined && m.size > opts.maxSize)
    return refuse({
      errno: "EFBIG",
      text: `${shown} is ${m.size} bytes, over the receiver's --max-size of ${opts.maxSize}`,
    });

  const final = join(dir, name);
  const part = join(dir, partName(name));
  const existing = await lstatOrNull(final);
  if (existing !== null) {
    if (want === undefined && existing.isFile() && existing.size === m.size) {
      // maybe the same file: the sender's hash decides, so it sends the header with it
      await send({ kind: "HASH" });
      const again = await next();
      if (
        again === null ||
        isRefusal(again) ||
        again.kind !== "FILE" ||
        again.path !== m.path ||
        again.size !== m.size ||
        again.sha256 === undefined
      )
        return fatal({ errno: "EPROTO", text: `expected FILE ${m.size} <sha256> ${m.path} after HASH` });
      return receiveFile(conn, root, again, opts, send, next, fatal, touch);
    }
    if (existing.isFile() && existing.size === m.size && (await hashFile(final)).digest("hex") === want) {
      await send({ kind: "HAVE" });
      return { ...entry(), from: m.size, received: 0, status: "had" };
    }
    if (!opts.force || existing.isDirectory())
      return refuse({
        errno: "EEXIST",
        text: existing.isDirectory()
          ? `${shown} is a directory on the receiver`
          : `${shown} exists on the receiver and differs: the receiver needs --force to replace it`,
      });
  }

  // a .part from an earlier attempt: offered for resume (a longer one, or not a file, starts over)
  const pst = await lstatOrNull(part);
  if (pst !== null && !pst.isFile())
    return refuse({ errno: "EEXIST", text: `${part} is not a regular file` });
  const have = pst === null || pst.size > m.size ? 0 : pst.size;

  const fs = await statfs(dir);
  const free = Number(fs.bavail) * Number(fs.bsize);
  if (m.size - have > free)
    return refuse(
      {
        errno: "ENOSPC",
        text: `${shown} needs ${m.size - have} more bytes; the receiver's file system has ${free} free`,
      },
      have,
    );

  const hash = have > 0 ? await hashPrefix(part, have) : createHash("sha256");
  await send({ kind: "OK", have, sha256: hash.copy().digest("hex") });
  const d = await next();
  if (d === null || isRefusal(d) || d.kind !== "DATA" || (d.from !== 0 && d.from !== have))
    return fatal({ errno: "EPROTO", text: `expected DATA 0 or DATA ${have}` });

  const fh = await open(
    part,
    constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | (d.from === 0 ? constants.O_TRUNC : 0),
    0o644,
  ).catch((err: unknown) => {
    throw toSocketError(err, { op: "open", address: part });
  });
  let received = 0;
  let writeError: unknown;
  let busy: Promise<void> | undefined;
  try {
    const h = d.from === 0 ? createHash("sha256") : hash;
    let pos = d.from;
    opts.onFile?.(m.path, m.size, d.from);
    // what arrives (socket reads of up to 64 KiB) is hashed at once and written by one writer:
    // idle, it writes a piece at once; busy, pieces gather into a batch that goes in one writev
    // when the write in flight ends. Reading waits while a whole CHUNK is gathered, so memory
    // stays near two chunks, and bytes never wait in memory for more bytes to come.
    let batch: Buffer[] = [];
    let batched = 0;
    const start = () => {
      const bufs = batch;
      const at = pos;
      pos += batched;
      batch = [];
      batched = 0;
      busy = writevAt(fh, bufs, at).then(
        () => {
          busy = undefined;
          if (batched > 0 && writeError === undefined) start();
        },
        (err: unknown) => {
          busy = undefined;
          writeError = err;
        },
      );
    };
    const put = async (piece: Buffer) => {
      batch.push(piece);
      batched += piece.length;
      if (busy === undefined) start();
      while (busy !== undefined && batched >= CHUNK) await busy;
    };
    let remaining = m.size - d.from;
    while (remaining > 0) {
      touch();
      let b: Buffer | null;
      try {
        b = await conn.read(Math.min(remaining, CHUNK));
      } catch (err) {
        throw toSocketError(err, {
          op: "recv",
          address: conn.remoteAddress,
          hint: `the transfer of ${shown} broke after ${d.from + received} of ${m.size} bytes; ${partName(name)} is kept: a re-run resumes`,
        });
      }
      if (b === null)
        throw new ConnectionResetError("ECONNRESET", {
          op: "recv",
          address: conn.remoteAddress,
          hint: `the sender went away after ${d.from + received} of ${m.size} bytes of ${shown}; ${partName(name)} is kept: a re-run resumes`,
        });
      remaining -= b.length;
      received += b.length;
      opts.onBytes?.(b.length);
      if (writeError !== undefined) continue; // draining what the sender still sends
      h.update(b);
      await put(b);
    }
    if (want === undefined) {
      // version 2: the sender's SHA-256 of what it sent follows the data
      const t = await next();
      if (t === null || isRefusal(t) || t.kind !== "SHA256")
        return fatal({ errno: "EPROTO", text: `expected SHA256 <sha256> after the data of ${shown}` });
      want = t.sha256;
    }
    while (busy !== undefined) await busy;
    await fh.close();
    if (writeError !== undefined) {
      const e = toSocketError(writeError, { op: "write", address: part });
      return refuse(
        {
          errno: e.code,
          text: `writing ${shown} failed: ${e.strerror}; ${partName(name)} is kept on the receiver: free space and re-run to resume`,
        },
        d.from,
        received,
      );
    }
    const got = h.digest("hex");
    if (got !== want) {
      await unlink(part).catch(() => {});
      return refuse(
        {
          errno: "EBADMSG",
          text: `${shown} arrived with SHA-256 ${got}, not the announced ${want}: it changed while it was sent, or the data was damaged; re-run`,
        },
        d.from,
        received,
      );
    }
    const placed = await place(part, final, opts.force === true);
    if (placed !== undefined) return refuse(placed, d.from, received);
    await send({ kind: "ACK", sha256: got });
    return { ...entry(), from: d.from, received, status: "saved" };
  } finally {
    // a broken transfer keeps every byte it got: what is gathered or in flight is written first
    while (busy !== undefined) await busy;
    await fh.close().catch(() => {});
  }
}

/** Writes `bufs` at `at` with one writev (the rest, after a short write, one by one). */
async function writevAt(fh: FileHandle, bufs: readonly Buffer[], at: number): Promise<void> {
  let done = bufs.length === 1 ? 0 : (await fh.writev(bufs as Buffer[], at)).bytesWritten;
  for (const b of bufs) {
    if (done >= b.length) {
      done -= b.length;
      at += b.length;
      continue;
    }
    await writeAt(fh, b.subarray(done), at + done);
    at += b.length;
    done = 0;
  }
}

async function writeAt(fh: FileHandle, b: Buffer, at: number): Promise<void> {
  let off = 0;
  while (off < b.length) {
    const { bytesWritten } = await fh.write(b, off, b.length - off, at + off);
    if (bytesWritten === 0) throw makeOSError("ENOSPC", { op: "write" });
    off += bytesWritten;
  }
}

async function hashPrefix(path: string, n: number): Promise<Hash> {
  const hash = createHash("sha256");
  const rs = createReadStream(path, { highWaterMark: CHUNK, start: 0, end: n - 1 });
  for await (const b of rs) hash.update(b as Buffer);
  return hash;
}

/** Moves the verified `.part` to its name: never over an existing file unless `force`. */
async function place(part: string, final: string, force: boolean): Promise<Refusal | undefined> {
  try {
    if (force) await rename(part, final);
    else {
      try {
        await link(part, final); // fails with EEXIST instead of replacing
        await unlink(part);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === "EEXIST") throw err;
        if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw err;
        if ((await lstatOrNull(final)) !== null) throw makeOSError("EEXIST", { op: "rename" });
        await rename(part, final); // a file system without hard links
      }
    }
    return undefined;
  } catch (err) {
    const e = toSocketError(err, { op: "rename", address: final });
    return {
      errno: e.code,
      text:
        e.code === "EEXIST"
          ? `${final} appeared while it was received: the receiver needs --force to replace it`
          : `cannot rename the verified file into place: ${e.strerror}`,
    };
  }
}
