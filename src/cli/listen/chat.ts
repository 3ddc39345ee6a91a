/**
 * `sockit listen --chat`: a line-based broker for people with `nc`. Each line a client sends goes
 * to every other client as `[3] text` (or `<alice> text` once it set a nickname), with control
 * bytes escaped so nobody can send terminal escape sequences to the others. Join, leave and
 * nickname changes are announced as `* 3 joined`, `* alice left`, `* 3 is now alice`. Every room
 * line is also written to our stdout, so the operator sees the chat.
 *
 * Same bounded per-client send queue as `--broker`: a client that does not read is dropped.
 *
 * @module
 */
import type { Writable } from "node:stream";
import type { Context } from "../context.js";
import {
  DEFAULT_SEND_QUEUE_BYTES,
  dropSlowClient,
  flushAndClose,
  SendQueue,
  writableSink,
} from "./broker.js";
import type { Client, ListenMode, ModeOptions } from "./mode.js";
import { escapeLine } from "../../services/chat/index.js";

export { escapeLine };

/**
 * Longest chat line in bytes (without CR/LF); the rest of a longer line is cut off.
 * @example `new LineSplitter(CHAT_MAX_LINE)`
 */
export const CHAT_MAX_LINE = 4096;

/**
 * What a cut line ends with, so readers know text is missing.
 * @example `"[1] " + first4096Bytes + CUT_MARKER // "[1] xxxx… [line cut]"`
 */
export const CUT_MARKER = " [line cut]";

/**
 * Valid nicknames: 1–16 of A–Z a–z 0–9 _ -, not only digits (ids are numbers).
 * @example `NICK_RE.test("alice_2") // true; NICK_RE.test("42") // false`
 */
export const NICK_RE = /^(?!\d+$)[A-Za-z0-9_-]{1,16}$/;

/**
 * A line from {@link LineSplitter}: its bytes (no CR/LF) and whether its end was cut off.
 * @example `{ text: Buffer.from("hello"), cut: false }`
 */
export interface ChatLine {
  readonly text: Buffer;
  readonly cut: boolean;
}

/**
 * Splits a byte stream into lines ending in LF (one CR before it is dropped). A line longer than
 * `max` bytes is delivered cut to `max` bytes (at a UTF-8 character boundary) with `cut: true`,
 * and the rest up to its LF is discarded; at most `max` bytes are held.
 *
 * @example
 * ```ts
 * const s = new LineSplitter(4096);
 * s.push(Buffer.from("hel"));        // []
 * s.push(Buffer.from("lo\r\nworld")); // [{ text: <hello>, cut: false }]
 * s.end();                           // [{ text: <world>, cut: false }]
 * ```
 */
export class LineSplitter {
  readonly #max: number;
  #parts: Buffer[] = [];
  #held = 0;
  #discarding = false;

  constructor(max: number) {
    this.#max = max;
  }

