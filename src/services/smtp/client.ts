/**
 * The SMTP client behind `sockit mail send`: one message handed to a server (EHLO, falling back
 * to HELO; MAIL FROM with SIZE, BODY=8BITMIME and SMTPUTF8 as the server offers them; RCPT TO;
 * DATA with the text's line endings made CRLF and its dots stuffed; QUIT). Every refusal rejects
 * with an {@link SmtpReplyError}.
 *
 * @module
 */
import { type Conn, dial, type TLSOptions, upgradeTLS } from "../../net/index.js";
import { makeOSError } from "../../errors/index.js";

/**
 * A server's refusal (a 4xx or 5xx reply, or any reply but the one expected).
 *
 * @example
 * ```ts
 * const opts = { from: "a@example.org", to: ["nobody"], message: Buffer.from("Subject: x\n\nhi\n") };
 * try { await sendMail("127.0.0.1:2525", opts); }
 * catch (e) { if (e instanceof SmtpReplyError) console.log(e.code, e.enhanced, e.command); }
 * ```
 */
export class SmtpReplyError extends Error {
  /** The reply code, e.g. 552. */
  readonly code: number;
  /** The enhanced status code (RFC 3463) when the server gave one, e.g. "5.3.4". */
  readonly enhanced: string | undefined;
  /** The command that was refused ("greeting" for the server's first reply). */
  readonly command: string;
  /** The reply's lines, as received. */
  readonly lines: readonly string[];

  /** `lines` as received; the message says what was refused and how. */
  constructor(command: string, code: number, lines: readonly string[]) {
    const text = lines.map((l) => l.slice(4)).join(" ");
    super(`the server refused ${command}: ${code} ${text}`);
    this.name = "SmtpReplyError";
    this.code = code;
    this.command = command;
    this.lines = lines;
    this.enhanced = /^([245]\.\d{1,3}\.\d{1,3})\b/.exec(lines[0]?.slice(4) ?? "")?.[1];
  }
}

/**
 * Options of {@link sendMail}.
 *
 * @example
 * ```ts
 * const o: SendMailOptions = { from: "a@example.org", to: ["b@example.org"], message: Buffer.from("Subject: hi\n\nhello\n") };
 * ```
 */
export interface SendMailOptions {
  /** The envelope sender (MAIL FROM); "" for the null sender. */
  readonly from: string;
  /** The envelope recipients (RCPT TO). */
  readonly to: readonly string[];
  /** The message: headers, a blank line, the body. Any line endings. */
  readonly message: Uint8Array;
  /** The name given in EHLO (default "localhost"). */
  readonly helo?: string;
  /** Give up when the server is silent this long (ms; default 60 000). */
  readonly timeoutMs?: number;
  /** Sees the dialogue: "C" lines sent (the message text itself is not shown), "S" lines received. */
  readonly onDialogue?: (who: "C" | "S", line: string) => void;
  /**
   * STARTTLS (RFC 3207) before anything else, with these TLS options (`{}`: the system roots;
   * `ca`, `serverName`, `rejectUnauthorized: false`). A server that does not offer it is an
   * {@link SmtpReplyError} (the message is not sent in plain text).
   */
  readonly starttls?: TLSOptions;
}

/**
 * The server's answer to a delivered message.
 *
 * @example
 * ```ts
 * const r: SendMailResult = { code: 250, reply: "2.0.0 OK: stored as 1700000000.M1P2Q1" };
 * ```
 */
export interface SendMailResult {
  readonly code: number;
  /** The final reply's text (after the code). */
  readonly reply: string;
}

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;

/**
 * The DATA text of a message: CR, LF and CRLF line endings all made CRLF, a dot doubled at the
 * start of a line (RFC 5321 §4.5.2), a CRLF added at the end if missing, then the ending
 * `.` line.
 *
 * @example
 * ```ts
 * dataText(Buffer.from("a\n.b\n")).toString() // "a\r\n..b\r\n.\r\n"
 * ```
 */
export function dataText(message: Uint8Array): Buffer {
  const m = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const out = Buffer.allocUnsafe(m.length * 2 + 5);
  let o = 0;
  let lineStart = true;
  for (let i = 0; i < m.length; i++) {
    const b = m[i]!;
    if (b === CR || b === LF) {
      if (b === CR && m[i + 1] === LF) i++;
      out[o++] = CR;
      out[o++] = LF;
      lineStart = true;
      continue;
    }
    if (lineStart && b === DOT) out[o++] = DOT;
    out[o++] = b;
    lineStart = false;
  }
  if (!lineStart) {
    out[o++] = CR;
    out[o++] = LF;
  }
  out[o++] = DOT;
  out[o++] = CR;
  out[o++] = LF;
  return out.subarray(0, o);
}

/** Reads one reply (all its lines). */
async function readReply(
  conn: Conn,
  see: SendMailOptions["onDialogue"],
): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  for (let n = 0; n < 1000; n++) {
    const raw = await conn.readLine({ max: 4096 });
    if (raw === null)
      throw makeOSError("ECONNRESET", {
        op: "recv",
        address: conn.remoteAddress,
        hint: "the server closed the connection before it replied",
      });
    const line = raw.toString("utf8").replace(/\r?\n$/, "");
    see?.("S", line);
    const m = /^([2-5]\d\d)([ -]|$)/.exec(line);
    if (m === null)
      throw makeOSError("EPROTO", {
        op: "recv",
        address: conn.remoteAddress,
        hint: `the server's reply is not SMTP: ${JSON.stringify(line.slice(0, 80))}`,
      });
    lines.push(line);
    if (m[2] !== "-") return { code: Number(m[1]), lines };
  }
  throw makeOSError("EPROTO", {
    op: "recv",
    address: conn.remoteAddress,
    hint: "a reply of more than 1000 lines",
  });
}

