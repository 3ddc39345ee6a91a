/**
 * One SMTP server conversation as a state machine, sans I/O: items from the reader in, replies
 * out (RFC 5321 with PIPELINING, SIZE, 8BITMIME, SMTPUTF8 and ENHANCEDSTATUSCODES). It never
 * relays: a message is handed to the caller to store, whatever its recipients.
 *
 * @module
 */
import type { SmtpInput } from "./parser.js";
import { SMTP_LINE_LIMIT } from "./parser.js";

/**
 * Who sent a message to whom, as the client said it in the transaction.
 *
 * @example
 * ```ts
 * const env: Envelope = { from: "a@example.org", to: ["b@example.org"], helo: "client",
 *   peer: "127.0.0.1:40000", smtputf8: false, receivedAt: new Date() };
 * ```
 */
export interface Envelope {
  /** The reverse path (MAIL FROM); "" for the null sender `<>`. */
  readonly from: string;
  /** The forward paths (RCPT TO), in order. */
  readonly to: readonly string[];
  /** The name the client gave in EHLO/HELO. */
  readonly helo: string;
  /** The client's address, `host:port`. */
  readonly peer: string;
  /** MAIL FROM had the SMTPUTF8 parameter. */
  readonly smtputf8: boolean;
  readonly receivedAt: Date;
}

/**
 * Options of {@link SmtpSession}.
 *
 * @example
 * ```ts
 * const o: SessionOptions = { hostname: "sink.local", maxMessage: 1 << 20, maxRecipients: 100, peer: "127.0.0.1:5000" };
 * ```
 */
export interface SessionOptions {
  /** The name the server gives in its greeting and EHLO reply. */
  readonly hostname: string;
  /** The SIZE limit in bytes. */
  readonly maxMessage: number;
  /** Recipients per message; more are answered 452 4.5.3. */
  readonly maxRecipients: number;
  /** The client's address, for the envelope. */
  readonly peer: string;
  /** Failed commands before the server gives up with 421 (default 20). */
  readonly maxErrors?: number;
  /** Offer STARTTLS (RFC 3207) in the EHLO reply until the connection is secured. */
  readonly starttls?: boolean;
}

/**
 * What the server does after an item: send `reply` (CRLF-terminated, possibly several lines),
 * then read the message (`"data"`), close (`"close"`), or store `data` and answer what
 * {@link SmtpSession.stored} returns (`"store"`, no reply yet).
 *
 * @example
 * ```ts
 * const step: SessionStep = { reply: "250 2.0.0 OK\r\n" };
 * ```
 */
export type SessionStep =
  | { readonly reply: string; readonly action?: "data" | "close" | "starttls" }
  | { readonly action: "store"; readonly envelope: Envelope; readonly data: Buffer };

const COMMANDS = "EHLO HELO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT";
const NOT_IMPLEMENTED = new Set(["EXPN", "TURN", "ETRN", "AUTH", "BDAT", "SEND", "SOML", "SAML"]);
const MAX_PATH = 256;
const MAX_LOCAL = 64;

const reply = (text: string): string => `${text}\r\n`;

/** Client text echoed in a reply: no control characters (a CR would end the reply), at most 100. */
function shown(text: string): string {
  const t = text.replace(/[\x00-\x1f\x7f]/g, "?");
  return t.length > 100 ? `${t.slice(0, 97)}...` : t;
}

/** An address of a path (`<…>`, source route dropped); undefined when the syntax is wrong. */
function parsePath(text: string): { path: string; rest: string } | undefined {
  const m = /^\s*<([^<>]*)>(.*)$/.exec(text);
  if (m === null) return undefined;
  let path = m[1]!;
  const route = /^@[^:]*:(.*)$/.exec(path);
  if (route) path = route[1]!;
  return { path, rest: m[2]! };
}

/** Why a mailbox is not acceptable, or undefined. */
function mailboxProblem(path: string, postmasterOk: boolean): string | undefined {
  if (path.length > MAX_PATH) return `path longer than ${MAX_PATH} characters`;

  if (/[\x00-\x20\x7f]/.test(path)) return "spaces or control characters in the address";
  if (postmasterOk && path.toLowerCase() === "postmaster") return undefined;
  const at = path.lastIndexOf("@");
  if (at <= 0 || at === path.length - 1) return "not local-part@domain";
  if (Buffer.byteLength(path.slice(0, at)) > MAX_LOCAL) return `local part longer than ${MAX_LOCAL} octets`;
  return undefined;
}

/**
 * One SMTP conversation's state: greeting, transaction (sender, recipients), error count.
 *
 * @example
 * ```ts
 * const s = new SmtpSession({ hostname: "sink", maxMessage: 1024, maxRecipients: 10, peer: "127.0.0.1:1" });
 * s.greeting();                                                       // "220 sink ESMTP sockit\r\n"
 * s.handle({ kind: "command", line: Buffer.from("EHLO me") });        // { reply: "250-sink …" }
 * ```
 */
