/**
 * E-mail from the command line: `sockit serve smtp [ADDRESS]` (a development mail sink on
 * 127.0.0.1:2525 by default: every message stored in a Maildir or in memory, one summary line
 * per message on stdout, a web page with `--http PORT`) and `sockit mail send --from A --to B
 * [--subject S] [FILE|-] HOST[:PORT]` (hands one message to an SMTP server; `-v` shows the
 * dialogue).
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
// only the defaults load with every command; the service (and the mail page's MIME decoder)
// loads when serve smtp or mail send runs (start-up stays light for the other commands)
import type { MessageStore, serveMailWeb } from "../../services/smtp/index.js";
import { SMTP_DEFAULTS } from "../../services/smtp/server.js";
import type { Context } from "../context.js";
import { EXIT, UsageError } from "../exit.js";
import { addGlobalOptions } from "../globals.js";
import { parseHostPort, parsePortNumber } from "../session/address.js";
import { waitForStop } from "../session/stop.js";
import { clientTLS, serverTLS, type TLSFlags } from "../tls.js";
import type { CommandRegistry } from "./registry.js";
import { busyPortError } from "./serve.js";

/** Where `sockit serve smtp` listens when no ADDRESS is given. */
export const DEFAULT_SMTP_ADDRESS = "127.0.0.1:2525";

/** What `serve smtp` will do. */
export interface ServeSmtpPlan {
  readonly address: string;
  readonly maildir: string | undefined;
  /** The web page's port (undefined: no page). */
  readonly http: number | undefined;
  readonly maxMessage: number;
  readonly maxConnections: number;
  readonly maxPerSource: number;
  readonly idleMs: number;
  readonly hostname: string | undefined;
  /** `--starttls`, `--cert`, `--key` (the files are read when the command runs). */
  readonly tlsFlags: TLSFlags | undefined;
}

function intOf(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new UsageError(`--${flag} must be an integer ${min}..${max}, got ${text}`);
  return n;
}

function hostPort(host: string, port: number | string): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * `serve smtp`'s arguments as a plan (pure; throws UsageError). `parent` holds the `serve`
 * flags that apply here (`--host`, `--port N`, `--max-conns`, `--max-per-source`, `--idle`).
 * @example `planServeSmtp(undefined, {}, {}).address // "127.0.0.1:2525"`
 */
export function planServeSmtp(
  address: string | undefined,
  o: {
    maildir?: string;
    http?: string;
    maxMessage?: string;
    hostname?: string;
    starttls?: boolean;
    cert?: string;
    key?: string;
  },
  parent: { host?: string; port?: string; maxConns?: string; maxPerSource?: string; idle?: string },
): ServeSmtpPlan {
  if (address !== undefined && (parent.host !== undefined || parent.port !== undefined))
    throw new UsageError("give serve smtp either ADDRESS or --host/--port, not both");
  let at = address ?? DEFAULT_SMTP_ADDRESS;
  if (address === undefined && (parent.host !== undefined || parent.port !== undefined)) {
    if (parent.port !== undefined && !/^\d+$/.test(parent.port))
      throw new UsageError(`--port for serve smtp must be a port number (0: any), got ${parent.port}`);
    at = hostPort(parent.host ?? "127.0.0.1", parent.port ?? "2525");
  }
  const hp = parseHostPort(at, { zero: true, what: "ADDRESS", defaultPort: 2525 });
  if (typeof hp.port !== "number") throw new UsageError(`ADDRESS must have a port number, got ${at}`);
  if (o.maildir === "") throw new UsageError("--maildir is empty");
  if (o.starttls !== true && (o.cert !== undefined || o.key !== undefined))
    throw new UsageError("--cert and --key need --starttls");
  const idle = parent.idle === undefined ? undefined : Number(parent.idle);
  if (idle !== undefined && (!/^\d+(\.\d+)?$/.test(parent.idle!) || idle <= 0))
    throw new UsageError(`--idle must be a number of seconds, got ${parent.idle}`);
  return {
    address: hostPort(hp.host, hp.port),
    maildir: o.maildir,
    http: o.http === undefined ? undefined : parsePortNumber(o.http, true, "--http"),
    maxMessage: intOf("max-message", o.maxMessage, 1, 2 ** 31) ?? SMTP_DEFAULTS.maxMessage,
    maxConnections: intOf("max-conns", parent.maxConns, 1, 1 << 20) ?? SMTP_DEFAULTS.maxConnections,
    maxPerSource: intOf("max-per-source", parent.maxPerSource, 1, 1 << 20) ?? SMTP_DEFAULTS.maxPerSource,
    idleMs: idle === undefined ? SMTP_DEFAULTS.idleMs : Math.round(idle * 1000),
    hostname: o.hostname,
    tlsFlags: o.starttls === true ? ({ tls: true, cert: o.cert, key: o.key } as TLSFlags) : undefined,
  };
}

