/**
 * The pure parts of the static HTTP server: a request target to a safe path inside the served
 * directory, `Range`, validators (`ETag`, `Last-Modified`) and conditional requests, content
 * negotiation for listings, and the Common Log Format. No sockets, no files, no clocks.
 *
 * @module
 */

/**
 * Where a request target leads: path segments under the root, or a refusal with its status.
 * @example `const t: TargetPath = { ok: false, status: 403, reason: "leaves the served directory" }`
 */
export type TargetPath =
  | { readonly ok: true; readonly segments: readonly string[]; readonly slash: boolean }
  | { readonly ok: false; readonly status: 400 | 403 | 404; readonly reason: string };

/**
 * Turns a request target (`/a/b%20c/?q=1`, or the absolute form `http://h/a`) into decoded path
 * segments that cannot leave the served directory. Refused: malformed percent-encoding and NUL
 * bytes (400), `..` in any spelling (`..`, `%2e%2e`, `.%2E`) and encoded separators (`%2f`,
 * `%5c`, 403), dotfiles unless `dotfiles` (404: their existence is not shown). `.` and empty
 * segments are dropped, so an absolute path (`//etc/passwd`) stays under the root.
 *
 * @example
 * ```ts
 * targetPath("/docs/a%20b.txt?x=1", false) // { ok: true, segments: ["docs", "a b.txt"], slash: false }
 * targetPath("/%2e%2e/etc/passwd", false)  // { ok: false, status: 403, … }
 * ```
 */
export function targetPath(target: string, dotfiles: boolean): TargetPath {
  let path = target;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    const i = path.indexOf("/", path.indexOf("//") + 2);
    path = i < 0 ? "/" : path.slice(i);
  }
  if (!path.startsWith("/")) return { ok: false, status: 400, reason: "the target is not a path" };
  const q = path.search(/[?#]/);
  if (q >= 0) path = path.slice(0, q);
  const segments: string[] = [];
  for (const raw of path.split("/")) {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return { ok: false, status: 400, reason: "malformed percent-encoding" };
    }
    if (s.includes("\0")) return { ok: false, status: 400, reason: "a NUL byte in the path" };
    if (s === "" || s === ".") continue;
    if (s === "..") return { ok: false, status: 403, reason: "'..' in the path" };
    if (s.includes("/") || s.includes("\\"))
      return { ok: false, status: 403, reason: "an encoded path separator" };
    if (s.startsWith(".") && !dotfiles) return { ok: false, status: 404, reason: "a dotfile" };
    segments.push(s);
  }
  return { ok: true, segments, slash: path.endsWith("/") };
}

/**
 * A satisfiable single byte range, both ends included.
 * @example `const first100: ByteRange = { start: 0, end: 99 }`
 */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Reads a `Range` header for a representation of `size` bytes: one range (`bytes=0-99`,
 * `bytes=100-`, `bytes=-100`), `"unsatisfiable"` (416), or `undefined` when the header is absent,
 * malformed or asks for several ranges (the whole representation is sent: RFC 9110 §14.2 lets a
 * server ignore Range).
 *
 * @example
 * ```ts
 * parseRange("bytes=-10", 100)   // { start: 90, end: 99 }
 * parseRange("bytes=100-", 100)  // "unsatisfiable"
 * parseRange("bytes=0-1,5-6", 9) // undefined
 * ```
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | "unsatisfiable" | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== "" && Number(m[2]) < start) return undefined; // invalid: ignored
  if (start >= size) return "unsatisfiable";
  const end = m[2] === "" ? size - 1 : Number(m[2]);
  return { start, end: Math.min(end, size - 1) };
}

/**
 * A strong entity tag from a file's size and modification time (nanoseconds where known).
 *
 * @example `etagOf(1024, 1700000000123.5) // "\"400-18bcfe56a9b\""`
 */
