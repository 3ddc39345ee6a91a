/**
 * One chat connection's protocol: the first line decides whether it is an IRC client (CAP, PASS,
 * NICK or USER) or a plain user (anything else); then IRC commands and numerics, or plain
 * `/commands` and text. Transport-free: lines come in through {@link ChatSession.line}, go out
 * through the {@link SessionIo} given (server.ts binds it to a connection and its send queue).
 *
 * @module
 */
import { escapeLine } from "./escape.js";
import { type ChatChannel, type ChatHub, type ChatMember, prefixOf } from "./hub.js";
import {
  CHANNELLEN,
  ChatProtocolError,
  formatMessage,
  type IrcMessage,
  ircLower,
  isValidChannel,
  isValidNick,
  NICKLEN,
  parseLine,
} from "./protocol.js";

/**
 * The version string in 002/004.
 * @example `":irc 004 alice irc " + CHAT_VERSION + " io"`
 */
export const CHAT_VERSION = "sockit-chat-1";

/**
 * The room a plain user is in first.
 * @example `PLAIN_DEFAULT_ROOM // "#lobby"`
 */
export const PLAIN_DEFAULT_ROOM = "#lobby";

/**
 * What a session writes to and how it ends its connection.
 * @example `{ write: (s) => queue.push(s), close: (why) => conn.close() }`
 */
export interface SessionIo {
  /** Queues a binary string (already CR LF terminated) for the client. */
  write(data: string): void;
  /** Ends the connection after what is queued (the session has said goodbye). */
  close(reason: string): void;
}

/**
 * What every session of a server shares.
 * @example `{ hub, motd: undefined, password: undefined }`
 */
export interface SessionShared {
  readonly hub: ChatHub;
  /** MOTD lines (undefined: 422 "MOTD File is missing"). */
  readonly motd: readonly string[] | undefined;
  /** The password PASS must give, if any. */
  readonly password: string | undefined;
  /** How lines to plain users end (default "\r\n", as IRC's; `sockit listen --chat`: "\n"). */
  readonly plainEol?: string;
}

const REGISTRATION = new Set(["CAP", "PASS", "NICK", "USER"]);