/** Runs the sink until SIGINT/SIGTERM (or `stop`); resolves 0. */
export async function runServeSmtp(plan: ServeSmtpPlan, ctx: Context, stop?: AbortSignal): Promise<number> {
  const smtp = await import("../../services/smtp/index.js");
  const store: MessageStore =
    plan.maildir === undefined ? new smtp.MemoryStore() : await smtp.MaildirStore.open(plan.maildir);
  const web = plan.http === undefined ? undefined : smtp.mailWeb(store);
  const out = ctx.io.stdout;
  // without --cert/--key: a fresh self-signed certificate, its fingerprint on stderr
  const tls = plan.tlsFlags === undefined ? undefined : serverTLS(plan.tlsFlags, ctx);
  const server = await smtp
    .serveSmtp(plan.address, {
      store,
      maxMessage: plan.maxMessage,
      maxConnections: plan.maxConnections,
      maxPerSource: plan.maxPerSource,
      idleMs: plan.idleMs,
      ...(plan.hostname === undefined ? {} : { hostname: plan.hostname }),
      ...(tls?.cert === undefined || tls.key === undefined
        ? {}
        : { tls: { cert: tls.cert as string, key: tls.key as string } }),
      onMessage: (m) => {
        out.write(
          ctx.opts.json
            ? `${JSON.stringify({ message: { id: m.id, from: m.envelope.from, to: m.envelope.to, subject: m.subject ?? "", size: m.size } })}\n`
            : `${smtp.summaryLine({ ...m, from: m.envelope.from, to: m.envelope.to })}\n`,
        );
        web?.notify(m);
      },
      onEvent: (e) => {
        if (e.type === "store-failed" || e.type === "error" || e.type === "refused")
          ctx.warn(`${e.peer}: ${e.type}: ${e.detail ?? ""}`);
        else ctx.info(`${e.peer}: ${e.type}`);
      },
    })
    .catch((err: unknown) => {
      throw busyPortError(err);
    });
  let page: Awaited<ReturnType<typeof serveMailWeb>> | undefined;
  try {
    if (web !== undefined) page = await smtp.serveMailWeb(web, plan.http!);
  } catch (err) {
    await server.close();
    throw err;
  }
  const { stopped, dispose } = waitForStop(stop);
  const [h, p] = [
    server.address.slice(0, server.address.lastIndexOf(":")),
    server.address.slice(server.address.lastIndexOf(":") + 1),
  ];
  const tryIt = [
    `sockit mail send --from me@example.org --to you@example.org --subject hi ${server.address}`,
    `swaks --server ${h.replace(/^\[|\]$/g, "")} --port ${p} --to you@example.org`,
  ];
  const where = plan.maildir === undefined ? "memory" : `Maildir ${plan.maildir}`;
  if (ctx.opts.json)
    out.write(
      `${JSON.stringify({ listening: server.address, maildir: plan.maildir ?? null, http: page ? `http://${page.address}/` : null, try: tryIt })}\n`,
    );
  else
    out.write(
      `SMTP mail sink on ${server.address}, storing in ${where} (never relays)\n` +
        (page ? `web page: http://${page.address}/\n` : "") +
        `try it from another terminal:  ${tryIt.join("\n                               or: ")}\n`,
    );
  ctx.err("sockit: serving SMTP; Ctrl-C stops\n");
  const sig = await stopped;
  dispose();
  ctx.err(`sockit: ${sig === "stop" ? "stopping" : `${sig}: shutting down`}\n`);
  await page?.close();
  await server.close();
  const c = server.counters;
  ctx.err(
    `sockit: ${c.stored} stored, ${c.refused} refused, ${c.storeFailed} not stored (storage), ${c.connections} connections\n`,
  );
  return EXIT.OK;
}

