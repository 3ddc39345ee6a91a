/**
 * The static file handler of `sockit serve http`: GET and HEAD of files and directories under one
 * root, safe by default (see {@link staticHandler}).
 *
 * @module
 */
import { constants as fsc, readSync, realpathSync, type Stats, statSync } from "node:fs";
import { type FileHandle, open, readdir, realpath, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, sep } from "node:path";
import mime from "mime-types";
import {
  etagOf,
  type ListingEntry,
  listingHtml,
  notModified,
  parseRange,
  rangeApplies,
  sortEntries,
  targetPath,
  wantsJson,
} from "./protocol.js";

/**
 * Options of {@link staticHandler}.
 * @example `const o: StaticOptions = { root: "public", cors: true, dotfiles: false }`
 */
export interface StaticOptions {
  /** The directory served (every path stays inside it). */
  readonly root: string;
  /** Serve names starting with "." (default false: they answer 404). */
  readonly dotfiles?: boolean;
  /** Follow symbolic links that lead out of the root (default false: 403). */
  readonly followSymlinks?: boolean;
  /** Add `Access-Control-Allow-Origin: *` to every answer (default false). */
  readonly cors?: boolean;
  /** Directory listings when there is no index.html (default true). */
  readonly listings?: boolean;
  /**
   * Bytes of small files (up to 64 KiB each) kept in memory between requests (default 16 MiB;
   * 0: none). An entry is used only while the file's identity, size, mtime and ctime are what
   * they were: every request still looks the file up (`realpath`, `stat`), so an edited,
   * replaced, chmod-ed or removed file is seen at once.
   */
  readonly cacheBytes?: number;
}

/** Default of {@link StaticOptions.cacheBytes}. */
const DEFAULT_CACHE_BYTES = 16 * 1024 * 1024;

/**
 * A request handler (for {@link serveHttp} or `node:http`) serving files under `root`.
 * GET and HEAD only (anything else: 405 with `Allow`); `index.html` for a directory, else a
 * listing (HTML, or JSON when the client prefers `application/json`); a directory asked without
 * its trailing slash is redirected (301) to it; `Content-Type` from `mime-types`; one `Range`
 * (206, 416); `ETag` and `Last-Modified` with `If-None-Match`/`If-Modified-Since` (304) and
 * `If-Range`. Files are streamed with backpressure: memory does not grow with their size.
 *
 * Refused: `..` in any spelling and encoded separators (403), malformed encoding and NUL bytes
 * (400), dotfiles unless `dotfiles` (404), symbolic links leading out of the root unless
 * `followSymlinks` (403).
 *
 * @example
 * ```ts
 * const srv = await serveHttp({ address: "127.0.0.1:0", handler: staticHandler({ root: "." }) });
 * ```
 */
export function staticHandler(opts: StaticOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const dotfiles = opts.dotfiles ?? false;
  const follow = opts.followSymlinks ?? false;
  const listings = opts.listings ?? true;
  let rootReal: Promise<string> | undefined;
  const root = () => (rootReal ??= realpath(opts.root));
  const cache = new SmallFileCache(opts.cacheBytes ?? DEFAULT_CACHE_BYTES);
  return (req, res) => {
    if (opts.cors) res.setHeader("Access-Control-Allow-Origin", "*");
    void serveStatic(req, res, { root, dotfiles, follow, listings, cache }).catch((err: unknown) => {
      if (!res.headersSent) fail(res, 500, `internal error: ${(err as Error).message ?? String(err)}`);
      else res.destroy();
    });
  };
}

interface Ctx {
  readonly root: () => Promise<string>;
  readonly dotfiles: boolean;
  readonly follow: boolean;
  readonly listings: boolean;
  readonly cache: SmallFileCache;
}

/** A file changed more recently than this (ms) is not cached (see `SmallFileCache.put`). */
const RACY_MS = 1000;

/** A file's identity and version as `stat` tells it: an entry is good only while all of it holds. */
function sameVersion(a: Stats, b: Stats): boolean {
  return (
    a.dev === b.dev &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.ctimeMs === b.ctimeMs
  );
}

