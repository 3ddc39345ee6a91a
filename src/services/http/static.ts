/**
 * The static file handler of `sockit serve http`: GET and HEAD of files and directories under one
 * root, safe by default (see {@link staticHandler}).
 *
 * @module
 */
import { constants as fsc, type Stats } from "node:fs";
import { type FileHandle, open, readdir, realpath, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join, sep } from "node:path";
import { pipeline } from "node:stream/promises";
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
}

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
  return (req, res) => {
    if (opts.cors) res.setHeader("Access-Control-Allow-Origin", "*");
    void serveStatic(req, res, { root, dotfiles, follow, listings }).catch((err: unknown) => {
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
  let real: string;
  try {
    real = await realpath(wanted);
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
  // one open for everything: O_NONBLOCK so a FIFO in DIR cannot hang the open (it is refused
  // below), and the descriptor's own fstat decides (no stat-then-open race)
  let fh: FileHandle;
  try {
    fh = await open(real, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (err) {
    notFound(res, err);
    return;
  }
  let st: Stats;
  try {
    st = await fh.stat();
  } catch (err) {
    await fh.close();
    throw err;
  }
  if (st.isFile()) {
    await sendFile(req, res, real, fh, st);
    return;
  }
  await fh.close();
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
    const ifh = await open(index, fsc.O_RDONLY | fsc.O_NONBLOCK).catch(() => undefined);
    if (ifh !== undefined) {
      await sendFile(req, res, index, ifh, await ifh.stat().catch(() => ist));
      return;
    }
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

/** Files up to this size are read in one call and sent with the headers in one write. */
const SMALL_FILE = 64 * 1024;

async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  fh: FileHandle,
  st: Stats,
): Promise<void> {
  try {
    const size = st.size;
    const etag = etagOf(size, st.mtimeMs);
    const type =
      mime.contentType(mime.lookup(path) || "application/octet-stream") || "application/octet-stream";
    res.setHeader("ETag", etag);
    res.setHeader("Last-Modified", st.mtime.toUTCString());
    res.setHeader("Accept-Ranges", "bytes");
    if (notModified(req.headers, etag, st.mtimeMs)) {
      res.writeHead(304);
      res.end();
      return;
    }
    let start = 0;
    let end = size - 1;
    const range = rangeApplies(single(req.headers["if-range"]), etag, st.mtimeMs)
      ? parseRange(req.headers.range, size)
      : undefined;
    if (range === "unsatisfiable") {
      fail(res, 416, "range not satisfiable", { "Content-Range": `bytes */${size}` });
      return;
    }
    if (range !== undefined) {
      ({ start, end } = range);
      res.statusCode = 206;
      res.setHeader("Content-Range", `bytes ${start}-${end}/${size}`);
    }
    const length = size === 0 ? 0 : end - start + 1;
    res.setHeader("Content-Type", type);
    res.setHeader("Content-Length", length);
    if (req.method === "HEAD" || length === 0) {
      res.end();
      return;
    }
    if (length <= SMALL_FILE) {
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await fh.read(buf, 0, length, start);
      if (bytesRead !== length)
        res.destroy(); // the file shrank meanwhile: never a short body
      else res.end(buf);
      return;
    }
    // the read stream reads ahead only to its high-water mark; pipeline waits for 'drain', and
    // the response waits for sockit's write: memory stays bounded whatever the file's size
    const stream = fh.createReadStream({ start, end, highWaterMark: 256 * 1024, autoClose: false });
    try {
      await pipeline(stream, res);
    } catch {
      // the client went away (or the file shrank): the connection is already being torn down
      res.destroy();
    }
  } finally {
    await fh.close();
  }
}
