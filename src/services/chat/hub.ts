/**
 * The chat hub: who is connected (by nickname, rfc1459 casemapping), the rooms (channels) with
 * their members, topics and message history, and delivery. Transport-free: a member is anything
 * with a nickname and a `deliver(message)`; an IRC member writes the message as a line, a plain
 * member renders it as text (see session.ts). One hub serves `sockit serve chat` and
 * `sockit listen --chat`.
 *
 * @module
 */
import { type IrcMessage, ircLower } from "./protocol.js";

/**
 * Someone in the hub. `deliver` must not throw; a member that cannot keep up drops itself.
 *
 * @example
 * ```ts
 * const m: ChatMember = { nick: "alice", user: "alice", host: "127.0.0.1", realname: "Alice",
 *   kind: "irc", away: undefined, channels: new Set(), deliver: (msg) => console.log(msg) };
 * ```
 */
export interface ChatMember {
  nick: string;
  readonly user: string;
  readonly host: string;
  readonly realname: string;
  /** "irc": an IRC client; "plain": someone typing lines (nc). */
  readonly kind: "irc" | "plain";
  /** The away message, if away. */
  away: string | undefined;
  /** The channels joined, by {@link ircLower} name. */
  readonly channels: Set<string>;
  /** Hands one message to the member (queued for its connection). */
  deliver(m: IrcMessage): void;
  /**
   * The id of the node serving this member when it is connected to another node of a network
   * (see {@link joinRedisNetwork}); undefined for members connected here.
   */
  readonly node?: string;
}

/**
 * What a hub tells its network about its own members (never about members of other nodes).
 * @example `{ t: "say", nick: "alice", channel: "#lobby", command: "PRIVMSG", text: "hi" }`
 */
export type HubEvent =
  | { readonly t: "join"; readonly channel: string; readonly who: MemberInfo }
  | { readonly t: "part"; readonly nick: string; readonly channel: string; readonly reason?: string }
  | { readonly t: "quit"; readonly nick: string; readonly reason: string }
  | { readonly t: "nick"; readonly nick: string; readonly to: string }
  | {
      readonly t: "say";
      readonly nick: string;
      readonly channel: string;
      readonly command: "PRIVMSG" | "NOTICE";
      readonly text: string;
    }
  | { readonly t: "topic"; readonly nick: string; readonly channel: string; readonly text: string };

/**
 * A member as the other nodes of a network see it.
 * @example `{ nick: "alice", user: "alice", host: "127.0.0.1", realname: "Alice", kind: "irc" }`
 */
export interface MemberInfo {
  readonly nick: string;
  readonly user: string;
  readonly host: string;
  readonly realname: string;
  readonly kind: "irc" | "plain";
}

/**
 * A hub's link to the other nodes of its network: told of what local members do.
 * @example `hub.link = { event: (e) => console.log(e), claimed: () => {} }`
 */
export interface HubLink {
  /** Something a local member did that the other nodes must see. */
  event(e: HubEvent): void;
  /** A local member took `nick` (and gave up `old`, if it had a name before). */
  claimed(m: ChatMember, nick: string, old: string | undefined): void;
}

/**
 * One message of a room's history.
 * @example `{ at: Date.now(), prefix: "alice!alice@127.0.0.1", command: "PRIVMSG", text: "hi" }`
 */
export interface HistoryEntry {
  readonly at: number;
  readonly prefix: string;
  readonly command: "PRIVMSG" | "NOTICE";
  readonly text: string;
}

/**
 * A room.
 * @example `hub.channel("#lobby")?.members.size`
 */
export interface ChatChannel {
  /** The name as first created (case kept). */
  readonly name: string;
  /** Members and whether each is a channel operator (the first to join is). */
  readonly members: Map<ChatMember, { op: boolean }>;
  topic: { text: string; by: string; at: number } | undefined;
  readonly createdAt: number;
  /** The last messages (at most the hub's `history`). */
  readonly history: HistoryEntry[];
}

/**
 * Options of {@link ChatHub}.
 * @example `new ChatHub({ serverName: "chat.local", history: 20 })`
 */