/** What `mail send` will do. */
export interface MailSendPlan {
  readonly address: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string | undefined;
  /** A file, "-" for stdin, or undefined (a short test message). */
  readonly file: string | undefined;
  readonly helo: string;
  readonly timeoutMs: number;
  /** `--starttls`, `--ca`, `--insecure` as TLS flags (undefined without `--starttls`). */
  readonly tlsFlags: TLSFlags | undefined;
}

/**
 * `mail send`'s arguments as a plan (pure; throws UsageError): `[FILE|-] HOST[:PORT]`, port 25
 * by default.
 * @example `planMailSend(["127.0.0.1:2525"], { from: "a@x", to: ["b@y"] }).address // "127.0.0.1:2525"`
 */
export function planMailSend(
  args: readonly string[],
  o: {
    from?: string;
    to?: string[];
    subject?: string;
    helo?: string;
    timeout?: string;
    starttls?: boolean;
    ca?: string;
    insecure?: boolean;
  },
): MailSendPlan {
  if (o.starttls !== true && (o.ca !== undefined || o.insecure === true))
    throw new UsageError("--ca and --insecure need --starttls");
  if (args.length < 1 || args.length > 2) throw new UsageError("mail send takes [FILE|-] HOST[:PORT]");
  const hp = parseHostPort(args.at(-1)!, { what: "HOST[:PORT]", defaultPort: 25 });
  if (o.from === undefined)
    throw new UsageError("--from ADDRESS is required (the envelope sender; '' for <>)");
  const to = o.to ?? [];
  if (to.length === 0) throw new UsageError("--to ADDRESS is required (repeat it for more recipients)");
  for (const a of [o.from, ...to])
    if (/[\s<>]/.test(a))
      throw new UsageError(`an address has no blanks or angle brackets, got ${JSON.stringify(a)}`);
  const t = o.timeout === undefined ? 60 : Number(o.timeout);
  if (o.timeout !== undefined && (!/^\d+(\.\d+)?$/.test(o.timeout) || t <= 0))
    throw new UsageError(`--timeout must be a number of seconds, got ${o.timeout}`);
  return {
    address: hostPort(hp.host, hp.port),
    from: o.from,
    to,
    subject: o.subject,
    file: args.length === 2 ? args[0] : undefined,
    helo: o.helo ?? "localhost",
    timeoutMs: Math.round(t * 1000),
    tlsFlags:
      o.starttls === true ? ({ tls: true, ca: o.ca, insecure: o.insecure === true } as TLSFlags) : undefined,
  };
}

/** True when `text` starts with a header block (a `Name: value` line). */
function hasHeaders(text: Buffer): boolean {
  return /^[!-9;-~]+:/.test(text.subarray(0, 1000).toString("latin1"));
}

function encodeHeader(v: string): string {
  return /^[\x20-\x7e]*$/.test(v) ? v : `=?UTF-8?B?${Buffer.from(v).toString("base64")}?=`;
}

/**
 * The message to send: the input as it is when it has headers (a Subject added if `--subject`
 * and it has none), else headers (From, To, Subject, Date, Message-ID, MIME) around the text.
 * @example `composeMessage(plan, Buffer.from("hi\n")).toString().startsWith("From: ") // true`
 */
