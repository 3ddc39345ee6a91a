/**
 * Chat from the command line: `sockit serve chat` (an IRC server that also welcomes people at
 * `nc`, on 127.0.0.1:6667 by default) and `sockit chat` (a terminal IRC client, chat-client.ts).
 *
 * @module
 */
import { readFile, stat } from "node:fs/promises";
import type { Command } from "commander";
import {
  type ChatLimits,
  type ChatServerOptions,
  DEFAULT_CHAT_LIMITS,
  DEFAULT_CHAT_PORT,
  ChatHub,
  joinRedisNetwork,
  type RedisNetwork,
  redisTarget,
  serveChat,
} from "../../services/chat/index.js";
import { OSError } from "../../errors/index.js";
import type { Context } from "../context.js";
import { EXIT, UsageError } from "../exit.js";
import { addGlobalOptions } from "../globals.js";
import { planChatClient, runChatClient } from "./chat-client.js";
import { parsePortNumber } from "../session/address.js";
import { waitForStop } from "../session/stop.js";
import { serverTLS, type TLSFlags } from "../tls.js";
import type { CommandRegistry } from "./registry.js";

/** Largest --motd file. */
const MAX_MOTD_BYTES = 16 * 1024;

/** `serve chat`'s limit flags: flag → limit, unit factor (seconds → ms), help. */
const CHAT_LIMIT_FLAGS: ReadonlyArray<{
  readonly flag: string;
  readonly key: keyof ChatLimits;
  readonly scale: number;
  readonly help: string;
}> = [
  { flag: "max-clients", key: "maxClients", scale: 1, help: "connections at once" },
  { flag: "max-per-source", key: "maxPerSource", scale: 1, help: "connections at once from one address" },
  {
    flag: "sendq",
    key: "sendQueueBytes",
    scale: 1,
    help: "bytes queued for one client before it is dropped",
  },
  { flag: "flood-rate", key: "floodRate", scale: 1, help: "lines per second one client may send" },
  { flag: "flood-burst", key: "floodBurst", scale: 1, help: "lines one client may send at once" },
  { flag: "flood-pending", key: "floodMaxPending", scale: 1, help: "lines held back before Excess Flood" },
  {
    flag: "register-timeout",
    key: "registrationMs",
    scale: 1000,
    help: "seconds an IRC client has to register",
  },
  { flag: "ping", key: "pingMs", scale: 1000, help: "seconds of silence before the server sends PING" },
  {
    flag: "ping-timeout",
    key: "pongMs",
    scale: 1000,
    help: "seconds after that PING before the client is dropped",
  },
  { flag: "grace", key: "graceMs", scale: 1000, help: "seconds clients get to read the goodbye at shutdown" },
];

/** What `serve chat` will do. */
export interface ServeChatPlan {
  readonly host: string;
  readonly port: number;
  readonly motdFile: string | undefined;
  readonly password: string | undefined;
  readonly history: number;
  readonly limits: ChatLimits;
  /** `--redis`: the Redis that joins this server to the others using it. */
  readonly redis: string | undefined;
  /** `--tls`, `--cert`, `--key` (the files are read when the command runs). */
  readonly tlsFlags: TLSFlags | undefined;
}

/** The port of `serve chat --tls` when no --port is given (IRC over TLS, RFC 7194). */
export const DEFAULT_CHAT_TLS_PORT = 6697;

const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * `serve chat`'s arguments as a plan (pure; throws UsageError).
 * @example `planServeChat({}).port // 6667`
 */
export function planServeChat(o: Record<string, unknown>): ServeChatPlan {
  const host = typeof o.host === "string" ? o.host : "127.0.0.1";
  if (host === "") throw new UsageError("--host is empty");
  const tls = o.tls === true;
  if (!tls && (o.cert !== undefined || o.key !== undefined))
    throw new UsageError("--cert and --key need --tls");
  const port =
    o.port === undefined
      ? tls
        ? DEFAULT_CHAT_TLS_PORT
        : DEFAULT_CHAT_PORT
      : parsePortNumber(String(o.port), true, "--port");
  const limits: Record<string, number> = { ...DEFAULT_CHAT_LIMITS };
  for (const f of CHAT_LIMIT_FLAGS) {
    const v = o[camel(f.flag)];
    if (v === undefined) continue;
    const text = String(v);
    const n = Number(text);
    const ok =
      f.scale === 1
        ? /^\d+$/.test(text) && n >= 1
        : /^\d+(\.\d+)?$/.test(text) && (n > 0 || f.key === "graceMs");
    if (!ok || n > 2 ** 40)
      throw new UsageError(
        `--${f.flag} must be ${f.scale === 1 ? "an integer ≥ 1" : "a number of seconds"}, got ${text}`,
      );
    limits[f.key] = Math.round(n * f.scale);
  }
  let history = 0;
  if (o.history !== undefined) {
    const t = String(o.history);
    if (!/^\d+$/.test(t) || Number(t) > 10_000)
      throw new UsageError(`--history must be an integer 0..10000, got ${t}`);
    history = Number(t);
  }
  return {
    host,
    port,
    motdFile: typeof o.motd === "string" ? o.motd : undefined,
    password: typeof o.password === "string" ? o.password : undefined,
    history,
    limits: limits as unknown as ChatLimits,
    redis: typeof o.redis === "string" ? checkRedis(o.redis) : undefined,
    tlsFlags: tls ? ({ tls: true, cert: o.cert, key: o.key } as TLSFlags) : undefined,
  };
}

