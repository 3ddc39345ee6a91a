/**
 * `sockit listen --chat`: the chat hub of `sockit serve chat` (src/services/chat) in its plain
 * mode, on the listener `sockit listen` already has (so `-m`, `--allow`/`--deny`, `-U`, `--tls`
 * and `--trace` apply as to every listen mode). Every client is a plain user from the start: a
 * guest name, `#lobby`, `/nick`, `/join`, `/who`, `/me`, `/msg`, `/quit`; what others send is
 * shown with control bytes escaped. Every room event is also written to our stdout, so the
 * operator sees the chat.
 *
 * @module
 */
import type { Writable } from "node:stream";
import {
  ChatConnections,
  ChatHub,
  DEFAULT_CHAT_LIMITS,
  type HubEvent,
  type IrcMessage,
  PLAIN_DEFAULT_ROOM,
  renderPlain,
} from "../../services/chat/index.js";
import type { Context } from "../context.js";
import { SendQueue } from "../../net/index.js";
import { DEFAULT_SEND_QUEUE_BYTES, writableSink } from "./broker.js";
import type { Client, ListenMode, ModeOptions } from "./mode.js";

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
  /** Clients in the chat, clients dropped for not reading, the largest send queue seen, messages said in rooms. */
  readonly stats: {
    readonly clients: number;
    readonly dropped: number;
    readonly peakQueued: number;
    readonly lines: number;
  };
}

/** How long clients get to read the goodbye when `listen --chat` stops, ms. */
const GRACE_MS = 1000;

/** A hub event as the IRC message a plain user would be shown for it. */
function messageOf(e: HubEvent): IrcMessage {
  switch (e.t) {
    case "join":
      return { prefix: e.who.nick, command: "JOIN", params: [e.channel] };
    case "part":
      return { prefix: e.nick, command: "PART", params: [e.channel, ...(e.reason ? [e.reason] : [])] };
    case "quit":
      return { prefix: e.nick, command: "QUIT", params: [e.reason] };
    case "nick":
      return { prefix: e.nick, command: "NICK", params: [e.to] };
    case "say":
      return { prefix: e.nick, command: e.command, params: [e.channel, e.text] };
    case "topic":
      return { prefix: e.nick, command: "TOPIC", params: [e.channel, e.text] };
  }
}

/**
 * The `--chat` mode: each client is a plain user of one {@link ChatHub}, served by the hub's
 * {@link ChatConnections} (512-byte lines, a bounded send queue of `opts.sendQueueBytes`; no
 * flood control). Lines to clients end in "\n" ("\r\n" with `opts.crlf`).
 *
 * @example
 * ```ts
 * const mode = chatMode({ chat: true }, ctx);
 * for await (const conn of ln) void mode.serve(clientOf(conn, ++n));
 * ```
 */
export function chatMode(opts: ModeOptions, ctx: Context): ChatMode {
  const limit = opts.sendQueueBytes ?? DEFAULT_SEND_QUEUE_BYTES;
  const hub = new ChatHub();
  const operator = new OperatorEcho(ctx.io.stdout, limit, ctx);
  let lines = 0;
  // the operator's view: told of everything the members do, as the other nodes of a network are
  hub.link = {
    event(e) {
      if (e.t === "say") lines++;
      const text = renderPlain(messageOf(e), PLAIN_DEFAULT_ROOM);
      if (text !== undefined) operator.line(text);
    },
    claimed() {},
  };
  const conns = new ChatConnections({
    shared: { hub, motd: undefined, password: undefined, plainEol: opts.crlf ? "\r\n" : "\n" },
    limits: { ...DEFAULT_CHAT_LIMITS, sendQueueBytes: limit },
    flood: false,
  });

  return {
    get stats() {
      return { clients: hub.members.size, lines, ...conns.stats };
    },

    async serve(client: Client): Promise<void> {
      const { conn, id, peer } = client;
      const ep = conn.remoteEndpoint;
      const host = client.peerAddress || (ep !== undefined && "path" in ep ? "unix" : "unknown");
      const served = conns.serve(conn, { host, peer, plain: true });
      ctx.info(`client ${id} (${peer}) joined the chat (${conns.size} connected)`);
      const reason = await served;
      if (reason === "SendQ exceeded")
        ctx.info(`client ${id} (${peer}) dropped: it is not reading (send queue over ${limit} bytes)`);
      ctx.info(`client ${id} (${peer}) left the chat (${reason})`);
    },

    saysGoodbye: true,

    async close(): Promise<void> {
      await conns.close("Server shutting down", GRACE_MS);
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
    if (!this.#queue.push(Buffer.from(`${text}\n`, "latin1")) && this.#lost++ === 0) {
      this.#ctx.warn("stdout is not keeping up with the chat; some lines are not shown there");
    }
  }

  stop(): void {
    this.#queue.stop();
  }
}