export class SmtpSession {
  readonly #o: SessionOptions;
  #helo: string | undefined;
  #from: string | undefined;
  #smtputf8 = false;
  #to: string[] = [];
  #errors = 0;
  #secure = false;

  /** See {@link SessionOptions}. */
  constructor(opts: SessionOptions) {
    this.#o = opts;
  }

  /** The 220 greeting. */
  greeting(): string {
    return reply(`220 ${this.#o.hostname} ESMTP sockit mail sink (it stores, never relays)`);
  }

  /** The reply to an idle client before it is closed. */
  timeout(): string {
    return reply(`421 4.4.2 ${this.#o.hostname} idle too long; closing`);
  }

  /** The reply to a client that the server will not serve now (limits, shutdown). */
  unavailable(why: string): string {
    return reply(`421 4.3.2 ${this.#o.hostname} ${why}; try again later`);
  }

  /** Handles one item from the reader. */
  handle(item: SmtpInput): SessionStep {
    switch (item.kind) {
      case "too-long":
        return this.#error(`500 5.5.6 Line too long (at most ${SMTP_LINE_LIMIT} bytes with CRLF)`);
      case "refused-message":
        this.#reset();
        return item.reason === "size"
          ? {
              reply: reply(
                `552 5.3.4 Message too big (${item.size} bytes; at most ${this.#o.maxMessage}); not stored`,
              ),
            }
          : {
              reply: reply(
                `500 5.5.6 Line too long in the message (at most ${SMTP_LINE_LIMIT} bytes with CRLF); not stored`,
              ),
            };
      case "message": {
        const envelope: Envelope = {
          from: this.#from ?? "",
          to: this.#to,
          helo: this.#helo ?? "",
          peer: this.#o.peer,
          smtputf8: this.#smtputf8,
          receivedAt: new Date(),
        };
        this.#reset();
        return { action: "store", envelope, data: item.data };
      }
      case "command":
        return this.#command(item.line);
    }
  }

  /** The reply once a message was stored (`id`) or could not be (`err`, with its errno code). */
  stored(result: { id: string } | { error: unknown }): string {
    if ("id" in result) return reply(`250 2.0.0 OK: stored as ${result.id}`);
    const code = (result.error as { code?: unknown } | null)?.code;
    if (code === "ENOSPC" || code === "EDQUOT")
      return reply("452 4.3.1 Insufficient system storage; message not stored, try again later");
    return reply("451 4.3.0 Local error in processing; message not stored, try again later");
  }

  /**
   * The TLS handshake after STARTTLS succeeded: everything learnt before it is forgotten (RFC
   * 3207 4.2: the client must send EHLO again) and STARTTLS is no longer offered.
   */
  secured(): void {
    this.#secure = true;
    this.#helo = undefined;
    this.#reset();
  }