/**
 * The bodies of small files, bounded in bytes, least recently used evicted first. It saves the
 * open/fstat/read/close of a file that did not change (four thread-pool round trips of five);
 * the lookup (`realpath` for the symlink check, `stat`) stays on every request.
 */
class SmallFileCache {
  readonly #max: number;
  #bytes = 0;
  readonly #entries = new Map<string, { st: Stats; body: Buffer }>();

  constructor(max: number) {
    this.#max = Math.max(0, max);
  }

  get(path: string, st: Stats): Buffer | undefined {
    const e = this.#entries.get(path);
    if (e === undefined) return undefined;
    this.#entries.delete(path);
    if (!sameVersion(e.st, st)) {
      this.#bytes -= e.body.length;
      return undefined;
    }
    this.#entries.set(path, e); // most recently used last
    return e.body;
  }

  put(path: string, st: Stats, body: Buffer): void {
    if (body.length > this.#max) return;
    // "racily clean": file times tick coarsely (a few ms), so two same-size writes within one tick
    // leave the same mtime and ctime. A file changed in the last second is not kept: whatever
    // its next version, it is read again
    if (Date.now() - Math.max(st.mtimeMs, st.ctimeMs) < RACY_MS) return;
    const old = this.#entries.get(path);
    if (old !== undefined) {
      this.#entries.delete(path);
      this.#bytes -= old.body.length;
    }
    for (const [k, e] of this.#entries) {
      if (this.#bytes + body.length <= this.#max) break;
      this.#entries.delete(k);
      this.#bytes -= e.body.length;
    }
    this.#entries.set(path, { st, body });
    this.#bytes += body.length;
  }
}

function fail(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = `${status} ${text}\n`;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.writeHead(status);
  res.end(res.req.method === "HEAD" ? undefined : body);
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

async function serveStatic(req: IncomingMessage, res: ServerResponse, c: Ctx): Promise<void> {
  const method = req.method ?? "";
  if (method !== "GET" && method !== "HEAD") {
    fail(res, 405, "method not allowed: only GET and HEAD", { Allow: "GET, HEAD" });
    return;
  }
  const t = targetPath(req.url ?? "/", c.dotfiles);
  if (!t.ok) {
    fail(res, t.status, t.status === 404 ? "not found" : `refused: ${t.reason}`);
    return;
  }
  const root = await c.root();
  const wanted = join(root, ...t.segments);
  // The lookup (realpath for the symlink check, then stat) runs synchronously: on a local file
  // system each is one system call of a few microseconds, where a thread-pool round trip costs
  // 20-30 µs of CPU — most of a small request. Opening and reading stay on the thread pool.
  let real: string;
  try {
    real = realpathSync.native(wanted);
  } catch (err) {
    notFound(res, err);
    return;
  }
  if (!c.follow && !inside(root, real)) {
    fail(
      res,
      403,
      "refused: a symbolic link leads out of the served directory (--follow-symlinks allows it)",
    );
    return;
  }
  // stat first: a small file that did not change is answered from the cache without opening it.
  // Anything opened is opened O_NONBLOCK (a FIFO swapped in meanwhile cannot hang the open) and
  // its descriptor's own fstat decides (a file replaced between stat and open is what is sent)
  let st: Stats;
  try {
    st = statSync(real);
  } catch (err) {
    notFound(res, err);
    return;
  }
  if (st.isFile()) {
    await serveFile(req, res, real, st, c.cache);
    return;
  }
  if (!st.isDirectory()) {
    fail(res, 403, "refused: not a regular file");
    return;
  }
  const urlPath = `/${t.segments.map(encodeURIComponent).join("/")}${t.segments.length > 0 ? "/" : ""}`;
  if (!t.slash && t.segments.length > 0) {
    res.writeHead(301, { Location: urlPath, "Content-Length": 0 });
    res.end();
    return;
  }
  const index = join(real, "index.html");
  const ist = await stat(index).catch(() => undefined);
  if (ist?.isFile() && (c.follow || inside(root, await realpath(index)))) {
    await serveFile(req, res, index, ist, c.cache);
    return;
  }
  if (!c.listings) {
    fail(res, 403, "refused: directory listings are off");
    return;
  }
  await sendListing(req, res, real, urlPath, c);
}

function notFound(res: ServerResponse, err: unknown): void {
  const code = (err as { code?: string }).code;
  if (code === "EACCES" || code === "EPERM") fail(res, 403, "refused: permission denied");
  else fail(res, 404, "not found");
}

async function sendListing(
  req: IncomingMessage,
  res: ServerResponse,
  dir: string,
  urlPath: string,
  c: Ctx,
): Promise<void> {
  const names = (await readdir(dir)).filter((n) => c.dotfiles || !n.startsWith("."));
  const entries: ListingEntry[] = [];
  for (const name of names) {
    const s = await stat(join(dir, name)).catch(() => undefined);
    if (s === undefined) continue; // a dangling link, or gone meanwhile
    entries.push({
      name,
      type: s.isDirectory() ? "directory" : s.isFile() ? "file" : "other",
      size: s.isFile() ? s.size : 0,
      mtime: s.mtime.toISOString(),
    });
  }
  const sorted = sortEntries(entries);
  const json = wantsJson(req.headers.accept);
  const body = Buffer.from(
    json
      ? `${JSON.stringify({ path: decodeURIComponent(urlPath), entries: sorted })}\n`
      : listingHtml(decodeURIComponent(urlPath), sorted),
  );
  res.setHeader("Content-Type", json ? "application/json; charset=utf-8" : "text/html; charset=utf-8");
  res.setHeader("Content-Length", body.length);
  res.setHeader("Vary", "Accept");
  res.setHeader("Cache-Control", "no-cache");
  res.writeHead(200);
  res.end(req.method === "HEAD" ? undefined : body);
}

/**
 * Larger files are streamed in pieces through two buffers per download (one read ahead, one
 * being sent; see {@link streamFile}). Fewer, bigger pieces cost less per byte, so a piece is as
 * big as a budget shared by the downloads running allows:
 * 2 MiB each up to 16 at once, halving as more run, never under 64 KiB — the process holds at
 * most about STREAM_BUDGET (plus 128 KiB per download past 512) whatever the number of clients.
 */
const STREAM_BUDGET = 64 * 1024 * 1024;
const STREAM_MAX = 2 * 1024 * 1024;
const STREAM_MIN = 64 * 1024;
let streaming = 0;

/** The piece size for a download starting now (see {@link STREAM_BUDGET}). */
function streamChunk(): number {
  let n = STREAM_MAX;
  while (n > STREAM_MIN && 2 * n * (streaming + 1) > STREAM_BUDGET) n /= 2;
  return n;
}

/** Files up to this size are read in one call and sent with the headers in one write. */
const SMALL_FILE = 64 * 1024;

/**
 * Answers with the regular file at `path` that `stat` described as `st`: from the cache when it
 * is small and unchanged, else opened (and, when small, read whole and cached).
 */
async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  st: Stats,
  cache: SmallFileCache,
): Promise<void> {
  if (st.size <= SMALL_FILE) {
    const hit = cache.get(path, st);
    if (hit !== undefined) {
      sendFile(req, res, path, st, hit);
      return;
    }
  }
  let fh: FileHandle;
  try {
    fh = await open(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (err) {
    notFound(res, err);
    return;
  }
  try {
    const fst = await fh.stat();
    if (!fst.isFile()) {
      fail(res, 403, "refused: not a regular file");
      return;
    }
    if (fst.size > SMALL_FILE) {
      await sendFile(req, res, path, fst, fh);
      return;
    }
    const body = Buffer.allocUnsafe(fst.size);
    const { bytesRead } = fst.size === 0 ? { bytesRead: 0 } : await fh.read(body, 0, fst.size, 0);
    if (bytesRead !== fst.size) {
      res.destroy(); // the file shrank meanwhile: never a short body
      return;
    }
    cache.put(path, fst, body);
    sendFile(req, res, path, fst, body);
  } finally {
    await fh.close();
  }
}

/** Content-Type by file extension (the table lookup is not free; a server asks for few types). */
const typeByExt = new Map<string, string>();

function contentType(path: string): string {
  const ext = extname(path).toLowerCase();
  let type = typeByExt.get(ext);
  if (type === undefined) {
    type = mime.contentType(mime.lookup(path) || "application/octet-stream") || "application/octet-stream";
    if (typeByExt.size < 1024) typeByExt.set(ext, type);
  }
  return type;
}

/**
 * Sends the file (status, validators, one range) from a buffer holding all of it, or streamed
 * from an open descriptor (which the caller closes when the returned promise settles).
 */
function sendFile(req: IncomingMessage, res: ServerResponse, path: string, st: Stats, body: Buffer): void;
function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  st: Stats,
  body: FileHandle,
): Promise<void>;
function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  st: Stats,
  body: Buffer | FileHandle,
): Promise<void> | undefined {
  const size = st.size;
  const etag = etagOf(size, st.mtimeMs);
  res.setHeader("ETag", etag);
  res.setHeader("Last-Modified", st.mtime.toUTCString());
  res.setHeader("Accept-Ranges", "bytes");
  if (notModified(req.headers, etag, st.mtimeMs)) {
    res.writeHead(304);
    res.end();
    return undefined;
  }
  let start = 0;
  let end = size - 1;
  const range = rangeApplies(single(req.headers["if-range"]), etag, st.mtimeMs)
    ? parseRange(req.headers.range, size)
    : undefined;
  if (range === "unsatisfiable") {
    fail(res, 416, "range not satisfiable", { "Content-Range": `bytes */${size}` });
    return undefined;
  }
  if (range !== undefined) {
    ({ start, end } = range);
    res.statusCode = 206;
    res.setHeader("Content-Range", `bytes ${start}-${end}/${size}`);
  }
  const length = size === 0 ? 0 : end - start + 1;
  res.setHeader("Content-Type", contentType(path));
  res.setHeader("Content-Length", length);
  if (req.method === "HEAD" || length === 0) {
    res.end();
    return undefined;
  }
  if (Buffer.isBuffer(body)) {
    res.end(length === size ? body : body.subarray(start, end + 1));
    return undefined;
  }
  streaming++;
  return streamFile(res, body, start, end, streamChunk())
    .then(
      () => void res.end(),
      () => {
        // the client went away, or the file ended early (shrank meanwhile): the connection is
        // cut, so the client sees fewer bytes than Content-Length (never a short success)
        res.destroy();
      },
    )
    .finally(() => streaming--);
}

/**
 * Pieces read synchronously (see {@link streamFile}): small enough that the piece is still in the
 * CPU cache when it is sent.
 */
const SYNC_PIECE = 256 * 1024;
/**
 * A synchronous read slower than this (ms) without disk input counted means a file system that
 * blocks otherwise (a network mount): the rest of the file is read on the thread pool. (A busy
 * machine's scheduler alone stretches a read from memory to 20–60 ms now and then.)
 */
const SYNC_SLOW_MS = 100;
/**
 * A synchronous read from memory takes well under this (ms; 256 KiB: tens of µs). Only a read that
 * took longer is looked at (was disk input counted?): `getrusage` after every read cost nearly as much as the reads.
 */
const SYNC_CHECK_MS = 1;

/**
 * Sends bytes `start`..`end` of the open file `fh` as the body of `res`, one piece read ahead
 * while the one before is sent; a piece is sent only when the connection has taken all of the one
 * before (the write's callback: sockit's write resolved, so the kernel holds the bytes), so memory
 * per download stays at two pieces whatever the file's size.
 *
 * Where the CPU goes in a long download is copying: the file's bytes into the piece, the piece into
 * the socket. Pieces are read synchronously into two buffers of 256 KiB used in turn, on the
 * thread that sends them, while the file comes from the page cache (as a served file mostly
 * does): the piece is still in that CPU's cache when it is sent, and no thread hand-off or
 * garbage comes per piece. The first read that waited for the disk (it took over
 * {@link SYNC_CHECK_MS} and the process's block input count, `getrusage`'s `ru_inblock`, went up:
 * one read of at most 256 KiB) or took longer than {@link SYNC_SLOW_MS} switches the rest of the
 * download to the thread pool, in pieces of `piece`
 * bytes, each a fresh buffer (a buffer refilled by a pool thread right after this thread sent it
 * measured slower to fill than a new one).
 *
 * Rejects when the file ends before `end` (it shrank meanwhile) or the connection closes.
 */
async function streamFile(
  res: ServerResponse,
  fh: FileHandle,
  start: number,
  end: number,
  piece: number,
): Promise<void> {
  let left = end - start + 1;
  const small = Math.min(SYNC_PIECE, piece, left);
  const bufs = [Buffer.allocUnsafeSlow(small), Buffer.allocUnsafeSlow(left > small ? small : 0)];
  let pos = start;
  let turn = 0;
  let sync = true;
  const inblock0 = process.resourceUsage().fsRead;
  const read = (): Promise<Buffer> => {
    if (sync) {
      const t0 = performance.now();
      const p = readPieceSync(fh, bufs[turn]!, pos, Math.min(small, left));
      const took = performance.now() - t0;
      // a slow read waited for the disk (block input counted since the download began), or for
      // something slower still; one merely descheduled on a busy machine is neither
      if (took > SYNC_CHECK_MS && (took > SYNC_SLOW_MS || process.resourceUsage().fsRead !== inblock0)) {
        sync = false;
      }
      return p;
    }
    const n = Math.min(piece, left);
    return readPiece(fh, Buffer.allocUnsafeSlow(n), pos, n);
  };
  const readAhead = (): Promise<Buffer> => {
    const p = read();
    // it may fail (the file shrank) while the piece before is still being sent: handled there,
    // not an unhandled rejection meanwhile
    p.catch(() => {});
    return p;
  };
  let next: Promise<Buffer> | undefined = readAhead();
  try {
    while (next !== undefined) {
      const chunk: Buffer = await next;
      next = undefined;
      pos += chunk.length;
      left -= chunk.length;
      const sent = sendPiece(res, chunk);
      if (left > 0) {
        turn ^= 1;
        next = readAhead();
      }
      await sent;
    }
  } finally {
    // a read still running when the send failed: let it finish before the caller closes fh
    await next?.catch(() => {});
  }
}

/** Reads exactly `n` bytes at `at` into `buf` (synchronously); rejects when the file ends first. */
async function readPieceSync(fh: FileHandle, buf: Buffer, at: number, n: number): Promise<Buffer> {
  let got = 0;
  while (got < n) {
    const bytesRead = readSync(fh.fd, buf, got, n - got, at + got);
    if (bytesRead === 0) throw new Error(`the file ended at byte ${at + got}, before the ${n} bytes asked`);
    got += bytesRead;
  }
  return n === buf.length ? buf : buf.subarray(0, n);
}

/** Reads exactly `n` bytes at `at` into `buf`; rejects when the file ends first. */
async function readPiece(fh: FileHandle, buf: Buffer, at: number, n: number): Promise<Buffer> {
  let got = 0;
  while (got < n) {
    const { bytesRead } = await fh.read(buf, got, n - got, at + got);
    if (bytesRead === 0) throw new Error(`the file ended at byte ${at + got}, before the ${n} bytes asked`);
    got += bytesRead;
  }
  return n === buf.length ? buf : buf.subarray(0, n);
}

/** Writes `chunk` to `res`; resolves when the connection has taken all of it, rejects if it closes first. */
function sendPiece(res: ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (res.destroyed) {
      reject(new Error("the connection closed during the answer"));
      return;
    }
    const onClose = () => reject(new Error("the connection closed during the answer"));
    res.once("close", onClose);
    res.write(chunk, (err) => {
      res.off("close", onClose);
      if (err) reject(err);
      else resolve();
    });
  });
}
