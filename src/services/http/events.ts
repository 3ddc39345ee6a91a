/**
 * Server-sent event streams for the pages sockit serves (the mail sink's, the trace viewer's):
 * open, broadcast, end — bounded: a page that stops reading is cut off instead of growing the
 * server's memory.
 *
 * @module
 */
import type { ServerResponse } from "node:http";

/** Bytes one stream may have waiting for its page before the stream is cut off. */
const MAX_BEHIND = 1024 * 1024;

/** How often an idle stream gets a comment line, so proxies and browsers keep it open (ms). */
const BEAT_MS = 15_000;

/**
 * The live `text/event-stream` answers of one page: each opened with {@link EventStreams.open},
 * fed by {@link EventStreams.send} and ended together by {@link EventStreams.end}. A stream whose
 * page has more than 1 MiB unread is destroyed (the page reconnects and reloads its state).
 *
 * @example
 * ```ts
 * const live = new EventStreams();
 * // in a handler: if (path === "/events") return live.open(res, {}, ": hello\n\n");
 * live.send("event: message\ndata: {}\n\n");
 * live.end();
 * ```
 */
export class EventStreams {
  readonly #streams = new Set<ServerResponse>();

  /** Answers `res` with an event stream (`headers` added), writes `first` and keeps it. */
  open(res: ServerResponse, headers: Record<string, string>, first: string): void {
    res.writeHead(200, { ...headers, "content-type": "text/event-stream", connection: "keep-alive" });
    res.write(first);
    this.#streams.add(res);
    const beat = setInterval(() => this.#write(res, ": keep-alive\n\n"), BEAT_MS);
    beat.unref();
    res.on("close", () => {
      clearInterval(beat);
      this.#streams.delete(res);
    });
  }

  /** Writes `data` (whole events) to every open stream. */
  send(data: string): void {
    for (const s of this.#streams) this.#write(s, data);
  }

  /** Ends every stream (at shutdown). */
  end(): void {
    for (const s of this.#streams) s.end();
    this.#streams.clear();
  }

  /** Streams open now. */
  get size(): number {
    return this.#streams.size;
  }

  #write(res: ServerResponse, data: string): void {
    if (res.writableLength > MAX_BEHIND) {
      this.#streams.delete(res);
      res.destroy(); // the page stopped reading: cut it off rather than buffer for it
      return;
    }
    res.write(data);
  }
}