export function etagOf(size: number, mtimeMs: number): string {
  return `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}

/** Whether `etag` is listed in an `If-None-Match` value (weak comparison; `*` matches). */
function noneMatchHits(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  const bare = etag.replace(/^W\//, "");
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === bare);
}

/**
 * True when a GET/HEAD may be answered 304 Not Modified: `If-None-Match` lists the entity tag,
 * or (only without `If-None-Match`, RFC 9110 §13.1.3) `If-Modified-Since` is not before the
 * modification time, compared in whole seconds.
 *
 * @example
 * ```ts
 * notModified({ "if-none-match": '"400-1"' }, '"400-1"', 0) // true
 * ```
 */
export function notModified(
  headers: {
    readonly "if-none-match"?: string | undefined;
    readonly "if-modified-since"?: string | undefined;
  },
  etag: string,
  mtimeMs: number,
): boolean {
  const inm = headers["if-none-match"];
  if (inm !== undefined) return noneMatchHits(inm, etag);
  const ims = headers["if-modified-since"];
  if (ims === undefined) return false;
  const t = Date.parse(ims);
  return !Number.isNaN(t) && Math.floor(mtimeMs / 1000) * 1000 <= t;
}

/**
 * Whether a `Range` applies under `If-Range` (absent, the same strong entity tag, or a date equal
 * to the modification time); otherwise the whole representation is sent.
 *
 * @example `rangeApplies(undefined, '"1-2"', 0) // true`
 */
export function rangeApplies(ifRange: string | undefined, etag: string, mtimeMs: number): boolean {
  if (ifRange === undefined) return true;
  const v = ifRange.trim();
  if (v.startsWith('"') || v.startsWith("W/")) return v === etag;
  const t = Date.parse(v);
  return !Number.isNaN(t) && Math.floor(mtimeMs / 1000) * 1000 === t;
}

/** The quality the Accept header gives `type` (`type/sub`), 0 when it does not accept it. */
function quality(accept: string, type: string): number {
  const [major] = type.split("/");
  let best = -1;
  let q = 0;
  for (const part of accept.split(",")) {
    const [range = "", ...params] = part.trim().toLowerCase().split(";");
    const spec = range === type ? 3 : range === `${major}/*` ? 2 : range === "*/*" ? 1 : 0;
    if (spec === 0 || spec < best) continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const v = qp === undefined ? 1 : Number(qp.slice(2));
    if (spec > best) {
      best = spec;
      q = Number.isNaN(v) ? 0 : v;
    }
  }
  return q;
}

/**
 * True when a directory listing should be JSON: the Accept header names `application/json`
 * with a higher quality than `text/html`.
 *
 * @example
 * ```ts
 * wantsJson("application/json")                        // true
 * wantsJson("text/html,application/xhtml+xml,*\/*;q=0.8") // false (a browser)
 * ```
 */
export function wantsJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const j = quality(accept, "application/json");
  return j > 0 && j > quality(accept, "text/html");
}

/**
 * One entry of a directory listing.
 * @example `const e: ListingEntry = { name: "a.txt", type: "file", size: 5, mtime: new Date().toISOString() }`
 */
export interface ListingEntry {
  readonly name: string;
  readonly type: "file" | "directory" | "other";
  readonly size: number;
  readonly mtime: string;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes text for HTML content and attribute values.
 *
 * @example `escapeHtml('<a href="x">') // "&lt;a href=&quot;x&quot;&gt;"`
 */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * A directory listing as an HTML page: directories first, then files, each linked by its
 * percent-encoded name.
 *
 * @example `listingHtml("/docs/", [{ name: "a.txt", type: "file", size: 3, mtime: "…" }])`
 */
export function listingHtml(urlPath: string, entries: readonly ListingEntry[]): string {
  const title = `Index of ${escapeHtml(urlPath)}`;
  const rows = entries.map((e) => {
    const name = e.type === "directory" ? `${e.name}/` : e.name;
    const href = encodeURIComponent(e.name) + (e.type === "directory" ? "/" : "");
    const size = e.type === "directory" ? "-" : String(e.size);
    return `<tr><td><a href="${escapeHtml(href)}">${escapeHtml(name)}</a></td><td>${size}</td><td>${escapeHtml(e.mtime)}</td></tr>`;
  });
  const up = urlPath === "/" ? "" : `<tr><td><a href="../">../</a></td><td></td><td></td></tr>`;
  return (
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n` +
    `<body><h1>${title}</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n` +
    `${[up, ...rows].filter((r) => r !== "").join("\n")}\n</table>\n</body></html>\n`
  );
}

/**
 * Sorts listing entries: directories first, then by name (code point order, as `ls` in the C
 * locale).
 *
 * @example `sortEntries(entries)[0]!.type // "directory" when there is one`
 */
export function sortEntries(entries: readonly ListingEntry[]): ListingEntry[] {
  return [...entries].sort((a, b) =>
    a.type === "directory" && b.type !== "directory"
      ? -1
      : b.type === "directory" && a.type !== "directory"
        ? 1
        : a.name < b.name
          ? -1
          : a.name > b.name
            ? 1
            : 0,
  );
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * Fields of one access-log line.
 * @example `commonLog({ host: "127.0.0.1", time: new Date(), method: "GET", target: "/", version: "1.1", status: 200, bytes: 5 })`
 */
export interface AccessRecord {
  readonly host: string;
  readonly time: Date;
  readonly method: string;
  readonly target: string;
  readonly version: string;
  readonly status: number;
  readonly bytes: number;
}

/**
 * One line of the Common Log Format (time in UTC; bytes `-` when no body was sent). Quotes and
 * control characters in the request line are escaped, so a client cannot forge log lines.
 *
 * @example
 * ```ts
 * commonLog({ host: "127.0.0.1", time: new Date(0), method: "GET", target: "/", version: "1.1", status: 200, bytes: 5 })
 * // '127.0.0.1 - - [01/Jan/1970:00:00:00 +0000] "GET / HTTP/1.1" 200 5'
 * ```
 */
export function commonLog(r: AccessRecord): string {
  const t = r.time;
  const p = (n: number) => String(n).padStart(2, "0");
  const when = `${p(t.getUTCDate())}/${MONTHS[t.getUTCMonth()]}/${t.getUTCFullYear()}:${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())} +0000`;
  const clean = (s: string) =>
    s.replace(/[\x00-\x1f\x7f"\\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  const line = `${clean(r.method)} ${clean(r.target)} HTTP/${clean(r.version)}`;
  return `${r.host} - - [${when}] "${line}" ${r.status} ${r.bytes > 0 ? r.bytes : "-"}`;
}