export interface HubOptions {
  /** The server's name in prefixes and numerics (default "sockit"). */
  readonly serverName?: string;
  /** Messages kept per room and replayed to plain users on join (default 0: none). */
  readonly history?: number;
}

/**
 * `nick!user@host` of a member.
 * @example `prefixOf(member) // "alice!alice@127.0.0.1"`
 */
export function prefixOf(m: ChatMember): string {
  return `${m.nick}!${m.user}@${m.host}`;
}

/**
 * What other nodes are told of `m`.
 * @example `infoOf(member).nick // "alice"`
 */
export function infoOf(m: ChatMember): MemberInfo {
  return { nick: m.nick, user: m.user, host: m.host, realname: m.realname, kind: m.kind };
}

/**
 * The rooms and the people in them.
 *
 * @example
 * ```ts
 * declare const alice: ChatMember; // a session: an IRC or plain user
 * const hub = new ChatHub({ serverName: "sockit", history: 10 });
 * const room = hub.claimNick(alice, "alice") ? hub.join(alice, "#lobby") : undefined;
 * if (room !== undefined) hub.say(alice, room, "PRIVMSG", "hello");
 * ```
 */
export class ChatHub {
  /** The server's name. */
  readonly serverName: string;
  /** Messages kept per room. */
  readonly historySize: number;
  readonly createdAt = new Date();
  readonly #nicks = new Map<string, ChatMember>();
  readonly #channels = new Map<string, ChatChannel>();
  #guest = 0;
  /** The network this hub is part of, if any (set by {@link joinRedisNetwork}). */
  link: HubLink | undefined;

  /** A hub with no one in it. */
  constructor(opts: HubOptions = {}) {
    this.serverName = opts.serverName ?? "sockit";
    this.historySize = Math.max(0, Math.floor(opts.history ?? 0));
  }

  /** Members with a nickname, by lower-cased nickname. */
  get members(): ReadonlyMap<string, ChatMember> {
    return this.#nicks;
  }

  /** The channels, by lower-cased name. */
  get channels(): ReadonlyMap<string, ChatChannel> {
    return this.#channels;
  }

  /** The member using `nick` (any case), if any. */
  find(nick: string): ChatMember | undefined {
    return this.#nicks.get(ircLower(nick));
  }

  /** The channel `name` (any case), if it exists. */
  channel(name: string): ChatChannel | undefined {
    return this.#channels.get(ircLower(name));
  }