export function composeMessage(plan: MailSendPlan, input: Buffer | undefined, now = new Date()): Buffer {
  if (input !== undefined && hasHeaders(input)) {
    if (plan.subject === undefined || /^subject:/im.test(input.toString("latin1").split(/\r?\n\r?\n/)[0]!))
      return input;
    return Buffer.concat([Buffer.from(`Subject: ${encodeHeader(plan.subject)}\r\n`), input]);
  }
  const body = input ?? Buffer.from("This is a test message sent by sockit mail send.\n");
  const eight = body.some((b) => b > 0x7f);
  const domain = /@([^@]+)$/.exec(plan.from)?.[1] ?? "localhost";
  const head = [
    `From: ${plan.from === "" ? "<>" : plan.from}`,
    `To: ${plan.to.join(", ")}`,
    `Subject: ${encodeHeader(plan.subject ?? "test")}`,
    `Date: ${now.toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${now.getTime()}.${randomBytes(6).toString("hex")}@${domain}>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    `Content-Transfer-Encoding: ${eight ? "8bit" : "7bit"}`,
    "X-Mailer: sockit mail send",
  ];
  return Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`), body]);
}

async function readInput(file: string | undefined, ctx: Context): Promise<Buffer | undefined> {
  if (file === undefined) return undefined;
  if (file === "-") {
    const parts: Buffer[] = [];
    for await (const c of ctx.io.stdin) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
    return Buffer.concat(parts);
  }
  try {
    return await readFile(file);
  } catch (err) {
    throw new UsageError(`FILE ${file}: ${(err as Error).message}`);
  }
}

/** Sends the message; prints the server's last reply; a refusal exits 8. */
export async function runMailSend(plan: MailSendPlan, ctx: Context): Promise<number> {
  const smtp = await import("../../services/smtp/index.js");
  const message = composeMessage(plan, await readInput(plan.file, ctx));
  const starttls = plan.tlsFlags === undefined ? undefined : clientTLS(plan.tlsFlags, ctx);
  const dialogue = ctx.opts.verbose
    ? (who: "C" | "S", line: string) => ctx.err(`${who === "C" ? "->" : "<-"} ${line}\n`)
    : undefined;
  try {
    const r = await smtp.sendMail(plan.address, {
      from: plan.from,
      to: plan.to,
      message,
      helo: plan.helo,
      timeoutMs: plan.timeoutMs,
      ...(dialogue ? { onDialogue: dialogue } : {}),
      ...(starttls === undefined ? {} : { starttls }),
    });
    ctx.io.stdout.write(`${r.code} ${r.reply}\n`);
    return EXIT.OK;
  } catch (err) {
    if (!(err instanceof smtp.SmtpReplyError)) throw err;
    ctx.err(`sockit: mail send: ${err.message}\n`);
    return EXIT.MAIL;
  }
}

/**
 * The `serve` flags given on the command line that `serve smtp` takes; any other one of the RFC
 * services is refused (UsageError), never ignored.
 * @example `serveFlags(serve) // { port: "0" } for sockit serve --port 0 smtp`
 */
export function serveFlags(serve: Command): Parameters<typeof planServeSmtp>[2] {
  const given = (name: string) => serve.getOptionValueSource(name) === "cli";
  const allowed = new Set(["host", "port", "maxConns", "maxPerSource", "idle"]);
  const out: Record<string, string> = {};
  for (const flag of serve.options) {
    const name = flag.attributeName();
    if (!given(name)) continue;
    if (!allowed.has(name))
      throw new UsageError(`${flag.long ?? flag.flags} is an option of the RFC services, not of serve smtp`);
    const v = serve.getOptionValue(name) as unknown;
    out[name] = Array.isArray(v) ? String(v.at(-1)) : String(v);
  }
  return out;
}

