/**
 * How `sockit listen` serves each accepted client. The default mode connects the client to
 * stdio; `--exec`/`--sh-exec`, `--broker` and `--chat` are the other modes. `listen.ts` accepts
 * (with -k, -m, --allow/--deny) and hands every client to the mode.
 *
 * @module
 */
import type { Conn } from "../../net/index.js";
import type { Context } from "../context.js";

/** A client as the modes see it. */
export interface Client {
  /** The connection (TCP or Unix). */
  readonly conn: Conn;
  /** A short stable id for messages: 1, 2, 3… in accept order. */
  readonly id: number;
  /** The peer's address, formatted ("127.0.0.1:54321", "[::1]:5000"; for Unix its path, or "unix" when unnamed). */
  readonly peer: string;
  /** The peer's IP (for SOCKIT_PEER_ADDR), "" for Unix. */
  readonly peerAddress: string;
  /** The peer's port (for SOCKIT_PEER_PORT), 0 for Unix. */
  readonly peerPort: number;
}

/** One way of serving clients. */
export interface ListenMode {
  /** Serves one client until it is done; must close the connection itself. */
  serve(client: Client): Promise<void>;
  /** Called once when the listener stops accepting and every client is done (or on shutdown). */
  close(): Promise<void>;
  /**
   * On shutdown, `close()` tells the clients still connected and closes them itself (the chat
   * says goodbye); otherwise the accept loop closes them before calling `close()`.
   */
  readonly saysGoodbye?: boolean;
}

/** Options the modes read (parsed by listen.ts). */
export interface ModeOptions {
  /** --exec CMD: run CMD (split like a shell would, no shell) per connection. */
  readonly exec?: string | undefined;
  /** --sh-exec CMD: run `/bin/sh -c CMD` per connection. */
  readonly shExec?: string | undefined;
  /** --broker: relay every client's bytes to every other client. */
  readonly broker?: boolean | undefined;
  /** --chat: plain users of the chat hub (nicknames, rooms, escaped control bytes). */
  readonly chat?: boolean | undefined;
  /** Per-client send queue bound in bytes for broker/chat (a slower client is dropped). */
  readonly sendQueueBytes?: number | undefined;
  /** --crlf: line endings to the network as CRLF. */
  readonly crlf?: boolean | undefined;
}

/** Builds a mode for the options (implemented per mode in this folder). */
export type ModeFactory = (opts: ModeOptions, ctx: Context) => ListenMode;
