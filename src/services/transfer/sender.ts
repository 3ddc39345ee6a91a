/**
 * The sending side of a direct transfer: which entries a command line names ({@link collect}:
 * files by their base name, directories with `recursive` as a stream of DIR and FILE entries,
 * symbolic links refused unless followed), and one session that sends them ({@link send}),
 * resuming where the receiver has a `.part` whose bytes match, and waiting for each file's
 * acknowledgement.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, open, opendir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ConnectionResetError,
  errnoNumber,
  makeOSError,
  type OSError,
  toSocketError,
} from "../../errors/index.js";
import type { ConnLike } from "../../net/index.js";
import {
  checkName,
  formatSender,
  HELLO,
  HELLO2,
  isRefusal,
  MAX_DEPTH,
  MAX_LINE,
  parseReceiverLine,
  type ReceiverMessage,
  type SenderMessage,
} from "./protocol.js";

/**
 * One entry to send: a directory to create, or a file (its path on this machine and its size).
 * @example `{ kind: "file", path: "photos/a.jpg", source: "/home/me/photos/a.jpg", size: 1234 }`
 */
export type SendEntry =
  | { readonly kind: "dir"; readonly path: string }
  | {
      readonly kind: "file";
      readonly path: string;
      readonly source: string;
      readonly size: number;
      /** The SHA-256 of its `size` bytes, when already known ({@link withHashes}). */
      readonly sha256?: string;
    };

/**
 * What {@link collect} accepts.
 * @example `{ recursive: true, followSymlinks: false }`
 */
export interface CollectOptions {
  /** Send directories (and everything in them); without it a directory is refused (EISDIR). */
  readonly recursive?: boolean;
  /** Send what a symbolic link to a file points to (default: a link is refused, ELOOP). */
  readonly followSymlinks?: boolean;
}

/** Bytes read from the file per step (and per socket write). */
const CHUNK = 1 << 20;

function refused(code: string, path: string, hint: string): OSError {
  return makeOSError(code, { op: "open", address: path, hint });
}

/**
 * The entries for the FILE arguments of a command line: a file becomes its base name; with
 * `recursive` a directory becomes a DIR entry followed by its contents (sorted). Symbolic links
 * are refused (ELOOP) unless `followSymlinks`; a link to a directory always is. Anything that is
 * neither a file nor a directory (a socket, a device) is refused. Rejects an OSError.
 *
 * @example `await collect(["a.bin", "photos"], { recursive: true }) // [{ kind: "file", path: "a.bin", … }, { kind: "dir", path: "photos" }, …]`
 */
export function collect(paths: readonly string[], opts: CollectOptions = {}): Promise<SendEntry[]> {
  return collectAll(paths, opts).catch((err: unknown) => {
    throw toSocketError(err, { op: "open" });
  });
}

async function collectAll(paths: readonly string[], opts: CollectOptions): Promise<SendEntry[]> {
  const out: SendEntry[] = [];
  const seen = new Set<string>();
  const visit = async (source: string, rel: string, depth: number): Promise<void> => {
    const name = basename(rel);
    const bad = checkName(name);
    if (bad !== undefined) throw refused(bad.errno, source, `the receiver would refuse it: ${bad.text}`);
    if (depth > MAX_DEPTH)
      throw refused("ENAMETOOLONG", source, `deeper than ${MAX_DEPTH} directories: send a shallower tree`);
    let st = await lstat(source).catch((err: unknown) => {
      throw toSocketError(err, { op: "open", address: source });
    });
    if (st.isSymbolicLink()) {
      if (!opts.followSymlinks)
        throw refused(
          "ELOOP",
          source,
          "a symbolic link: refused (--follow-symlinks sends the file it points to)",
        );
      st = await stat(source).catch((err: unknown) => {
        throw toSocketError(err, {
          op: "open",
          address: source,
          hint: "a symbolic link that points nowhere",
        });
      });
      if (st.isDirectory()) throw refused("ELOOP", source, "a symbolic link to a directory: refused");
    }
    if (st.isDirectory()) {
      if (!opts.recursive) throw refused("EISDIR", source, "a directory: send it with -r");
      out.push({ kind: "dir", path: rel });
      const names: string[] = [];
      for await (const e of await opendir(source)) names.push(e.name);
      for (const n of names.sort()) await visit(join(source, n), `${rel}/${n}`, depth + 1);
      return;
    }
    if (!st.isFile()) throw refused("EINVAL", source, "not a regular file or a directory");
    out.push({ kind: "file", path: rel, source, size: st.size });
  };
  for (const p of paths) {
    const name = basename(p);
    if (seen.has(name))
      throw refused("EEXIST", p, `two arguments have the base name ${JSON.stringify(name)}`);
    seen.add(name);
    await visit(p, name, 1);
  }
  return out;
}

