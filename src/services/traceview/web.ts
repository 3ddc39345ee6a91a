/**
 * The viewer's collector and page as one request handler: exporters POST batches to `/events`,
 * pages read them live from `/events` (server-sent events), `/trace.json` is everything so far
 * (the format `sockit trace-view FILE.json` replays).
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { makeOSError } from "../../errors/index.js";
import { TRACE_BATCH_TYPE, type TraceRecord } from "../../trace-export.js";
import { EventStreams } from "../http/events.js";
import { serveHttp } from "../http/server.js";
import {
  BatchError,
  type BinaryBatch,
  checkBinaryBatch,
  eventsOf,
  MAX_BATCH_BYTES,
  parseBatch,
} from "./batch.js";
import { TRACE_VIEW_APP, TRACE_VIEW_PAGE } from "./page.js";

/** Events the viewer keeps, at most (older ones go first). */
export const MAX_KEPT_EVENTS = 100_000;

/**
 * What the collector counted.
 * @example `web.counters.batches`
 */
export interface TraceViewCounters {
  batches: number;
  events: number;
  refused: number;
}

/**
 * The viewer's request handler (page, script, collector, live stream, export).
 *
 * @example
 * ```ts
 * const web = traceViewWeb();
 * const srv = await serveHttp({ address: "127.0.0.1:0", handler: web.handle });
 * // SOCKIT_TRACE=http://<srv.address> node app.js
 * ```
 */
export interface TraceViewWeb {
  /** Answers GET `/`, `/app.js`, `/events` (SSE), `/trace.json`; POST `/events` (a batch). */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** The events kept so far (at most {@link MAX_KEPT_EVENTS}), rendered when read. */
  readonly events: readonly TraceRecord[];
  /** Batches taken, events taken, bodies refused. */
  readonly counters: TraceViewCounters;
  /** Ends the live streams (at shutdown). */
  readonly close: () => void;
}

const HEADERS = {
  "content-security-policy":
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

function send(res: ServerResponse, status: number, type: string, body: string, close = false): void {
  res.writeHead(status, {
    ...HEADERS,
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    ...(close ? { connection: "close" } : {}),
  });
  res.end(body);
}

/**
 * Makes the viewer's handler: live (exporters POST to it) or, with `replay`, showing a saved
 * trace (POSTs are refused with 409).
 *
 * @example
 * ```ts
 * const web = traceViewWeb({ replay: parseBatch(readFileSync("trace.json"), 64 << 20, 1e6).events });
 * ```
 */
export function traceViewWeb(opts: { readonly replay?: readonly TraceRecord[] } = {}): TraceViewWeb {
  // a saved trace is shown whole; a live one keeps the newest MAX_KEPT_EVENTS
  const kept = new Kept(opts.replay ? Infinity : MAX_KEPT_EVENTS);
  if (opts.replay) kept.add([...opts.replay]);
  const dropped: Record<number, number> = {};
  const counters: TraceViewCounters = { batches: 0, events: kept.size, refused: 0 };
  const live = new EventStreams();
  const mode = opts.replay ? "replay" : "live";

  const message = (evs: readonly TraceRecord[]): string =>
    `event: batch\ndata: ${JSON.stringify({ mode, events: evs, dropped })}\n\n`;

  const refuse = (res: ServerResponse, status: number, why: string): void => {
    counters.refused++;
    send(res, status, "text/plain; charset=utf-8", `${why}\n`, true);
  };

  const collect = (req: IncomingMessage, res: ServerResponse): void => {
    if (opts.replay) return refuse(res, 409, "this viewer replays a saved trace; start one without FILE");
    const type = req.headers["content-type"] ?? "";
    const binary = type.split(";")[0]!.trim().toLowerCase() === TRACE_BATCH_TYPE;
    if (!binary && !/^application\/json\b/.test(type))
      return refuse(res, 415, `a batch is application/json or ${TRACE_BATCH_TYPE}`);
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > MAX_BATCH_BYTES) {
      refuse(res, 413, `a batch is at most ${MAX_BATCH_BYTES} bytes`);
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > MAX_BATCH_BYTES) {
        over = true;
        chunks.length = 0;
        refuse(res, 413, `a batch is at most ${MAX_BATCH_BYTES} bytes`);
        return;
      }
      chunks.push(c);
    });
    req.on("error", () => res.destroy());
    req.on("end", () => {
      if (over) return;
      // a binary batch is checked now and kept as it came: rendered only when asked for
      let batch: BinaryBatch | { readonly events: TraceRecord[]; readonly dropped: number };
      try {
        const body = Buffer.concat(chunks);
        batch = binary ? checkBinaryBatch(body) : parseBatch(body);
      } catch (err) {
        if (err instanceof BatchError) return refuse(res, err.status, err.message);
        return refuse(res, 400, "bad batch");
      }
      const n = "count" in batch ? batch.count : batch.events.length;
      counters.batches++;
      counters.events += n;
      if (batch.dropped > 0) {
        if ("count" in batch) dropped[batch.pid] = batch.dropped;
        else for (const e of batch.events) dropped[e.pid] = batch.dropped;
      }
      if (n > 0) kept.add("count" in batch ? batch : batch.events);
      res.writeHead(204, HEADERS);
      res.end();
      // the stream's JSON only when a page is open to read it
      if (n > 0 && live.size > 0) live.send(message("count" in batch ? eventsOf(batch) : batch.events));
    });
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (req.method === "POST" && path === "/events") return collect(req, res);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD, POST");
      return refuse(res, 405, "GET the page, POST /events");
    }
    if (path === "/" || path === "/index.html")
      return send(res, 200, "text/html; charset=utf-8", TRACE_VIEW_PAGE);
    if (path === "/app.js") return send(res, 200, "text/javascript; charset=utf-8", TRACE_VIEW_APP);
    if (path === "/trace.json") return send(res, 200, "application/json", JSON.stringify(kept.events()));
    if (path === "/events") {
      live.open(res, HEADERS, message(kept.events()));
      return;
    }
    send(res, 404, "text/plain; charset=utf-8", "not found\n");
  };

  return {
    handle,
    get events() {
      return kept.events();
    },
    counters,
    close: () => live.end(),
  };
}