function checkRedis(url: string): string {
  try {
    redisTarget(url);
  } catch {
    throw new UsageError(`--redis must be redis://HOST:PORT, unix:/PATH or redis+unix:///PATH, got ${url}`);
  }
  return url;
}

/**
 * Flags after `serve chat` that `serve` itself also has (`--host`, `--port`, `--max-per-source`,
 * `--grace`) are taken by `serve` (commander hands them to the parent): read them there.
 * `serve`'s other flags mean nothing here and are refused.
 */
function parentOptions(serve: Command, chat: Command): Record<string, unknown> {
  const given = (name: string) => serve.getOptionValueSource(name) === "cli";
  const ours = new Set(chat.options.map((o) => o.attributeName()));
  const out: Record<string, unknown> = {};
  for (const flag of serve.options) {
    const name = flag.attributeName();
    if (!given(name)) continue;
    if (!ours.has(name))
      throw new UsageError(`${flag.long ?? flag.flags} is an option of the RFC services, not of serve chat`);
    const v = serve.getOptionValue(name) as unknown;
    out[name] = Array.isArray(v) ? v.at(-1) : v;
  }
  if (out.port !== undefined && !/^\d+$/.test(String(out.port)))
    throw new UsageError(`--port for serve chat must be a port number (0: any), got ${String(out.port)}`);
  return out;
}

async function loadMotd(file: string): Promise<string[]> {
  try {
    const st = await stat(file);
    if (st.size > MAX_MOTD_BYTES) throw new Error(`larger than ${MAX_MOTD_BYTES} bytes`);
    const text = (await readFile(file)).toString("latin1");
    return text.replace(/\r?\n$/, "").split(/\r?\n/);
  } catch (err) {
    throw new UsageError(`--motd ${file}: ${(err as Error).message}`);
  }
}

/** Serves chat until SIGINT/SIGTERM (or `stop`), then tells every client and closes; resolves 0. */
export async function runServeChat(plan: ServeChatPlan, ctx: Context, stop?: AbortSignal): Promise<number> {
  const motd = plan.motdFile === undefined ? undefined : await loadMotd(plan.motdFile);
  let net: RedisNetwork | undefined;
  const hub = plan.redis === undefined ? undefined : new ChatHub({ history: plan.history });
  if (hub !== undefined && plan.redis !== undefined) net = await joinRedisNetwork(hub, { url: plan.redis });
  // without --cert/--key: a fresh self-signed certificate, its fingerprint on stderr
  const tls = plan.tlsFlags === undefined ? undefined : serverTLS(plan.tlsFlags, ctx);
  const opts: ChatServerOptions = {
    ...(hub ? { hub } : {}),
    ...(tls === undefined ? {} : { tls }),
    host: plan.host,
    port: plan.port,
    history: plan.history,
    limits: plan.limits,
    ...(motd ? { motd } : {}),
    ...(plan.password === undefined ? {} : { password: plan.password }),
    onEvent: (e) =>
      ctx.info(`${e.type} ${e.peer}${e.nick ? ` (${e.nick})` : ""}${e.reason ? `: ${e.reason}` : ""}`),
  };
  const server = await serveChat(opts).catch(async (err: unknown) => {
    await net?.close();
    if (err instanceof OSError && err.code === "EADDRINUSE") {
      const Ctor = err.constructor as new (code: string, d: object) => OSError;
      throw new Ctor(err.code, {
        op: err.op ?? "bind",
        ...(err.address === undefined ? {} : { address: err.address }),
        hint: "another program (another IRC server?) has that port; choose another with --port N (0: any free port)",
        cause: err,
      });
    }
    throw err;
  });
  if (net) ctx.err(`sockit: one node of the chat network on ${plan.redis ?? ""} (node ${net.node})\n`);
  const { stopped, dispose } = waitForStop(stop);
  const [h, p] = [plan.host, server.port];
  const tryIt = [
    `sockit chat ${server.address} --nick NAME`,
    `nc ${h} ${p}  (type /nick NAME)`,
    `irssi -c ${h} -p ${p}`,
  ];
  if (ctx.opts.json)
    ctx.io.stdout.write(
      `${JSON.stringify({ listening: server.address, port: p, tls: tls !== undefined, limits: server.limits, try: tryIt })}\n`,
    );
  else
    ctx.io.stdout.write(
      `chat (IRC and plain text) on ${server.address}\n` +
        `try it from another terminal:  ${tryIt.join("\n                           or: ")}\n`,
    );
  ctx.err("sockit: serving chat; Ctrl-C stops\n");
  const sig = await stopped;
  dispose();
  ctx.err(
    `sockit: ${sig === "stop" ? "stopping" : `${sig}: shutting down`}; telling ${server.clients} clients\n`,
  );
  await server.close();
  await net?.close();
  return EXIT.OK;
}