/**
 * How {@link send} reports and paces.
 * @example `{ rate: 1_000_000, onBytes: (n) => meter.sent(n) }`
 */
export interface SendOptions {
  /** At most this many bytes of file data per second (default: as fast as the path allows). */
  readonly rate?: number;
  /**
   * Speak version 1 of the protocol: every file's SHA-256 in its header, so a file without one
   * is read twice (hashed, then sent). Default: version 2, where such a file's SHA-256 is
   * computed while it is sent and follows its data; a receiver older than version 2 needs this.
   */
  readonly hashFirst?: boolean;
  /** A file is about to go: `from` bytes are already at the receiver. */
  readonly onFile?: (path: string, size: number, from: number) => void;
  /** Bytes of file data went out. */
  readonly onBytes?: (n: number) => void;
  /** Sending a file's hash first takes a while: hashing began (and ended, with `done`). */
  readonly onHash?: (path: string, done: boolean) => void;
  /** An entry is settled (delivered, had or refused), as it goes into the report. */
  readonly onEntry?: (e: SentEntry) => void;
}

/**
 * What became of one entry.
 * @example `{ path: "a.bin", kind: "file", size: 10, sha256: "…", from: 0, sent: 10, status: "delivered" }`
 */
export interface SentEntry {
  /** The entry's path as sent. */
  readonly path: string;
  /** `file` or `dir`. */
  readonly kind: "file" | "dir";
  /** The file's size (0 for a directory). */
  readonly size: number;
  /** The file's SHA-256 (empty for a directory). */
  readonly sha256: string;
  /** Bytes the receiver already had (a resumed `.part`). */
  readonly from: number;
  /** File bytes sent in this session. */
  readonly sent: number;
  /** `delivered` (acknowledged with the same SHA-256), `had` (identical there already), `refused`. */
  readonly status: "delivered" | "had" | "refused";
  /** The receiver's reason, as an OSError with its errno. */
  readonly error?: OSError;
}

/**
 * The result of {@link send}.
 * @example `report.entries.every((e) => e.status !== "refused")`
 */
export interface SendReport {
  readonly entries: SentEntry[];
}

/**
 * The SHA-256 of a file's first `n` bytes (all of it when `n` is undefined).
 * @example `(await sha256File("/tmp/a.bin")).digest("hex")`
 */
export async function sha256File(path: string, n?: number): Promise<Hash> {
  const hash = createHash("sha256");
  if (n === 0) return hash;
  const rs = createReadStream(path, { highWaterMark: 1 << 20, ...(n === undefined ? {} : { end: n - 1 }) });
  for await (const b of rs) hash.update(b as Buffer);
  return hash;
}

async function hashOne(
  e: Extract<SendEntry, { kind: "file" }>,
  onHash: SendOptions["onHash"],
): Promise<string> {
  onHash?.(e.path, false);
  const h = (await sha256File(e.source, e.size)).digest("hex");
  onHash?.(e.path, true);
  return h;
}

/**
 * The entries with each file's SHA-256 (of its `size` bytes) filled in: done before connecting,
 * so a receiver never waits on the sender's disk for a header (its idle timeout would end the
 * session during a long hash).
 * @example `const ready = await withHashes(await collect(["a.iso"]))`
 */
export async function withHashes(
  entries: readonly SendEntry[],
  onHash?: SendOptions["onHash"],
): Promise<SendEntry[]> {
  const out: SendEntry[] = [];
  for (const e of entries) out.push(e.kind === "file" ? { ...e, sha256: await hashOne(e, onHash) } : e);
  return out;
}

/**
 * Sends `entries` over `conn` as one session (HELLO … END) and resolves what became of each.
 * A refusal of the receiver does not stop the session (the next entry goes); a broken connection
 * or a protocol error rejects an OSError. Does not close `conn`.
 *
 * @example
 * ```ts
 * const conn = await dial("tcp", "127.0.0.1:9000");
 * const report = await send(conn, await collect(["a.bin"]));
 * await conn.close();
 * ```
 */