/**
 * The events the viewer keeps, newest last, at most `max` ({@link MAX_KEPT_EVENTS} live): JSON
 * batches as events, binary ones as their checked records (a few bytes per call instead of
 * objects the garbage collector would walk), rendered when a page opens or `/trace.json` is read.
 */
class Kept {
  /** Batches, oldest first from `#first`; the first one's `#skip` events are gone. */
  #parts: (readonly TraceRecord[] | BinaryBatch)[] = [];
  #first = 0;
  #skip = 0;
  #size = 0;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** Events kept. */
  get size(): number {
    return this.#size;
  }

  add(part: readonly TraceRecord[] | BinaryBatch): void {
    this.#parts.push(part);
    this.#size += countOf(part);
    while (this.#size > this.#max) {
      const left = countOf(this.#parts[this.#first]!) - this.#skip;
      if (this.#size - left >= this.#max) {
        this.#parts[this.#first++] = [];
        this.#size -= left;
        this.#skip = 0;
      } else {
        this.#skip += this.#size - this.#max;
        this.#size = this.#max;
      }
    }
    // the array of batches is compacted now and then, not shifted per batch
    if (this.#first > 1024 && this.#first * 2 > this.#parts.length) {
      this.#parts = this.#parts.slice(this.#first);
      this.#first = 0;
    }
  }

  /** The events kept, rendered. */
  events(): TraceRecord[] {
    const out: TraceRecord[] = [];
    for (let i = this.#first; i < this.#parts.length; i++) {
      const p = this.#parts[i]!;
      const evs = "count" in p ? eventsOf(p) : p;
      for (let k = i === this.#first ? this.#skip : 0; k < evs.length; k++) out.push(evs[k]!);
    }
    return out;
  }
}

function countOf(part: readonly TraceRecord[] | BinaryBatch): number {
  return "count" in part ? part.count : part.length;
}

/**
 * Serves the viewer on sockit's HTTP server at `address` (`HOST:PORT`; port 0: any free one).
 *
 * @example
 * ```ts
 * const v = await serveTraceView("127.0.0.1:0");
 * console.log(`SOCKIT_TRACE=http://${v.address}`);
 * await v.close();
 * ```
 */
export async function serveTraceView(
  address: string,
  opts: { readonly replay?: readonly TraceRecord[] } = {},
): Promise<{ readonly address: string; readonly web: TraceViewWeb; close(): Promise<void> }> {
  const web = traceViewWeb(opts);
  const server = await serveHttp({
    address,
    handler: web.handle,
    // every traced process keeps one connection; exporters on one machine share one source
    limits: { maxPerSource: 256, keepAliveMs: 10_000 },
  }).catch((err: unknown) => {
    const code = (err as { code?: unknown }).code;
    throw makeOSError(typeof code === "string" ? code : "EIO", {
      op: "bind",
      address,
      hint: "the viewer's port: pick another with --port (0: any free port)",
      cause: err,
    });
  });
  return {
    address: server.address,
    web,
    close: async () => {
      web.close();
      await server.close();
    },
  };
}