/**
 * Sends one message to the SMTP server at `address` (`HOST:PORT`). Resolves the server's final
 * reply; rejects with {@link SmtpReplyError} on any refusal (after QUIT), or with an OSError when
 * the connection fails.
 *
 * @example
 * ```ts
 * const r = await sendMail("127.0.0.1:2525", {
 *   from: "me@example.org", to: ["you@example.org"],
 *   message: Buffer.from("Subject: hello\n\nHi!\n"),
 * });
 * console.log(r.code, r.reply); // 250 "2.0.0 OK: stored as …"
 * ```
 */
export async function sendMail(address: string, opts: SendMailOptions): Promise<SendMailResult> {
  const timeout = opts.timeoutMs ?? 60_000;
  const see = opts.onDialogue;
  let conn = await dial("tcp", address, { timeout });
  let quit = false;
  const send = async (line: string): Promise<void> => {
    see?.("C", line);
    await conn.write(`${line}\r\n`);
  };
  const expect = async (
    command: string,
    ok: (code: number) => boolean,
  ): Promise<{ code: number; lines: string[] }> => {
    conn.setReadDeadline(Date.now() + timeout);
    const r = await readReply(conn, see);
    if (!ok(r.code)) {
      if (r.code === 421) quit = true; // the server is closing: no QUIT
      throw new SmtpReplyError(command, r.code, r.lines);
    }
    return r;
  };
  try {
    await expect("the connection (greeting)", (c) => c === 220);
    const helo = opts.helo ?? "localhost";
    let ext = new Set<string>();
    let size: number | undefined;
    const hello = async (): Promise<void> => {
      await send(`EHLO ${helo}`);
      ext = new Set<string>();
      size = undefined;
      try {
        const r = await expect("EHLO", (c) => c === 250);
        for (const l of r.lines.slice(1)) {
          const [kw, arg] = l.slice(4).toUpperCase().split(/\s+/, 2) as [string, string | undefined];
          ext.add(kw);
          if (kw === "SIZE" && arg && /^\d+$/.test(arg) && arg !== "0") size = Number(arg);
        }
      } catch (err) {
        if (!(err instanceof SmtpReplyError) || err.code < 500 || opts.starttls !== undefined) throw err;
        await send(`HELO ${helo}`);
        await expect("HELO", (c) => c === 250);
      }
    };
    await hello();
    if (opts.starttls !== undefined) {
      if (!ext.has("STARTTLS"))
        throw new SmtpReplyError("EHLO", 502, [
          "502 5.5.1 (sockit) the server does not offer STARTTLS; the message was not sent in plain text",
        ]);
      await send("STARTTLS");
      await expect("STARTTLS", (c) => c === 220);
      const host = address.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
      conn = await upgradeTLS(conn, { serverName: host, ...opts.starttls, timeout });
      see?.("C", `(TLS ${conn.tls?.protocol ?? ""} ${conn.tls?.cipher ?? ""})`);
      await hello(); // RFC 3207: the server forgot everything; EHLO again
    }
    const text = dataText(opts.message);
    const bodyBytes = text.length - 3;

    const utf8 = [opts.from, ...opts.to].some((a) => /[^\x00-\x7f]/.test(a));
    if (utf8 && !ext.has("SMTPUTF8"))
      throw new SmtpReplyError("MAIL", 553, [
        "553 5.6.7 (sockit) a non-ASCII address needs SMTPUTF8, which this server does not offer",
      ]);
    if (size !== undefined && bodyBytes > size)
      throw new SmtpReplyError("MAIL", 552, [
        `552 5.3.4 (sockit) the message has ${bodyBytes} bytes; the server takes at most ${size}`,
      ]);
    const params = [
      ...(ext.has("SIZE") ? [`SIZE=${bodyBytes}`] : []),
      ...(ext.has("8BITMIME") && text.some((b) => b > 0x7f) ? ["BODY=8BITMIME"] : []),
      ...(utf8 ? ["SMTPUTF8"] : []),
    ];
    await send(`MAIL FROM:<${opts.from}>${params.map((p) => ` ${p}`).join("")}`);
    await expect("MAIL FROM", (c) => c === 250);
    for (const to of opts.to) {
      await send(`RCPT TO:<${to}>`);
      await expect(`RCPT TO:<${to}>`, (c) => c === 250 || c === 251);
    }
    await send("DATA");
    await expect("DATA", (c) => c === 354);
    see?.("C", `(the message: ${bodyBytes} bytes, then ".")`);
    await conn.write(text);
    const done = await expect("the message", (c) => c === 250);
    await send("QUIT");
    quit = true;
    await expect("QUIT", (c) => c === 221).catch(() => undefined);
    return { code: done.code, reply: done.lines.at(-1)!.slice(4) };
  } finally {
    if (!quit) {
      // refused midway: say goodbye (best effort), then close
      await send("QUIT").catch(() => {});
      conn.setReadDeadline(Date.now() + 2000);
      await readReply(conn, see).catch(() => {});
    }
    await conn.close().catch(() => {});
  }
}