export function send(
  conn: ConnLike,
  entries: readonly SendEntry[],
  opts: SendOptions = {},
): Promise<SendReport> {
  return sendAll(conn, entries, opts).catch((err: unknown) => {
    throw toSocketError(err, { op: "send", address: conn.remoteAddress });
  });
}

async function sendAll(
  conn: ConnLike,
  entries: readonly SendEntry[],
  opts: SendOptions,
): Promise<SendReport> {
  const done: SentEntry[] = [];
  const out = {
    push: (e: SentEntry) => {
      done.push(e);
      opts.onEntry?.(e);
    },
  };
  const write = async (data: string | Buffer) => {
    try {
      await conn.write(data);
    } catch (err) {
      throw toSocketError(err, { op: "send", address: conn.remoteAddress });
    }
  };
  const reply = async (): Promise<ReceiverMessage> => {
    let line: Buffer | null;
    try {
      line = await conn.readLine({ max: MAX_LINE });
    } catch (err) {
      if ((err as { code?: unknown }).code === "EFRAMETOOLARGE")
        throw makeOSError("EPROTO", {
          op: "recv",
          address: conn.remoteAddress,
          hint: "is the peer a sockit receiver?",
        });
      throw toSocketError(err, { op: "recv", address: conn.remoteAddress });
    }
    if (line === null || line[line.length - 1] !== 0x0a)
      throw new ConnectionResetError("ECONNRESET", {
        op: "recv",
        address: conn.remoteAddress,
        hint: "the receiver closed the connection without an answer: the file did not arrive (a re-run resumes)",
      });
    const m = parseReceiverLine(line);
    if (isRefusal(m)) throw makeOSError(m.errno, { op: "recv", address: conn.remoteAddress, hint: m.text });
    return m;
  };
  const msg = (m: SenderMessage) => write(formatSender(m));
  // an errno this side does not know (a newer or foreign receiver) becomes EIO, named in the hint
  const refusal = (m: Extract<ReceiverMessage, { kind: "NO" }>, path: string): OSError =>
    errnoNumber(m.errno) === undefined
      ? makeOSError("EIO", {
          op: "send",
          address: path,
          hint: `the receiver refused it (${m.errno}): ${m.text}`,
        })
      : makeOSError(m.errno, { op: "send", address: path, hint: `the receiver refused it: ${m.text}` });

  const v2 = opts.hashFirst !== true;
  await write(`${v2 ? HELLO2 : HELLO}\n`);
  if (v2) {
    const hi = await reply();
    if (hi.kind === "NO")
      throw makeOSError("EPROTO", {
        op: "recv",
        address: conn.remoteAddress,
        hint: `the receiver does not speak ${HELLO2} (${hi.errno}: ${hi.text}): an older sockit recv needs send --hash-first`,
      });
    if (hi.kind !== "HELLO")
      throw makeOSError("EPROTO", { op: "recv", hint: `answer ${hi.kind} to ${HELLO2}` });
  }
  for (const e of entries) {
    if (e.kind === "dir") {
      await msg({ kind: "DIR", path: e.path });
      const r = await reply();
      const base = { path: e.path, kind: "dir" as const, size: 0, sha256: "", from: 0, sent: 0 };
      if (r.kind === "NO") out.push({ ...base, status: "refused", error: refusal(r, e.path) });
      else if (r.kind === "OK") out.push({ ...base, status: "delivered" });
      else throw makeOSError("EPROTO", { op: "recv", hint: `answer ${r.kind} to DIR` });
      continue;
    }
    // version 2 sends a file not hashed yet with its hash after the data, computed while it goes
    let sha256 = e.sha256 ?? (v2 ? undefined : await hashOne(e, opts.onHash));
    await msg({ kind: "FILE", size: e.size, ...(sha256 === undefined ? {} : { sha256 }), path: e.path });
    let r = await reply();
    if (r.kind === "HASH" && sha256 === undefined) {
      // a file of that name is there: the receiver needs the hash first to tell whether it is this one
      sha256 = await hashOne(e, opts.onHash);
      await msg({ kind: "FILE", size: e.size, sha256, path: e.path });
      r = await reply();
    }
    const base = () => ({ path: e.path, kind: "file" as const, size: e.size, sha256: sha256 ?? "" });
    if (r.kind === "NO") {
      out.push({ ...base(), from: 0, sent: 0, status: "refused", error: refusal(r, e.path) });
      continue;
    }
    if (r.kind === "HAVE" && sha256 !== undefined) {
      out.push({ ...base(), from: e.size, sent: 0, status: "had" });
      continue;
    }
    if (r.kind !== "OK") throw makeOSError("EPROTO", { op: "recv", hint: `answer ${r.kind} to FILE` });
    // resume only when the receiver's bytes are this file's first bytes
    const prefix = r.have > 0 && r.have <= e.size ? await sha256File(e.source, r.have) : undefined;
    const from = prefix !== undefined && prefix.copy().digest("hex") === r.sha256 ? r.have : 0;
    await msg({ kind: "DATA", from });
    opts.onFile?.(e.path, e.size, from);
    const running = sha256 !== undefined ? undefined : from > 0 ? prefix! : createHash("sha256");
    const sent = await sendRange(e.source, from, e.size, write, opts, running);
    if (running !== undefined) {
      sha256 = running.digest("hex");
      await msg({ kind: "SHA256", sha256 });
    }
    const a = await reply();
    if (a.kind === "NO") out.push({ ...base(), from, sent, status: "refused", error: refusal(a, e.path) });
    else if (a.kind === "ACK" && a.sha256 === sha256)
      out.push({ ...base(), from, sent, status: "delivered" });
    else throw makeOSError("EPROTO", { op: "recv", hint: `answer ${a.kind} after the data of ${e.path}` });
  }
  await msg({ kind: "END" });
  const bye = await reply();
  if (bye.kind !== "BYE") throw makeOSError("EPROTO", { op: "recv", hint: `answer ${bye.kind} to END` });
  return { entries: done };
}