  /** A free guest name: `guest1`, `guest2`, … */
  guestNick(): string {
    for (;;) {
      const n = `guest${++this.#guest}`;
      if (!this.#nicks.has(n)) return n;
    }
  }

  /**
   * Takes `nick` for `m` (first use or a change). False when someone else has it. On a change
   * of a member who is in channels, everyone sharing one and the member see `NICK`.
   */
  claimNick(m: ChatMember, nick: string, announce = false): boolean {
    const key = ircLower(nick);
    const holder = this.#nicks.get(key);
    if (holder !== undefined && holder !== m) return false;
    const old = prefixOf(m);
    const oldKey = ircLower(m.nick);
    const had = this.#nicks.get(oldKey) === m ? m.nick : undefined;
    if (had !== undefined) this.#nicks.delete(oldKey);
    this.#nicks.set(key, m);
    if (m.node === undefined && this.link !== undefined) {
      if (had !== undefined && had !== nick) this.link.event({ t: "nick", nick: had, to: nick });
      this.link.claimed(m, nick, had);
    }
    if (announce && m.nick !== nick) {
      const msg: IrcMessage = { prefix: old, command: "NICK", params: [nick] };
      m.nick = nick;
      for (const peer of this.peers(m, true)) peer.deliver(msg);
    } else m.nick = nick;
    return true;
  }

  /** Everyone sharing a channel with `m` (each once), with `m` itself if `self`. */
  peers(m: ChatMember, self: boolean): Set<ChatMember> {
    const out = new Set<ChatMember>();
    if (self) out.add(m);
    for (const key of m.channels) {
      const ch = this.#channels.get(key);
      if (ch) for (const p of ch.members.keys()) if (p !== m) out.add(p);
    }
    return out;
  }

  /**
   * Puts `m` in channel `name` (created if new; the creator is its operator) and tells every
   * member, `m` included, with `JOIN`. Returns the channel, or undefined if `m` was in it.
   */
  join(m: ChatMember, name: string): ChatChannel | undefined {
    const key = ircLower(name);
    let ch = this.#channels.get(key);
    if (ch === undefined) {
      ch = { name, members: new Map(), topic: undefined, createdAt: Date.now(), history: [] };
      this.#channels.set(key, ch);
    }
    if (ch.members.has(m)) return undefined;
    ch.members.set(m, { op: ch.members.size === 0 });
    m.channels.add(key);
    const msg: IrcMessage = { prefix: prefixOf(m), command: "JOIN", params: [ch.name] };
    for (const p of ch.members.keys()) p.deliver(msg);
    this.#tell(m, { t: "join", channel: ch.name, who: infoOf(m) });
    return ch;
  }

  /** Takes `m` out of `ch`, telling every member (and `m`) with `PART`. */
  part(m: ChatMember, ch: ChatChannel, reason: string | undefined): void {
    if (!ch.members.has(m)) return;
    const msg: IrcMessage = {
      prefix: prefixOf(m),
      command: "PART",
      params: reason === undefined || reason === "" ? [ch.name] : [ch.name, reason],
    };
    for (const p of ch.members.keys()) p.deliver(msg);
    this.#leave(m, ch);
    this.#tell(m, { t: "part", nick: m.nick, channel: ch.name, ...(reason ? { reason } : {}) });
  }

  /** `m` leaves the hub: everyone sharing a channel sees `QUIT :reason`; the nickname is free. */
  quit(m: ChatMember, reason: string): void {
    const msg: IrcMessage = { prefix: prefixOf(m), command: "QUIT", params: [reason] };
    for (const p of this.peers(m, false)) p.deliver(msg);
    for (const key of [...m.channels]) {
      const ch = this.#channels.get(key);
      if (ch) this.#leave(m, ch);
    }
    const k = ircLower(m.nick);
    if (this.#nicks.get(k) === m) this.#nicks.delete(k);
    this.#tell(m, { t: "quit", nick: m.nick, reason });
  }

  /**
   * A PRIVMSG or NOTICE from `m` to channel `ch`: every other member gets it, in the order sent;
   * it goes into the room's history.
   */
  say(m: ChatMember, ch: ChatChannel, command: "PRIVMSG" | "NOTICE", text: string): void {
    const prefix = prefixOf(m);
    const msg: IrcMessage = { prefix, command, params: [ch.name, text] };
    for (const p of ch.members.keys()) if (p !== m) p.deliver(msg);
    this.#tell(m, { t: "say", nick: m.nick, channel: ch.name, command, text });
    if (this.historySize > 0) {
      ch.history.push({ at: Date.now(), prefix, command, text });
      if (ch.history.length > this.historySize) ch.history.splice(0, ch.history.length - this.historySize);
    }
  }

  /** Sets the topic of `ch` and tells every member with `TOPIC`. */
  setTopic(m: ChatMember, ch: ChatChannel, text: string): void {
    ch.topic = text === "" ? undefined : { text, by: m.nick, at: Date.now() };
    const msg: IrcMessage = { prefix: prefixOf(m), command: "TOPIC", params: [ch.name, text] };
    for (const p of ch.members.keys()) p.deliver(msg);
    this.#tell(m, { t: "topic", nick: m.nick, channel: ch.name, text });
  }

  #tell(m: ChatMember, e: HubEvent): void {
    if (m.node === undefined) this.link?.event(e);
  }

  #leave(m: ChatMember, ch: ChatChannel): void {
    ch.members.delete(m);
    m.channels.delete(ircLower(ch.name));
    if (ch.members.size === 0) this.#channels.delete(ircLower(ch.name));
  }
}
