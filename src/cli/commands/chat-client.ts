/**
 * `sockit chat HOST[:PORT] --nick NAME [--join #room]`: a terminal IRC client on node:readline.
 * The input line stays editable while messages arrive (each is printed above it); nicknames are
 * coloured (not with NO_COLOR, `--color never` or when stdout is not a terminal); every line has
 * its time; a lost connection is retried with back-off (1 s, 2 s, 4 s … 30 s) and the rooms are
 * joined again. It speaks plain IRC, so it works with any IRC server.
 *
 * @module
 */
import { clearLine, cursorTo, createInterface, type Interface } from "node:readline";
import { SSLError } from "../../errors/index.js";
import { type Conn, dial } from "../../net/index.js";
import {
  escapeLine,
  formatMessage,
  type IrcMessage,
  ircLower,
  LineReader,
  parseLine,
} from "../../services/chat/index.js";
import { useColor } from "../output/color.js";
import type { Context } from "../context.js";
import { EXIT, UsageError } from "../exit.js";
import { parseHostPort } from "../session/address.js";
import { clientTLS, type TLSFlags } from "../tls.js";

/** What `sockit chat` will do. */
export interface ChatClientPlan {
  readonly host: string;
  readonly port: number | string;
  readonly nick: string;
  readonly join: readonly string[];
  readonly password: string | undefined;
  readonly reconnect: boolean;
  /** `--tls`, `--ca`, `--insecure` (the CA file is read when the command runs). */
  readonly tlsFlags: TLSFlags;
}

/** Back-off between reconnects: 1 s doubling to this, ms. */
const MAX_BACKOFF_MS = 30_000;
/** How long `/quit` waits for the server to close, ms. */
const QUIT_WAIT_MS = 3000;

/**
 * `sockit chat`'s arguments as a plan (pure; throws UsageError).
 * @example `planChatClient("127.0.0.1", { nick: "alice" }).port // 6667`
 */