/** Adds `serve smtp` (under `serve`) and `mail send` to the program. */
export function register(program: Command, reg: CommandRegistry): void {
  const serve = program.commands.find((c) => c.name() === "serve");
  if (serve === undefined) throw new Error("register serve before mail");
  const srv = addGlobalOptions(serve.command("smtp"), { json: true })
    .description(
      `a development mail sink (SMTP, RFC 5321): stores every message, never relays; on ${DEFAULT_SMTP_ADDRESS} by default`,
    )
    .argument("[address]", `HOST:PORT to listen on (default ${DEFAULT_SMTP_ADDRESS}; port 0: any)`)
    .option("--maildir <dir>", "store messages in this Maildir (tmp/, new/, cur/; created); default: memory")
    .option("--http <port>", "serve a web page of the messages on 127.0.0.1:PORT (0: any)")
    .option("--max-message <bytes>", `largest message (SIZE; default ${SMTP_DEFAULTS.maxMessage})`)
    .option("--hostname <name>", "the name in the greeting (default: this machine's)")
    .option(
      "--starttls",
      "offer STARTTLS (RFC 3207); without --cert/--key: a fresh self-signed certificate, its fingerprint printed",
    )
    .option("--cert <file>", "with --starttls: the certificate chain (PEM)")
    .option("--key <file>", "with --starttls: its private key (PEM)")
    .addHelpText(
      "after",
      `
Each message stored prints one line on stdout: from, to, subject, size, id (--json: a JSON object).
serve's --host, --port N, --max-conns (default ${SMTP_DEFAULTS.maxConnections}), --max-per-source
(default ${SMTP_DEFAULTS.maxPerSource}) and --idle (seconds, default ${SMTP_DEFAULTS.idleMs / 1000}) apply too.
A Maildir message is written to tmp/ and renamed into new/ once complete: a client that
disconnects mid-message or a full disk leaves nothing there (the client gets 452 or 451).

Examples:
  sockit serve smtp                                   on ${DEFAULT_SMTP_ADDRESS}, messages in memory
  sockit serve smtp --maildir ./mail --http 8025      Maildir, and the web page on 127.0.0.1:8025
  sockit serve smtp --starttls --cert cert.pem --key key.pem    STARTTLS offered in EHLO
  sockit mail send --from a@example.org --to b@example.org --subject hi ${DEFAULT_SMTP_ADDRESS}`,
    );
  srv.action((address: string | undefined, opts: Record<string, string | undefined>) => {
    reg.choose(srv, (ctx) =>
      runServeSmtp(
        planServeSmtp(address, opts as Parameters<typeof planServeSmtp>[1], serveFlags(serve)),
        ctx,
      ),
    );
  });

  const mail = addGlobalOptions(program.command("mail"), { json: false }).description(
    "SMTP client: sockit mail send --from A --to B [--subject S] [FILE|-] HOST[:PORT]",
  );
  const send = addGlobalOptions(mail.command("send"), { json: false })
    .description(
      "send one message to the SMTP server at HOST[:PORT] (port 25 by default); -v shows the dialogue",
    )
    .argument(
      "<args...>",
      "[FILE|-] HOST[:PORT]: the message (a file, - for stdin; default: a short test message)",
    )
    .usage("--from A --to B [--to C…] [--subject S] [options] [FILE|-] HOST[:PORT]")
    .option("--from <address>", "the envelope sender (MAIL FROM); '' for the null sender")
    .option(
      "--to <address>",
      "a recipient (RCPT TO; repeatable)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option("--subject <text>", "the Subject (added when the input has no headers or no Subject)")
    .option("--helo <name>", "the name given in EHLO", "localhost")
    .option("-t, --timeout <seconds>", "give up when the server is silent this long: exit 4 (default 60)")
    .option("--starttls", "switch to TLS first (STARTTLS, RFC 3207); a server that does not offer it: exit 8")
    .option("--ca <file>", "with --starttls: also trust the CA certificate(s) in FILE (PEM)")
    .option("--insecure", "with --starttls: do NOT verify the server's certificate (prints a warning)")
    .addHelpText(
      "after",
      `
Input: a file or stdin holding a whole message (headers, a blank line, the body) is sent as it
is; any other text becomes the body of a plain-text message with From, To, Subject, Date and
Message-ID made from the options. Line endings become CRLF and lines starting with a dot are
dot-stuffed. The server's last reply is printed on stdout; any refusal exits 8.

Examples:
  sockit mail send --from a@example.org --to b@example.org --subject hi 127.0.0.1:2525
  echo "hello" | sockit -v mail send --from a@example.org --to b@example.org - localhost:2525
  sockit mail send --from a@example.org --to b@example.org message.eml mail.example.org
  sockit mail send --starttls --ca cert.pem --from a@example.org --to b@example.org localhost:2525`,
    );
  send.action((args: string[], opts: Record<string, unknown>) => {
    reg.choose(send, (ctx) =>
      runMailSend(planMailSend(args, opts as Parameters<typeof planMailSend>[1]), ctx),
    );
  });
}