/**
 * Sends bytes [from, size) of a file, paced to `opts.rate`, adding them to `hash` if given;
 * resolves the count sent. One write is in flight at a time, and while it drains the next chunk
 * is read from disk and hashed: two buffers used in turn (a buffer is refilled only after the
 * socket took all of it: `write` resolves once the bytes are in the kernel), so memory stays at
 * two chunks and the hashing overlaps the socket instead of waiting for it.
 */
async function sendRange(
  source: string,
  from: number,
  size: number,
  write: (b: Buffer) => Promise<void>,
  opts: SendOptions,
  hash?: Hash,
): Promise<number> {
  const fh = await open(source, "r").catch((err: unknown) => {
    throw toSocketError(err, { op: "open", address: source });
  });
  const chunk = opts.rate === undefined ? CHUNK : Math.max(1024, Math.min(CHUNK, Math.floor(opts.rate / 20)));
  const bufs = [Buffer.allocUnsafe(Math.min(chunk, size - from)), undefined as Buffer | undefined];
  let turn = 0;
  /** Reads the chunk at `at` into the buffer whose turn it is; resolves it hashed. */
  const readAt = (at: number): Promise<Buffer> => {
    const b = (bufs[turn] ??= Buffer.allocUnsafe(bufs[0]!.length));
    turn ^= 1;
    const n = Math.min(b.length, size - at);
    return fh.read(b, 0, n, at).then(({ bytesRead }) => {
      if (bytesRead === 0)
        throw makeOSError("EIO", {
          op: "read",
          address: source,
          hint: `the file shrank while it was sent (${at} of ${size} bytes): re-run`,
        });
      const got = b.subarray(0, bytesRead);
      hash?.update(got); // in file order: each chunk is read (and hashed) after the one before
      return got;
    });
  };
  const t0 = performance.now();
  let sent = 0;
  let ahead: Promise<Buffer> | undefined;
  try {
    let b: Buffer | undefined = from < size ? await readAt(from) : undefined;
    while (b !== undefined) {
      const at = from + sent + b.length;
      const w = write(b);
      // while b drains: the next chunk is read into the other buffer, and hashed
      if (at < size) {
        ahead = readAt(at);
        ahead.catch(() => {}); // awaited below, or in finally when the write fails
      }
      await w;
      sent += b.length;
      opts.onBytes?.(b.length);
      b = undefined;
      if (ahead !== undefined) {
        const next = ahead;
        ahead = undefined;
        b = await next;
      }
      if (opts.rate !== undefined) {
        const late = (sent / opts.rate) * 1000 - (performance.now() - t0);
        if (late > 1) await sleep(late);
      }
    }
  } finally {
    await ahead?.catch(() => {}); // no read may still use the descriptor when it closes
    await fh.close().catch(() => {});
  }
  return sent;
}