export function planChatClient(
  address: string,
  o: {
    nick?: string;
    join?: string[];
    password?: string;
    reconnect?: boolean;
    tls?: boolean;
    ca?: string;
    insecure?: boolean;
  },
): ChatClientPlan {
  if (o.tls !== true && (o.ca !== undefined || o.insecure === true))
    throw new UsageError("--ca and --insecure need --tls");
  const hp = parseHostPort(address, { defaultPort: o.tls === true ? 6697 : 6667, what: "HOST[:PORT]" });
  const nick = o.nick ?? "";
  if (!/^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]{0,29}$/.test(nick))
    throw new UsageError(
      `--nick must be a nickname (letters, digits, - [ ] \\ \` _ ^ { | }), got ${JSON.stringify(nick)}`,
    );
  const join = (o.join ?? []).flatMap((j) => j.split(",")).map((j) => (/^[#&]/.test(j) ? j : `#${j}`));
  return {
    host: hp.host,
    port: hp.port,
    nick,
    join,
    password: o.password,
    reconnect: o.reconnect !== false,
    tlsFlags: { tls: o.tls === true, ca: o.ca, insecure: o.insecure === true } as TLSFlags,
  };
}

const NICK_COLORS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

/** The terminal side: prints above the input line, colours nicknames. */
class Screen {
  readonly #ctx: Context;
  readonly #color: boolean;
  readonly #rl: Interface | undefined;
  constructor(ctx: Context, rl: Interface | undefined) {
    this.#ctx = ctx;
    this.#rl = rl;
    this.#color = useColor(ctx.opts.color, ctx.io.stdout as { isTTY?: boolean }, ctx.io.env);
  }
  nick(n: string): string {
    if (!this.#color) return n;
    let h = 0;
    for (const c of ircLower(n)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    return `\x1b[${NICK_COLORS[h % NICK_COLORS.length]}m${n}\x1b[0m`;
  }
  dim(s: string): string {
    return this.#color ? `\x1b[2m${s}\x1b[0m` : s;
  }
  print(text: string): void {
    const d = new Date();
    const ts = `[${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}]`;
    const out = this.#ctx.io.stdout;
    const tty = (out as { isTTY?: boolean }).isTTY === true && this.#rl !== undefined;
    if (tty) {
      clearLine(out, 0);
      cursorTo(out, 0);
    }
    out.write(`${this.dim(ts)} ${text}\n`);
    if (tty) this.#rl!.prompt(true);
  }
}

/** Server text shown safely: control bytes as \xNN (IRC colour codes included). */
const safe = (s: string): string => escapeLine(Buffer.from(s, "latin1"));

/** One connection's worth of client state. */
class Link {
  nick: string;
  readonly channels = new Set<string>();
  current: string | undefined;
  registered = false;
  constructor(
    readonly conn: Conn,
    nick: string,
  ) {
    this.nick = nick;
  }
  send(m: IrcMessage): Promise<number> {
    return this.conn.write(Buffer.from(formatMessage(m), "latin1"));
  }
}

/**
 * Runs the client until `/quit`, the end of stdin, or (without reconnect) a lost connection.
 * Resolves the exit code.
 */
export async function runChatClient(plan: ChatClientPlan, ctx: Context): Promise<number> {
  const tls = clientTLS(plan.tlsFlags, ctx);
  const interactive = (ctx.io.stdin as { isTTY?: boolean }).isTTY === true;
  const rl = createInterface({
    input: ctx.io.stdin,
    output: interactive ? ctx.io.stdout : undefined,
    terminal: interactive,
  });
  if (interactive) rl.setPrompt("> ");
  const screen = new Screen(ctx, interactive ? rl : undefined);
  let link: Link | undefined;
  let quitting = false;
  let wanted = [...plan.join];
  let wantNick = plan.nick;
  const inputEnded = new Promise<void>((r) => rl.once("close", () => r()));
  const eof = new AbortController(); // aborts the read in progress when stdin ends
  void inputEnded.then(() => eof.abort());
  let backoff = 1000;

  const onInput = (text: string): void => {
    const l = link;
    if (text.trim() === "") return;
    if (!l || !l.registered) return screen.print(screen.dim("*** not connected; the line was not sent"));
    const m = /^\/(\S+)\s*(.*)$/.exec(text);
    if (!m || text.startsWith("//")) {
      const said = text.startsWith("//") ? text.slice(1) : text;
      if (l.current === undefined) return screen.print("*** join a room first: /join #room");
      void l
        .send({ command: "PRIVMSG", params: [l.current, Buffer.from(said, "utf8").toString("latin1")] })
        .catch(() => {});
      return screen.print(`<${screen.nick(l.nick)}> ${said}`);
    }
    const cmd = m[1]!.toLowerCase();
    const arg = m[2]!.trim();
    const raw = (s: string) => Buffer.from(s, "utf8").toString("latin1");
    const send = (msg: IrcMessage) => void l.send(msg).catch(() => {});
    switch (cmd) {
      case "join":
        for (const ch of arg.split(/[ ,]+/).filter(Boolean))
          send({ command: "JOIN", params: [/^[#&]/.test(ch) ? ch : `#${ch}`] });
        return;
      case "part":
        if (arg === "" && l.current === undefined) return screen.print("*** usage: /part [#room]");
        return send({ command: "PART", params: [arg === "" ? l.current! : arg.split(" ")[0]!] });
      case "msg": {
        const mm = /^(\S+)\s+(.+)$/.exec(arg);
        if (!mm) return screen.print("*** usage: /msg NICK text");
        send({ command: "PRIVMSG", params: [mm[1]!, raw(mm[2]!)] });
        return screen.print(`-> *${mm[1]}* ${mm[2]}`);
      }
      case "me":
        if (l.current === undefined) return screen.print("*** join a room first: /join #room");
        send({ command: "PRIVMSG", params: [l.current, `\x01ACTION ${raw(arg)}\x01`] });
        return screen.print(`* ${screen.nick(l.nick)} ${arg}`);
      case "names":
      case "who":
        return send({ command: "NAMES", params: [arg === "" ? (l.current ?? "") : arg] });
      case "topic":
        if (l.current === undefined) return screen.print("*** join a room first: /join #room");
        return send({ command: "TOPIC", params: arg === "" ? [l.current] : [l.current, raw(arg)] });
      case "nick":
        wantNick = arg;
        return send({ command: "NICK", params: [arg] });
      case "quote":
        void l.conn.write(Buffer.from(`${arg}\r\n`, "utf8")).catch(() => {});
        return;
      case "quit":
        quitting = true;
        send({ command: "QUIT", params: [raw(arg === "" ? "leaving" : arg)] });
        return;
      default:
        return screen.print(
          "*** commands: /join #room, /part [#room], /msg NICK text, /me text, /names, /topic [text], /nick NAME, /quote LINE, /quit [message]",
        );
    }
  };
  rl.on("line", onInput);

  const show = (l: Link, m: IrcMessage): void => {
    const who = (m.prefix ?? "").split("!")[0]!;
    const p = m.params;
    switch (m.command) {
      case "PING":
        void l.send({ command: "PONG", params: [p[0] ?? ""] }).catch(() => {});
        return;
      case "001":
        l.registered = true;
        backoff = 1000;
        l.nick = p[0] ?? l.nick;
        screen.print(`*** connected to ${plan.host} as ${screen.nick(l.nick)}`);
        for (const ch of wanted) void l.send({ command: "JOIN", params: [ch] }).catch(() => {});
        return;
      case "433":
      case "432":
        if (!l.registered) {
          l.nick = `${l.nick.slice(0, 15)}_`;
          screen.print(`*** nickname ${safe(p[1] ?? "")} is not available; trying ${l.nick}`);
          void l.send({ command: "NICK", params: [l.nick] }).catch(() => {});
        } else screen.print(`*** ${safe(p[1] ?? "")}: ${safe(p.at(-1) ?? "")}`);
        return;
      case "JOIN": {
        const ch = p[0] ?? "";
        if (ircLower(who) === ircLower(l.nick)) {
          l.channels.add(ch);
          l.current = ch;
          if (!wanted.some((w) => ircLower(w) === ircLower(ch))) wanted.push(ch);
          screen.print(`*** you joined ${ch}`);
        } else screen.print(`*** ${screen.nick(who)} joined ${ch}`);
        return;
      }
      case "PART": {
        const ch = p[0] ?? "";
        if (ircLower(who) === ircLower(l.nick)) {
          l.channels.delete(ch);
          wanted = wanted.filter((w) => ircLower(w) !== ircLower(ch));
          if (l.current !== undefined && ircLower(l.current) === ircLower(ch))
            l.current = [...l.channels].at(-1);
          screen.print(`*** you left ${ch}`);
        } else screen.print(`*** ${screen.nick(who)} left ${ch}${p[1] ? ` (${safe(p[1])})` : ""}`);
        return;
      }
      case "QUIT":
        return screen.print(`*** ${screen.nick(who)} quit (${safe(p[0] ?? "")})`);
      case "NICK":
        if (ircLower(who) === ircLower(l.nick)) {
          l.nick = p[0] ?? l.nick;
          wantNick = l.nick;
        }
        return screen.print(`*** ${screen.nick(who)} is now ${screen.nick(p[0] ?? "")}`);
      case "PRIVMSG":
      case "NOTICE": {
        const text = p[1] ?? "";
        const where = p[0] !== undefined && /^[#&]/.test(p[0]) ? `${p[0]} ` : "";
        const action = /^\x01ACTION (.*?)\x01?$/.exec(text);
        if (m.command === "PRIVMSG" && action)
          return screen.print(`${where}* ${screen.nick(who)} ${safe(action[1]!)}`);
        if (m.command === "NOTICE")
          return screen.print(`${where}-${screen.nick(who || "server")}- ${safe(text)}`);
        return screen.print(
          where === ""
            ? `*${screen.nick(who)}* ${safe(text)}`
            : `${where}<${screen.nick(who)}> ${safe(text)}`,
        );
      }
      case "TOPIC":
        return screen.print(`*** ${screen.nick(who)} set the topic of ${p[0]}: ${safe(p[1] ?? "")}`);
      case "332":
        return screen.print(`*** topic of ${p[1]}: ${safe(p[2] ?? "")}`);
      case "353":
        return screen.print(`*** in ${p[2]}: ${safe(p[3] ?? "")}`);
      case "ERROR":
        return screen.print(`*** ${safe(p[0] ?? "")}`);
      case "366":
      case "004":
      case "005":
      case "375":
      case "376":
      case "CAP":
        return;
      default:
        if (/^\d{3}$/.test(m.command)) screen.print(screen.dim(`*** ${safe(p.slice(1).join(" "))}`));
    }
  };

  const session = async (): Promise<"quit" | "lost"> => {
    const conn = await dial(
      "tcp",
      plan.host.includes(":") ? `[${plan.host}]:${plan.port}` : `${plan.host}:${plan.port}`,
      {
        timeout: 10_000,
        keepAlive: true,
        ...(tls === undefined ? {} : { tls }),
      },
    );
    const l = new Link(conn, wantNick);
    link = l;
    if (plan.password !== undefined) await l.send({ command: "PASS", params: [plan.password] });
    await l.send({ command: "NICK", params: [l.nick] });
    await l.send({
      command: "USER",
      params: [plan.nick.toLowerCase().slice(0, 10), "0", "*", `${plan.nick} (sockit chat)`],
    });
    const reader = new LineReader();
    try {
      for (;;) {
        const b = await conn.read(undefined, { signal: eof.signal }).catch((err: unknown) => {
          if (eof.signal.aborted) return "eof" as const;
          throw err;
        });
        if (b === "eof") {
          if (!quitting) {
            quitting = true;
            await l.send({ command: "QUIT", params: ["leaving"] }).catch(() => {});
          }
          // let the server close first (bounded)
          conn.setReadDeadline(Date.now() + QUIT_WAIT_MS);
          while ((await conn.read().catch(() => null)) !== null);
          return "quit";
        }
        if (b === null) return quitting ? "quit" : "lost";
        for (const item of reader.push(b)) {
          if ("tooLong" in item) continue;
          try {
            show(l, parseLine(item.line));
          } catch {
            // not IRC: ignore the line
          }
        }
      }
    } catch {
      return quitting ? "quit" : "lost";
    } finally {
      link = undefined;
      conn.abort();
    }
  };

  try {
    for (;;) {
      let outcome: "quit" | "lost";
      try {
        outcome = await session();
        if (outcome === "lost") screen.print(`*** connection to ${plan.host} lost`);
      } catch (err) {
        // a certificate that does not verify will not on the next try either
        if (!plan.reconnect || err instanceof SSLError) throw err;
        screen.print(`*** cannot connect to ${plan.host}: ${(err as Error).message}`);
        outcome = "lost";
      }
      if (outcome === "quit" || quitting) return EXIT.OK;
      if (!plan.reconnect) return EXIT.RESET;
      screen.print(`*** reconnecting in ${backoff / 1000} s`);
      const again = await Promise.race([
        new Promise<"again">((r) => setTimeout(() => r("again"), backoff)),
        inputEnded.then(() => "eof" as const),
      ]);
      if (again === "eof") return EXIT.OK;
      backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
    }
  } finally {
    rl.close();
  }
}