  #reset(): void {
    this.#from = undefined;
    this.#to = [];
    this.#smtputf8 = false;
  }

  #error(text: string): SessionStep {
    this.#errors++;
    if (this.#errors >= (this.#o.maxErrors ?? 20))
      return { reply: reply(`421 4.7.0 ${this.#o.hostname} too many errors; closing`), action: "close" };
    return { reply: reply(text) };
  }

  #command(raw: Buffer): SessionStep {
    const line = raw.toString("utf8");
    const m = /^([A-Za-z]+)(?:[ \t]+(.*))?$/s.exec(line);
    if (m === null) return this.#error("500 5.5.2 Syntax error: a command is a word, then its arguments");
    const verb = m[1]!.toUpperCase();
    const arg = (m[2] ?? "").trim();
    const ok = (text: string): SessionStep => ({ reply: reply(text) });
    switch (verb) {
      case "EHLO":
      case "HELO": {
        if (arg === "") return this.#error(`501 5.5.4 Syntax: ${verb} hostname`);
        this.#helo = arg;
        this.#reset();
        if (verb === "HELO") return ok(`250 ${this.#o.hostname}`);
        const ext = [
          `${this.#o.hostname} greets ${shown(arg)}`,
          "PIPELINING",
          `SIZE ${this.#o.maxMessage}`,
          "8BITMIME",
          "SMTPUTF8",
          "ENHANCEDSTATUSCODES",
          ...(this.#o.starttls === true && !this.#secure ? ["STARTTLS"] : []),
          "HELP",
        ];
        return { reply: ext.map((e, i) => `250${i === ext.length - 1 ? " " : "-"}${e}\r\n`).join("") };
      }
      case "MAIL":
        return this.#mail(arg);
      case "RCPT":
        return this.#rcpt(arg);
      case "DATA":
        if (arg !== "") return this.#error("501 5.5.4 Syntax: DATA (no arguments)");
        if (this.#from === undefined) return this.#error("503 5.5.1 Bad sequence of commands: MAIL first");
        if (this.#to.length === 0) return this.#error("503 5.5.1 Bad sequence of commands: RCPT first");
        return { reply: reply("354 End data with <CR><LF>.<CR><LF>"), action: "data" };
      case "RSET":
        this.#reset();
        return ok("250 2.0.0 OK");
      case "NOOP":
        return ok("250 2.0.0 OK");
      case "VRFY":
        if (arg === "") return this.#error("501 5.5.4 Syntax: VRFY address");
        return ok("252 2.5.0 Cannot VRFY user, but will accept the message and store it");
      case "HELP":
        return ok(`214 2.0.0 Commands: ${COMMANDS}`);
      case "QUIT":
        return { reply: reply(`221 2.0.0 ${this.#o.hostname} closing connection`), action: "close" };
      case "STARTTLS":
        if (this.#o.starttls !== true) return this.#error("502 5.5.1 STARTTLS not implemented");
        if (arg !== "") return this.#error("501 5.5.4 Syntax: STARTTLS (no arguments)");
        if (this.#secure) return this.#error("503 5.5.1 Bad sequence of commands: TLS already active");
        return { reply: reply("220 2.0.0 Ready to start TLS"), action: "starttls" };
      default:
        if (NOT_IMPLEMENTED.has(verb)) return this.#error(`502 5.5.1 ${verb} not implemented`);
        return this.#error("500 5.5.1 Command unrecognized");
    }
  }

  #mail(arg: string): SessionStep {
    if (this.#helo === undefined) return this.#error("503 5.5.1 Bad sequence of commands: EHLO/HELO first");
    if (this.#from !== undefined) return this.#error("503 5.5.1 Bad sequence of commands: nested MAIL");
    const m = /^FROM:(.*)$/is.exec(arg);
    const p = m ? parsePath(m[1]!) : undefined;
    if (p === undefined)
      return this.#error("501 5.5.4 Syntax: MAIL FROM:<address> [SIZE=n] [BODY=8BITMIME] [SMTPUTF8]");
    let smtputf8 = false;
    for (const param of p.rest.trim().split(/\s+/).filter(Boolean)) {
      const [key, value] = param.split("=", 2) as [string, string | undefined];
      const k = key.toUpperCase();
      if (k === "SIZE") {
        if (value === undefined || !/^\d{1,20}$/.test(value))
          return this.#error("501 5.5.4 Syntax: SIZE=number");
        if (Number(value) > this.#o.maxMessage)
          return this.#error(`552 5.3.4 Message too big (SIZE=${value}; at most ${this.#o.maxMessage})`);
      } else if (k === "BODY") {
        if (value === undefined || !/^(7BIT|8BITMIME)$/i.test(value))
          return this.#error("501 5.5.4 Syntax: BODY=7BIT or BODY=8BITMIME");
      } else if (k === "SMTPUTF8" && value === undefined) smtputf8 = true;
      else return this.#error(`555 5.5.4 MAIL parameter ${shown(key)} not recognized`);
    }
    if (p.path !== "") {
      const why = mailboxProblem(p.path, false);
      if (why !== undefined) return this.#error(`501 5.1.7 Bad sender address: ${why}`);

      if (!smtputf8 && /[^\x00-\x7f]/.test(p.path))
        return this.#error("553 5.6.7 A non-ASCII address needs MAIL FROM:<…> SMTPUTF8");
    }
    this.#from = p.path;
    this.#smtputf8 = smtputf8;
    return { reply: reply("250 2.1.0 Sender OK") };
  }

  #rcpt(arg: string): SessionStep {
    if (this.#from === undefined) return this.#error("503 5.5.1 Bad sequence of commands: MAIL first");
    const m = /^TO:(.*)$/is.exec(arg);
    const p = m ? parsePath(m[1]!) : undefined;
    if (p === undefined) return this.#error("501 5.5.4 Syntax: RCPT TO:<address>");
    if (p.rest.trim() !== "")
      return this.#error(`555 5.5.4 RCPT parameters not recognized: ${shown(p.rest.trim())}`);
    const why = mailboxProblem(p.path, true);
    if (why !== undefined) return this.#error(`501 5.1.3 Bad recipient address: ${why}`);

    if (!this.#smtputf8 && /[^\x00-\x7f]/.test(p.path))
      return this.#error("553 5.6.7 A non-ASCII address needs MAIL FROM:<…> SMTPUTF8");
    if (this.#to.length >= this.#o.maxRecipients)
      return { reply: reply(`452 4.5.3 Too many recipients (at most ${this.#o.maxRecipients})`) };
    this.#to.push(p.path);
    return { reply: reply("250 2.1.5 Recipient OK") };
  }
}