/** Adds `serve chat` (under `serve`) and `chat` (the client) to the program. */
export function register(program: Command, reg: CommandRegistry): void {
  const serve = program.commands.find((c) => c.name() === "serve");
  if (serve === undefined) throw new Error("register serve before chat");
  const srv = addGlobalOptions(serve.command("chat"), { json: true })
    .description(
      `an IRC server (RFC 1459/2812 subset) that also welcomes people typing into nc, in the same rooms; on 127.0.0.1:${DEFAULT_CHAT_PORT} by default`,
    )
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option(
      "--port <n>",
      `port (default ${DEFAULT_CHAT_PORT}, with --tls ${DEFAULT_CHAT_TLS_PORT}; 0: any free port)`,
    )
    .option("--tls", "TLS (without --cert/--key: a fresh self-signed certificate, its fingerprint printed)")
    .option("--cert <file>", "with --tls: the certificate chain (PEM)")
    .option("--key <file>", "with --tls: its private key (PEM)")
    .option("--motd <file>", "message of the day, sent after registration")
    .option("--password <text>", "IRC clients must send it with PASS")
    .option("--history <n>", "messages per room replayed to plain users who join (default 0)")
    .option(
      "--redis <url>",
      "join the servers using this Redis into one network (redis://HOST:PORT, unix:/PATH)",
    );
  for (const f of CHAT_LIMIT_FLAGS) {
    const d = DEFAULT_CHAT_LIMITS[f.key] / f.scale;
    srv.option(`--${f.flag} <${f.scale === 1 ? "n" : "seconds"}>`, `${f.help} (default ${d})`);
  }
  srv.addHelpText(
    "after",
    `
IRC clients (irssi, WeeChat, any IRC library) register with NICK/USER; a client whose first
line is anything else is a plain user: it gets a guest name and #lobby, and /nick NAME,
/join #room, /who, /me, /msg NICK text, /quit. Both see each other in the same rooms.

Examples:
  sockit serve chat                          on 127.0.0.1:${DEFAULT_CHAT_PORT}
  sockit serve chat --port 0 --json          any free port; where as JSON
  sockit serve chat --history 20 --motd motd.txt
  sockit serve chat --redis redis://127.0.0.1:6379   one node of a network; start more the same way
  sockit serve chat --tls --cert cert.pem --key key.pem    TLS on 127.0.0.1:${DEFAULT_CHAT_TLS_PORT}
  then:  nc 127.0.0.1 ${DEFAULT_CHAT_PORT}     or: sockit chat 127.0.0.1 --nick alice`,
  );
  srv.action((opts: Record<string, unknown>) => {
    reg.choose(srv, (ctx) => runServeChat(planServeChat({ ...opts, ...parentOptions(serve, srv) }), ctx));
  });

  const cli = addGlobalOptions(program.command("chat"))
    .description("a terminal IRC client: sockit chat HOST[:PORT] --nick NAME [--join #room]")
    .argument("<address>", `HOST[:PORT] of an IRC server (default port ${DEFAULT_CHAT_PORT})`)
    .requiredOption("--nick <name>", "your nickname")
    .option(
      "--join <room>",
      "a room to join once connected (repeatable, or #a,#b)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option("--password <text>", "the server's password (PASS)")
    .option("--no-reconnect", "exit (code 5) when the connection is lost instead of reconnecting")
    .option("--tls", `TLS (default port then ${DEFAULT_CHAT_TLS_PORT}); the server's certificate is verified`)
    .option("--ca <file>", "with --tls: also trust the CA certificate(s) in FILE (PEM)")
    .option("--insecure", "with --tls: do NOT verify the server's certificate (prints a warning)")
    .addHelpText(
      "after",
      `
Type a line to say it in the current room (the last joined). Commands: /join #room, /part [#room],
/msg NICK text, /me text, /names [#room], /topic [text], /nick NAME, /quote RAW LINE, /quit [message];
//text says /text. Nicknames are coloured unless NO_COLOR is set, --color never, or stdout is not a
terminal; control bytes from others are shown as \\xNN. A lost connection is retried after 1, 2, 4 …
30 s and the rooms are joined again. End of input (Ctrl-D) quits.

Examples:
  sockit chat 127.0.0.1 --nick alice --join '#lobby'       against sockit serve chat
  sockit chat irc.example.net:6667 --nick alice --join '#sockit'`,
    );
  cli.action((address: string, opts: Parameters<typeof planChatClient>[1]) => {
    reg.choose(cli, (ctx) => runChatClient(planChatClient(address, opts), ctx));
  });
}