  /** Feeds bytes; returns the lines completed. */
  push(chunk: Buffer): ChatLine[] {
    const out: ChatLine[] = [];
    let start = 0;
    while (start <= chunk.length) {
      const lf = chunk.indexOf(0x0a, start);
      const seg = chunk.subarray(start, lf === -1 ? chunk.length : lf);
      if (!this.#discarding && seg.length > 0) {
        this.#parts.push(seg);
        this.#held += seg.length;
      }
      if (lf === -1) {
        // one more byte than max may be the CR of a line that is exactly max long
        if (this.#held > this.#max + 1) {
          out.push(this.#cut(this.#take()));
          this.#discarding = true;
        } else if (this.#parts.length > 1) {
          this.#parts = [Buffer.concat(this.#parts)]; // copy: never pin the caller's chunk
        } else if (this.#parts.length === 1 && this.#parts[0]!.buffer === chunk.buffer) {
          this.#parts = [Buffer.from(this.#parts[0]!)];
        }
        break;
      }
      if (this.#discarding) this.#discarding = false;
      else {
        let line = this.#take();
        if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
        out.push(line.length > this.#max ? this.#cut(line) : { text: line, cut: false });
      }
      start = lf + 1;
    }
    return out;
  }

  /** At EOF: a last line without LF, if any. */
  end(): ChatLine[] {
    const discarding = this.#discarding;
    this.#discarding = false;
    const line = this.#take();
    if (discarding || line.length === 0) return [];
    return [line.length > this.#max ? this.#cut(line) : { text: line, cut: false }];
  }

  #take(): Buffer {
    const b = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts);
    this.#parts = [];
    this.#held = 0;
    return b;
  }

  #cut(line: Buffer): ChatLine {
    let end = this.#max;
    // do not split a UTF-8 character: back up over continuation bytes (at most 3)
    while (end > this.#max - 3 && end > 0 && (line[end]! & 0xc0) === 0x80) end--;
    return { text: Buffer.from(line.subarray(0, end)), cut: true };
  }
}

interface Member {
  readonly client: Client;
  readonly queue: SendQueue;
  nick: string | undefined;
  dropped: boolean;
}

const name = (m: Member): string => m.nick ?? String(m.client.id);

/**
 * What {@link chatMode} returns: a {@link ListenMode} with counters (for tests and reports).
 *
 * @example
 * ```ts
 * const mode = chatMode({ chat: true, sendQueueBytes: 65536 }, ctx);
 * mode.stats; // { clients: 0, dropped: 0, peakQueued: 0, lines: 0 }
 * ```
 */
export interface ChatMode extends ListenMode {
  /** Clients in the room, clients dropped for not reading, the largest send queue seen, lines relayed. */
  readonly stats: {
    readonly clients: number;
    readonly dropped: number;
    readonly peakQueued: number;
    readonly lines: number;
  };
}

/**
 * The `--chat` mode. Lines (LF or CRLF, at most {@link CHAT_MAX_LINE} bytes; longer ones are cut
 * and end with {@link CUT_MARKER}) go to every other client as `[id] text` or `<nick> text`,
 * ending "\n" ("\r\n" with `opts.crlf`). Commands: `/nick NAME`, `/who`, `/quit`; `//text`
 * sends `/text`. A client whose queue would pass `opts.sendQueueBytes` is reset and dropped.
 *
 * @example
 * ```ts
 * const mode = chatMode({ chat: true }, ctx);
 * for await (const conn of ln) void mode.serve({ conn, id: ++n, peer: conn.remoteAddress, peerAddress: "", peerPort: 0 });
 * ```
 */
export function chatMode(opts: ModeOptions, ctx: Context): ChatMode {
  const limit = opts.sendQueueBytes ?? DEFAULT_SEND_QUEUE_BYTES;
  const eol = opts.crlf ? "\r\n" : "\n";
  const members = new Set<Member>();
  const operator = new OperatorEcho(ctx.io.stdout, limit, ctx);
  let dropped = 0;
  let peakQueued = 0;
  let lines = 0;
  let closing = false;

  const send = (m: Member, text: string): void => {
    if (!m.dropped && !m.queue.push(Buffer.from(text + eol))) drop(m);
  };
  /** A room line: to everyone but `except`, and to the operator. */
  const broadcast = (text: string, except?: Member): void => {
    if (closing) return;
    operator.line(text);
    const b = Buffer.from(text + eol);
    for (const m of members) if (m !== except && !m.queue.push(b)) drop(m);
  };
  const drop = (m: Member): void => {
    if (m.dropped || closing) return;
    dropped++;
    peakQueued = Math.max(peakQueued, m.queue.peak);
    members.delete(m);
    dropSlowClient(m, ctx, limit);
    broadcast(`* ${name(m)} left (dropped: not reading)`);
  };

  const command = (me: Member, line: string): "quit" | undefined => {
    const [word = "", ...rest] = line.trim().split(/[ \t]+/);
    const cmd = word.toLowerCase();
    const arg = rest.join(" ");
    if (cmd === "/nick") {
      if (!NICK_RE.test(arg)) {
        send(me, `* invalid nickname "${arg}": 1-16 letters, digits, _ or -, not only digits`);
      } else if ([...members].some((m) => m !== me && m.nick?.toLowerCase() === arg.toLowerCase())) {
        send(me, `* nickname ${arg} is taken`);
      } else if (arg !== me.nick) {
        const old = name(me);
        me.nick = arg;
        broadcast(`* ${old} is now ${arg}`, me);
        send(me, `* you are now ${arg}`);
      }
    } else if (cmd === "/who") {
      send(me, `* here: ${[...members].map((m) => (m === me ? `${name(m)} (you)` : name(m))).join(", ")}`);
    } else if (cmd === "/quit") {
      return "quit";
    } else {
      send(me, `* unknown command ${word}; commands: /nick NAME, /who, /quit (//text sends /text)`);
    }
    return undefined;
  };

  const handle = (me: Member, l: ChatLine): "quit" | undefined => {
    if (l.text.length === 0) return undefined;
    const text = escapeLine(l.text) + (l.cut ? CUT_MARKER : "");
    if (l.text[0] === 0x2f /* / */ && l.text[1] !== 0x2f) return command(me, text);
    lines++;
    const said = l.text[0] === 0x2f ? text.slice(1) : text;
    broadcast(me.nick === undefined ? `[${me.client.id}] ${said}` : `<${me.nick}> ${said}`, me);
    return undefined;
  };

  return {
    get stats() {
      let peak = peakQueued;
      for (const m of members) peak = Math.max(peak, m.queue.peak);
      return { clients: members.size, dropped, peakQueued: peak, lines };
    },

    async serve(client: Client): Promise<void> {
      const { conn } = client;
      const me: Member = { client, queue: new SendQueue(conn, limit), nick: undefined, dropped: false };
      const others = [...members].map(name);
      members.add(me);
      ctx.info(`client ${client.id} (${client.peer}) joined the chat (${members.size} connected)`);
      send(
        me,
        `* welcome, you are ${client.id}; ${others.length === 0 ? "nobody else is here" : `here: ${others.join(", ")}`}` +
          "; /nick NAME sets your nickname, /who lists the room, /quit leaves",
      );
      broadcast(`* ${client.id} joined`, me);
      const splitter = new LineSplitter(CHAT_MAX_LINE);
      let reason = "closed";
      try {
        reading: for (;;) {
          const b = await conn.read();
          const got = b === null ? splitter.end() : splitter.push(b);
          for (const l of got) if (handle(me, l) === "quit") break reading;
          if (b === null) break;
          if (me.queue.error !== undefined) throw me.queue.error;
        }
      } catch (err) {
        reason = me.dropped ? "dropped" : closing ? "shutting down" : `error: ${(err as Error).message}`;
      } finally {
        if (!me.dropped) {
          members.delete(me);
          peakQueued = Math.max(peakQueued, me.queue.peak);
          broadcast(`* ${name(me)} left`);
          await flushAndClose(conn, me.queue);
        }
        ctx.info(`client ${client.id} (${client.peer}) left the chat (${reason})`);
      }
    },

    async close(): Promise<void> {
      closing = true;
      for (const m of members) {
        m.queue.stop();
        await m.client.conn.close();
      }
      members.clear();
      operator.stop();
    },
  };
}

/**
 * The room as the operator sees it on stdout, behind its own bounded queue: a stdout that does
 * not keep up loses lines (counted, one warning) instead of stalling the room.
 */
class OperatorEcho {
  readonly #queue: SendQueue;
  readonly #ctx: Context;
  #lost = 0;

  constructor(out: Writable, limit: number, ctx: Context) {
    this.#ctx = ctx;
    this.#queue = new SendQueue(writableSink(out), limit);
  }

  line(text: string): void {
    if (this.#queue.error !== undefined) return;
    if (!this.#queue.push(Buffer.from(`${text}\n`)) && this.#lost++ === 0) {
      this.#ctx.warn("stdout is not keeping up with the chat; some lines are not shown there");
    }
  }

  stop(): void {
    this.#queue.stop();
  }
}