/** The time as plain users see it in history: `HH:MM`. */
function hhmm(at: number): string {
  const d = new Date(at);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** Text from another user made safe for a terminal (control bytes as \xNN), as a binary string. */
function safe(text: string): string {
  return Buffer.from(escapeLine(Buffer.from(text, "latin1")), "utf8").toString("latin1");
}

const nickOf = (prefix: string | undefined): string => (prefix ?? "").split("!")[0]!;

/**
 * A message as a plain user reads it (without CR LF), or undefined for what they need not see.
 *
 * @example `renderPlain({ prefix: "bob!b@h", command: "PRIVMSG", params: ["#lobby", "hi"] }, "#lobby") // "<bob> hi"`
 */
export function renderPlain(m: IrcMessage, room: string | undefined): string | undefined {
  const who = nickOf(m.prefix);
  const [target = "", text = ""] = m.params;
  const where = (ch: string) => (room !== undefined && ircLower(ch) === ircLower(room) ? "" : `[${ch}] `);
  switch (m.command) {
    case "PRIVMSG": {
      const action = /^\x01ACTION (.*?)\x01?$/.exec(text);
      if (!target.startsWith("#"))
        return action ? `*${who}* * ${safe(action[1]!)}` : `*${who}* ${safe(text)}`;
      return action
        ? `${where(target)}* ${who} ${safe(action[1]!)}`
        : `${where(target)}<${who}> ${safe(text)}`;
    }
    case "NOTICE":
      return `${target.startsWith("#") ? where(target) : ""}-${who}- ${safe(text)}`;
    case "JOIN":
      return `*** ${who} joined ${target}`;
    case "PART":
      return `*** ${who} left ${target}${text ? ` (${safe(text)})` : ""}`;
    case "QUIT":
      return `*** ${who} quit (${safe(target)})`;
    case "NICK":
      return `*** ${who} is now ${target}`;
    case "TOPIC":
      return `*** ${who} set the topic of ${target}: ${safe(text)}`;
    case "ERROR":
      return `*** ${safe(target)}`;
    default:
      return undefined;
  }
}

/**
 * One connection's chat session.
 *
 * @example
 * ```ts
 * declare const [shared, io]: ConstructorParameters<typeof ChatSession>; // the hub's state, the wire
 * const s = new ChatSession(shared, io, "127.0.0.1");
 * s.line("NICK alice"); s.line("USER alice 0 * :Alice"); // 001 … 004, 005, MOTD
 * ```
 */
export class ChatSession implements ChatMember {
  nick = "*";
  user = "";
  host: string;
  realname = "";
  kind: "irc" | "plain" = "irc";
  away: string | undefined;
  readonly channels = new Set<string>();
  /** "new" until the first line; "registering" (IRC); "ready"; "closed". */
  state: "new" | "registering" | "ready" | "closed" = "new";
  /** The plain user's current room. */
  room: string | undefined;
  readonly #shared: SessionShared;
  readonly #io: SessionIo;
  #capping = false;
  #passOk: boolean;
  #wantNick: string | undefined;

  /** A session for a client at `host` (its address, shown in its prefix). */
  constructor(shared: SessionShared, io: SessionIo, host: string) {
    this.#shared = shared;
    this.#io = io;
    this.host = host;
    this.#passOk = shared.password === undefined;
  }

  get #hub(): ChatHub {
    return this.#shared.hub;
  }

  get #server(): string {
    return this.#shared.hub.serverName;
  }

  /** True once registered (IRC) or greeted (plain). */
  get registered(): boolean {
    return this.state === "ready";
  }

  /** Delivers a hub message: an IRC line, or a line of text for a plain user. */
  deliver(m: IrcMessage): void {
    if (this.state === "closed") return;
    if (this.kind === "irc") {
      this.#io.write(formatMessage(m));
      return;
    }
    // nicknames are unique: a NICK to this one is this user's own change, a JOIN from it its
    // own join (the "*** in #room: …" line that follows says that)
    if (m.command === "JOIN" && nickOf(m.prefix) === this.nick) return;
    const text =
      m.command === "NICK" && m.params[0] === this.nick
        ? `*** you are now ${this.nick}`
        : renderPlain(m, this.room);
    if (text !== undefined) this.#io.write(`${text}${this.#eol}`);
  }

  /** A line longer than 512 bytes arrived (and was dropped). */
  tooLong(): void {
    if (this.kind === "plain" && this.state === "ready")
      this.#plain("*** line too long (at most 510 bytes); not sent");
    else this.#num("417", "Input line was too long");
  }

  /** Handles one line (binary string, without CR LF). */
  line(text: string): void {
    if (this.state === "closed") return;
    if (this.state === "new") {
      if (text.trim() === "") return;
      const word = text.trimStart().split(" ", 1)[0]!.toUpperCase();
      if (REGISTRATION.has(word)) this.state = "registering";
      else this.beginPlain();
    }
    if (this.kind === "plain") {
      this.#plainLine(text);
      return;
    }
    let m: IrcMessage;
    try {
      m = parseLine(text);
    } catch (err) {
      if (!(err instanceof ChatProtocolError)) throw err;
      if (err.code === "ELINETOOLONG") this.#num("417", "Input line was too long");
      else if (err.code === "EBADCOMMAND" || err.code === "EBADPREFIX")
        this.#num("421", "*", `Unknown command (${err.message})`);
      return; // EEMPTY, EBADBYTE: ignored, as servers do
    }
    this.#command(m);
  }

  /** The server ends the session: `ERROR :Closing Link: host (reason)` then close; peers see QUIT. */
  end(reason: string, quitMessage = reason): void {
    if (this.state === "closed") return;
    const wasReady = this.state === "ready";
    this.deliver({ command: "ERROR", params: [`Closing Link: ${this.host} (${reason})`] });
    this.state = "closed";
    if (wasReady) this.#hub.quit(this, quitMessage);
    this.#io.close(reason);
  }

  /** The connection is gone (EOF, reset, dropped): peers see QUIT, the nickname is free. */
  gone(reason: string): void {
    if (this.state === "closed") return;
    const wasReady = this.state === "ready";
    this.state = "closed";
    if (wasReady) this.#hub.quit(this, reason);
  }

  /** A numeric to this client: `:server CODE nick params…`. */
  #num(code: string, ...params: string[]): void {
    if (this.kind === "plain") return;
    this.deliver({ prefix: this.#server, command: code, params: [this.nick, ...params] });
  }

  #plain(text: string): void {
    this.#io.write(`${text}${this.#eol}`);
  }

  get #eol(): string {
    return this.#shared.plainEol ?? "\r\n";
  }

  // ---- IRC ----------------------------------------------------------------------------------

  #command(m: IrcMessage): void {
    const p = m.params;
    if (this.state === "registering") {
      switch (m.command) {
        case "CAP":
          return this.#cap(p);
        case "PASS":
          if (p.length < 1) return this.#num("461", "PASS", "Not enough parameters");
          this.#passOk = this.#shared.password === undefined || p[0] === this.#shared.password;
          return;
        case "NICK":
          return this.#nickRegistering(p);
        case "USER":
          if (p.length < 4) return this.#num("461", "USER", "Not enough parameters");
          this.user = p[0]!.replace(/[^A-Za-z0-9._~-]/g, "").slice(0, 10) || "user";
          this.realname = p[3]!;
          return this.#tryRegister();
        case "PING":
          return this.#pong(p);
        case "PONG":
          return;
        case "QUIT":
          return this.end("Quit", "Quit");
        default:
          return this.#num("451", "You have not registered");
      }
    }
    const h = this.#hub;
    switch (m.command) {
      case "CAP":
        return this.#cap(p);
      case "PASS":
      case "USER":
        return this.#num("462", "You may not reregister");
      case "NICK":
        return this.#nickChange(p);
      case "PING":
        return this.#pong(p);
      case "PONG":
        return;
      case "QUIT":
        return this.end(`Quit: ${p[0] ?? ""}`, `Quit: ${p[0] ?? ""}`);
      case "JOIN":
        if (p.length < 1) return this.#num("461", "JOIN", "Not enough parameters");
        if (p[0] === "0") {
          for (const key of [...this.channels]) {
            const ch = h.channels.get(key);
            if (ch) h.part(this, ch, undefined);
          }
          return;
        }
        for (const name of p[0]!.split(",")) this.#join(name);
        return;
      case "PART":
        if (p.length < 1) return this.#num("461", "PART", "Not enough parameters");
        for (const name of p[0]!.split(",")) {
          const ch = h.channel(name);
          if (!ch) this.#num("403", name, "No such channel");
          else if (!ch.members.has(this)) this.#num("442", ch.name, "You're not on that channel");
          else h.part(this, ch, p[1]);
        }
        return;
      case "PRIVMSG":
      case "NOTICE":
        return this.#message(m.command, p);
      case "TOPIC":
        return this.#topic(p);
      case "NAMES":
        if (p.length === 0) return this.#num("366", "*", "End of /NAMES list");
        for (const name of p[0]!.split(",")) {
          const ch = h.channel(name);
          if (ch) this.#names(ch);
          else this.#num("366", name, "End of /NAMES list");
        }
        return;
      case "LIST":
        this.#num("321", "Channel", "Users  Name");
        for (const ch of h.channels.values())
          this.#num("322", ch.name, String(ch.members.size), ch.topic?.text ?? "");
        return this.#num("323", "End of /LIST");
      case "WHO":
        return this.#who(p[0]);
      case "WHOIS":
        return this.#whois(p);
      case "MODE":
        return this.#mode(p);
      case "AWAY":
        this.away = p[0] === undefined || p[0] === "" ? undefined : p[0];
        return this.away === undefined
          ? this.#num("305", "You are no longer marked as being away")
          : this.#num("306", "You have been marked as being away");
      case "MOTD":
        return this.#motd();
      case "USERHOST":
        return this.#num(
          "302",
          p
            .slice(0, 5)
            .map((n) => h.find(n))
            .filter((u): u is ChatMember => u !== undefined)
            .map((u) => `${u.nick}=${u.away ? "-" : "+"}${u.user}@${u.host}`)
            .join(" "),
        );
      case "ISON":
        return this.#num(
          "303",
          p
            .flatMap((x) => x.split(" "))
            .map((n) => h.find(n)?.nick)
            .filter((n) => n !== undefined)
            .join(" "),
        );
      default:
        return this.#num("421", m.command, "Unknown command");
    }
  }

  #cap(p: readonly string[]): void {
    const sub = (p[0] ?? "").toUpperCase();
    if (sub === "LS" || sub === "LIST") {
      if (this.state === "registering") this.#capping = true;
      this.deliver({ prefix: this.#server, command: "CAP", params: [this.nick, sub, ""] });
    } else if (sub === "REQ") {
      this.deliver({ prefix: this.#server, command: "CAP", params: [this.nick, "NAK", p[1] ?? ""] });
    } else if (sub === "END") {
      this.#capping = false;
      if (this.state === "registering") this.#tryRegister();
    } else this.#num("410", sub || "*", "Invalid CAP command");
  }

  #pong(p: readonly string[]): void {
    if (p.length < 1) return this.#num("409", "No origin specified");
    this.deliver({ prefix: this.#server, command: "PONG", params: [this.#server, p[0]!] });
  }

  #nickRegistering(p: readonly string[]): void {
    const nick = p[0];
    if (nick === undefined || nick === "") return this.#num("431", "No nickname given");
    if (!isValidNick(nick)) return this.#num("432", nick, "Erroneous nickname");
    if (this.#hub.find(nick) !== undefined) return this.#num("433", nick, "Nickname is already in use");
    this.#wantNick = nick;
    this.#tryRegister();
  }

  #nickChange(p: readonly string[]): void {
    const nick = p[0];
    if (nick === undefined || nick === "") return this.#num("431", "No nickname given");
    if (!isValidNick(nick)) return this.#num("432", nick, "Erroneous nickname");
    if (!this.#hub.claimNick(this, nick, true)) this.#num("433", nick, "Nickname is already in use");
  }

  #tryRegister(): void {
    if (this.#capping || this.#wantNick === undefined || this.user === "") return;
    if (!this.#passOk) {
      this.#num("464", "Password incorrect");
      this.end("Bad Password");
      return;
    }
    if (!this.#hub.claimNick(this, this.#wantNick)) {
      this.#num("433", this.#wantNick, "Nickname is already in use");
      this.#wantNick = undefined;
      return;
    }
    this.state = "ready";
    const h = this.#hub;
    this.#num("001", `Welcome to the sockit chat network ${prefixOf(this)}`);
    this.#num("002", `Your host is ${this.#server}, running version ${CHAT_VERSION}`);
    this.#num("003", `This server was created ${h.createdAt.toISOString()}`);
    this.#num("004", this.#server, CHAT_VERSION, "i", "n");
    this.#num(
      "005",
      "CHANTYPES=#",
      `NICKLEN=${NICKLEN}`,
      `CHANNELLEN=${CHANNELLEN}`,
      "PREFIX=(o)@",
      "CASEMAPPING=rfc1459",
      "NETWORK=sockit",
      "are supported by this server",
    );
    this.#motd();
  }

  #motd(): void {
    const motd = this.#shared.motd;
    if (motd === undefined) return this.#num("422", "MOTD File is missing");
    this.#num("375", `- ${this.#server} Message of the day -`);
    for (const l of motd) this.#num("372", `- ${l}`);
    this.#num("376", "End of /MOTD command");
  }

  #join(name: string): void {
    if (!isValidChannel(name)) return this.#num("403", name, "No such channel");
    const ch = this.#hub.join(this, name);
    if (ch === undefined) return;
    if (ch.topic) this.#num("332", ch.name, ch.topic.text);
    this.#names(ch);
  }

  #names(ch: ChatChannel): void {
    const names = [...ch.members].map(([m, s]) => `${s.op ? "@" : ""}${m.nick}`);
    // several 353 lines when the names do not fit one
    let line: string[] = [];
    let len = 0;
    for (const n of names) {
      if (len + n.length + 1 > 400) {
        this.#num("353", "=", ch.name, line.join(" "));
        line = [];
        len = 0;
      }
      line.push(n);
      len += n.length + 1;
    }
    if (line.length > 0) this.#num("353", "=", ch.name, line.join(" "));
    this.#num("366", ch.name, "End of /NAMES list");
  }

  #message(cmd: "PRIVMSG" | "NOTICE", p: readonly string[]): void {
    const quiet = cmd === "NOTICE"; // no automatic replies to a NOTICE (RFC 2812 §3.3.2)
    if (p.length === 0) return quiet ? undefined : this.#num("411", `No recipient given (${cmd})`);
    if (p.length < 2 || p[1] === "") return quiet ? undefined : this.#num("412", "No text to send");
    for (const target of p[0]!.split(",").slice(0, 4)) this.#sendTo(cmd, target, p[1]!);
  }

  #sendTo(cmd: "PRIVMSG" | "NOTICE", target: string, text: string): void {
    const quiet = cmd === "NOTICE";
    const h = this.#hub;
    if (target.startsWith("#")) {
      const ch = h.channel(target);
      if (!ch) return quiet ? undefined : this.#num("403", target, "No such channel");
      if (!ch.members.has(this))
        return quiet ? undefined : this.#num("404", ch.name, "Cannot send to channel");
      h.say(this, ch, cmd, text);
      return;
    }
    const to = h.find(target);
    if (!to) return quiet ? undefined : this.#num("401", target, "No such nick/channel");
    to.deliver({ prefix: prefixOf(this), command: cmd, params: [to.nick, text] });
    if (!quiet && to.away !== undefined) this.#num("301", to.nick, to.away);
  }

  #topic(p: readonly string[]): void {
    if (p.length < 1) return this.#num("461", "TOPIC", "Not enough parameters");
    const ch = this.#hub.channel(p[0]!);
    if (!ch) return this.#num("403", p[0]!, "No such channel");
    if (!ch.members.has(this)) return this.#num("442", ch.name, "You're not on that channel");
    if (p.length < 2) {
      if (!ch.topic) return this.#num("331", ch.name, "No topic is set");
      this.#num("332", ch.name, ch.topic.text);
      return this.#num("333", ch.name, ch.topic.by, String(Math.floor(ch.topic.at / 1000)));
    }
    this.#hub.setTopic(this, ch, p[1]!);
  }

  #who(mask: string | undefined): void {
    const h = this.#hub;
    const row = (m: ChatMember, ch: ChatChannel | undefined) =>
      this.#num(
        "352",
        ch?.name ?? "*",
        m.user,
        m.host,
        this.#server,
        m.nick,
        `${m.away ? "G" : "H"}${ch?.members.get(m)?.op ? "@" : ""}`,
        `0 ${m.realname}`,
      );
    if (mask !== undefined && mask.startsWith("#")) {
      const ch = h.channel(mask);
      if (ch) for (const m of ch.members.keys()) row(m, ch);
    } else if (mask !== undefined) {
      const m = h.find(mask);
      if (m) row(m, undefined);
    }
    this.#num("315", mask ?? "*", "End of /WHO list");
  }

  #whois(p: readonly string[]): void {
    const nick = p.at(-1);
    if (nick === undefined) return this.#num("431", "No nickname given");
    const m = this.#hub.find(nick);
    if (!m) {
      this.#num("401", nick, "No such nick/channel");
      return this.#num("318", nick, "End of /WHOIS list");
    }
    this.#num("311", m.nick, m.user, m.host, "*", m.realname);
    const chans = [...m.channels]
      .map((k) => this.#hub.channels.get(k))
      .filter((c): c is ChatChannel => c !== undefined)
      .map((c) => `${c.members.get(m)?.op ? "@" : ""}${c.name}`);
    if (chans.length > 0) this.#num("319", m.nick, chans.join(" "));
    this.#num("312", m.nick, this.#server, m.kind === "plain" ? "plain-text user" : "sockit chat");
    if (m.away !== undefined) this.#num("301", m.nick, m.away);
    this.#num("318", m.nick, "End of /WHOIS list");
  }

  #mode(p: readonly string[]): void {
    const target = p[0];
    if (target === undefined) return this.#num("461", "MODE", "Not enough parameters");
    if (target.startsWith("#")) {
      const ch = this.#hub.channel(target);
      if (!ch) return this.#num("403", target, "No such channel");
      if (p.length < 2) {
        this.#num("324", ch.name, "+n");
        return this.#num("329", ch.name, String(Math.floor(ch.createdAt / 1000)));
      }
      if (/^[+-]?b$/.test(p[1]!) && p.length === 2)
        return this.#num("368", ch.name, "End of channel ban list");
      return this.#num("482", ch.name, "Channel modes cannot be changed on this server");
    }
    const m = this.#hub.find(target);
    if (!m) return this.#num("401", target, "No such nick/channel");
    if (m !== this) return this.#num("502", "Cannot change mode for other users");
    this.#num("221", "+");
  }

  // ---- plain ---------------------------------------------------------------------------------

  /**
   * Makes this a plain user now (a guest name, the greeting, `#lobby`), before any line: what
   * `sockit listen --chat` does for every client. The server instead waits for the first line.
   */
  beginPlain(): void {
    if (this.state !== "new") return;
    this.kind = "plain";
    this.user = "plain";
    this.realname = "plain-text user";
    this.#hub.claimNick(this, this.#hub.guestNick());
    this.state = "ready";
    this.#plain(
      `*** welcome to sockit chat, you are ${this.nick}. Commands: /nick NAME, /join #room, /who, ` +
        "/me text, /msg NICK text, /quit (//text sends /text); anything else goes to your room",
    );
    this.#plainJoin(PLAIN_DEFAULT_ROOM);
  }

  #plainJoin(name: string): void {
    const h = this.#hub;
    const old = this.room === undefined ? undefined : h.channel(this.room);
    if (old && ircLower(old.name) === ircLower(name)) return;
    if (old) h.part(this, old, undefined);
    this.room = name;
    const ch = h.join(this, name);
    if (!ch) return;
    this.room = ch.name;
    const others = [...ch.members.keys()].filter((m) => m !== this).map((m) => m.nick);
    this.#plain(`*** in ${ch.name}: ${others.length === 0 ? "nobody else" : others.join(", ")}`);
    if (ch.topic) this.#plain(`*** topic: ${safe(ch.topic.text)}`);
    for (const e of ch.history) {
      const text = renderPlain({ prefix: e.prefix, command: e.command, params: [ch.name, e.text] }, ch.name);
      if (text !== undefined) this.#plain(`[${hhmm(e.at)}] ${text}`);
    }
  }

  #plainLine(text: string): void {
    if (text === "") return;
    if (text.startsWith("/") && !text.startsWith("//")) return this.#plainCommand(text);
    const said = text.startsWith("//") ? text.slice(1) : text;
    const ch = this.room === undefined ? undefined : this.#hub.channel(this.room);
    if (ch) this.#hub.say(this, ch, "PRIVMSG", said.replace(/\0/g, ""));
  }

  #plainCommand(text: string): void {
    const m = /^\/(\S+)\s*(.*)$/.exec(text);
    const cmd = (m?.[1] ?? "").toLowerCase();
    const arg = (m?.[2] ?? "").trim();
    const h = this.#hub;
    switch (cmd) {
      case "nick":
        if (!isValidNick(arg))
          return this.#plain(
            `*** "${safe(arg)}" is not a valid nickname: 1-${NICKLEN} letters, digits, - _ [ ] { } | ^ \`, not starting with a digit or -`,
          );
        if (arg === this.nick) return;
        // on success the hub's NICK reaches this user too: "*** you are now NAME"
        if (!h.claimNick(this, arg, true)) this.#plain(`*** the nickname ${arg} is taken`);
        return;
      case "join": {
        const name = arg.startsWith("#") ? arg : `#${arg}`;
        if (!isValidChannel(name)) return this.#plain(`*** "${safe(arg)}" is not a valid room name (#name)`);
        return this.#plainJoin(name);
      }
      case "who": {
        const ch = this.room === undefined ? undefined : h.channel(this.room);
        const names = ch ? [...ch.members.keys()].map((x) => (x === this ? `${x.nick} (you)` : x.nick)) : [];
        return this.#plain(`*** in ${this.room ?? "no room"}: ${names.join(", ")}`);
      }
      case "me": {
        const ch = this.room === undefined ? undefined : h.channel(this.room);
        if (ch && arg !== "") h.say(this, ch, "PRIVMSG", `\x01ACTION ${arg}\x01`);
        return;
      }
      case "msg": {
        const mm = /^(\S+)\s+(.+)$/.exec(arg);
        if (!mm) return this.#plain("*** usage: /msg NICK text");
        const to = h.find(mm[1]!);
        if (!to) return this.#plain(`*** no one is called ${safe(mm[1]!)}`);
        to.deliver({ prefix: prefixOf(this), command: "PRIVMSG", params: [to.nick, mm[2]!] });
        return;
      }
      case "quit":
        this.end("Quit", arg === "" ? "Quit" : `Quit: ${arg}`);
        return;
      default:
        return this.#plain(
          `*** unknown command /${safe(cmd)}; commands: /nick NAME, /join #room, /who, /me text, /msg NICK text, /quit`,
        );
    }
  }
}
