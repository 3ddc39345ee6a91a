/**
 * `sockit listen [HOST] PORT` (and `-U PATH`, `-u`): a netcat server. One client ↔ stdio by
 * default (exit when it is done, like `nc -l`), many with `-k`, or a mode: `--exec`,
 * `--sh-exec`, `--broker`, `--chat`. `--allow`/`--deny` filter peers by CIDR.
 *
 * @module
 */
import type { Command } from "commander";
import { formatHostPort } from "../../addr/address.js";
import { OSError } from "../../errors/index.js";
import { type Listener, listen, listenPacket, type Packet, type PacketConn } from "../../net/index.js";
import { argsOf, parseSeconds } from "../args.js";
import { AccessPolicy, parseCidr } from "../cidr.js";
import type { Context } from "../context.js";
import { UsageError } from "../exit.js";
import { addGlobalOptions } from "../globals.js";
import { serverTLS, type TLSFlags } from "../tls.js";
import { acceptLoop, DEFAULT_MAX_CLIENTS, unmapped } from "../listen/accept.js";
import { brokerMode } from "../listen/broker.js";
import { chatMode } from "../listen/chat.js";
import { execArgv, execMode } from "../listen/exec.js";
import type { ListenMode, ModeOptions } from "../listen/mode.js";
import { stdioMode } from "../listen/stdio.js";
import { checkFamily, parseHost, parsePort, parseUnixPath } from "../session/address.js";
import type { StdinReader } from "../session/stdin.js";
import { withStop } from "../session/stop.js";
import { packetEnd, runUdpSession } from "../session/udp.js";
import type { CommandRegistry } from "./registry.js";

/** How clients are served. */
export type ModeName = "stdio" | "exec" | "sh-exec" | "broker" | "chat";

/** What `listen` will do. */
export interface ListenPlan {
  readonly network: "tcp" | "tcp4" | "tcp6" | "unix" | "udp" | "udp4" | "udp6";
  /** `"[::]:8000"`, `"127.0.0.1:0"`, or a Unix path. */
  readonly address: string;
  /** No HOST and no -4/-6: try `[::]` (dual-stack), fall back to this IPv4 address. */
  readonly fallback: string | undefined;
  /** -6: IPv6 only (no IPv4-mapped clients). */
  readonly ipv6Only: boolean;
  /** PORT was 0: always print the real port on stderr. */
  readonly portZero: boolean;
  /** Serve many clients (-k, --broker, --chat). */
  readonly keep: boolean;
  /** With keep: at most this many at a time (-m). */
  readonly max: number;
  readonly policy: AccessPolicy;
  /** -u: who gets stdin (all: the last sender; first: only the first peer is heard). */
  readonly udpPeers: "first" | "all";
  readonly crlf: boolean;
  readonly idleMs: number | undefined;
  readonly shutdown: boolean;
  /** `--progress` / `--no-progress` (stdio mode, one client; undefined: when stderr is a terminal). */
  readonly progress?: boolean | undefined;
  readonly mode: ModeName;
  readonly modeOptions: ModeOptions;
  /** `--tls`, `--cert`, `--key` (read when the command runs). */
  readonly tlsFlags?: TLSFlags | undefined;
}

/** The flags of `listen` as commander parses them. */
export interface ListenFlags {
  readonly keepOpen?: boolean;
  readonly maxClients?: string;
  readonly allow?: string[];
  readonly deny?: string[];
  readonly udp?: boolean;
  readonly udpPeers?: string;
  readonly unix?: boolean;
  readonly "4"?: boolean;
  readonly "6"?: boolean;
  readonly crlf?: boolean;
  readonly idle?: string;
  readonly shutdown?: boolean;
  readonly progress?: boolean;
  readonly exec?: string;
  readonly shExec?: string;
  readonly broker?: boolean;
  readonly chat?: boolean;
  readonly sendQueue?: string;
  readonly tls?: boolean;
  readonly cert?: string;
  readonly key?: string;
}

function modeOf(f: ListenFlags): ModeName {
  const chosen: ModeName[] = [];
  if (f.exec !== undefined) chosen.push("exec");
  if (f.shExec !== undefined) chosen.push("sh-exec");
  if (f.broker) chosen.push("broker");
  if (f.chat) chosen.push("chat");
  if (chosen.length > 1) throw new UsageError(`choose one of --${chosen.join(", --")}`);
  if ((f.exec !== undefined && f.exec.trim() === "") || (f.shExec !== undefined && f.shExec.trim() === "")) {
    throw new UsageError("--exec/--sh-exec need a command");
  }
  return chosen[0] ?? "stdio";
}

/**
 * Turns the arguments into a plan (pure; throws UsageError).
 * @example `planListen(["8000"], { keepOpen: true, maxClients: "5" })`
 */
export function planListen(args: readonly string[], f: ListenFlags): ListenPlan {
  const v4 = f["4"] === true;
  const v6 = f["6"] === true;
  const mode = modeOf(f);
  const keep = f.keepOpen === true || mode === "broker" || mode === "chat";
  const allow = (f.allow ?? []).map(parseCidr);
  const deny = (f.deny ?? []).map(parseCidr);
  let max = DEFAULT_MAX_CLIENTS;
  if (f.maxClients !== undefined) {
    if (!/^\d+$/.test(f.maxClients) || Number(f.maxClients) < 1 || Number(f.maxClients) > 65535)
      throw new UsageError(`-m needs a number of clients 1..65535, got ${JSON.stringify(f.maxClients)}`);
    if (!keep) throw new UsageError("-m limits concurrent clients: use it with -k, --broker or --chat");
    max = Number(f.maxClients);
  }
  if (f.udpPeers !== undefined && !f.udp) throw new UsageError("--udp-peers applies to -u");
  const idleMs = f.idle === undefined ? undefined : parseSeconds("-i", f.idle);
  if (mode !== "stdio") {
    if (f.udp) throw new UsageError(`--${mode} serves stream clients; it does not work with -u`);
    if (idleMs !== undefined) throw new UsageError("-i applies to the default stdio mode and to -u");
    if (f.shutdown === false) throw new UsageError("--no-shutdown applies to the default stdio mode");
  }
  if (f.progress === true && (mode !== "stdio" || keep || f.udp))
    throw new UsageError("--progress applies to the default stdio mode with one TCP or Unix client");
  // a bad --exec command is a usage error before anything is bound
  if (mode === "exec" || mode === "sh-exec") execArgv({ exec: f.exec, shExec: f.shExec });
  let sendQueueBytes: number | undefined;
  if (f.sendQueue !== undefined) {
    if (mode !== "broker" && mode !== "chat")
      throw new UsageError("--send-queue applies to --broker and --chat");
    if (!/^\d+$/.test(f.sendQueue) || Number(f.sendQueue) < 1024 || Number(f.sendQueue) > 2 ** 30) {
      throw new UsageError(
        `--send-queue needs a byte count 1024..${2 ** 30}, got ${JSON.stringify(f.sendQueue)}`,
      );
    }
    sendQueueBytes = Number(f.sendQueue);
  }
  const modeOptions: ModeOptions = {
    ...(sendQueueBytes !== undefined ? { sendQueueBytes } : {}),
    ...(f.exec !== undefined ? { exec: f.exec } : {}),
    ...(f.shExec !== undefined ? { shExec: f.shExec } : {}),
    ...(mode === "broker" ? { broker: true } : {}),
    ...(mode === "chat" ? { chat: true } : {}),
    ...(f.crlf ? { crlf: true } : {}),
  };
  const common = {
    keep,
    max,
    policy: new AccessPolicy(allow, deny),
    udpPeers: (f.udpPeers ?? "all") as "first" | "all",
    crlf: f.crlf === true,
    idleMs,
    shutdown: f.shutdown !== false,
    ...(f.progress === undefined ? {} : { progress: f.progress }),
    mode,
    modeOptions,
    ...(f.tls === true || f.cert !== undefined || f.key !== undefined
      ? { tlsFlags: { tls: f.tls === true, cert: f.cert, key: f.key } as TLSFlags }
      : {}),
  };
  if (f.udp === true && common.tlsFlags !== undefined) throw new UsageError("--tls needs TCP (no -u)");
  if (f.udpPeers !== undefined && f.udpPeers !== "first" && f.udpPeers !== "all")
    throw new UsageError(`--udp-peers must be first or all, got ${f.udpPeers}`);
  if (f.unix) {
    if (args.length !== 1) throw new UsageError("with -U give one PATH: sockit listen -U /tmp/s.sock");
    if (f.udp) throw new UsageError("-U and -u exclude each other (Node has no Unix datagram sockets)");
    if (v4 || v6) throw new UsageError("-4/-6 do not apply to a Unix socket (-U)");
    if (allow.length + deny.length > 0) throw new UsageError("--allow/--deny need IP clients, not -U");
    const base = { fallback: undefined, ipv6Only: false, portZero: false };
    return { network: "unix", address: parseUnixPath(args[0]!), ...base, ...common };
  }
  if (args.length < 1 || args.length > 2) throw new UsageError("give [HOST] PORT: sockit listen 8000");
  const port = parsePort(args[args.length - 1]!, true);
  const portZero = port === 0;
  const base = f.udp ? "udp" : "tcp";
  if (args.length === 2) {
    const host = parseHost(args[0]!);
    checkFamily(host, v4, v6);
    const network = (v4 ? `${base}4` : v6 ? `${base}6` : base) as ListenPlan["network"];
    const address = formatHostPort(host, port);
    return { network, address, fallback: undefined, ipv6Only: v6, portZero, ...common };
  }
  if (v4 && v6) throw new UsageError("-4 and -6 exclude each other");
  if (v4) {
    const address = formatHostPort("0.0.0.0", port);
    return { network: `${base}4`, address, fallback: undefined, ipv6Only: false, portZero, ...common };
  }
  const address = formatHostPort("::", port);
  if (v6) return { network: `${base}6`, address, fallback: undefined, ipv6Only: true, portZero, ...common };
  return {
    network: base,
    address,
    fallback: formatHostPort("0.0.0.0", port),
    ipv6Only: false,
    portZero,
    ...common,
  };
}

const NO_IPV6 = new Set(["EAFNOSUPPORT", "EADDRNOTAVAIL", "EPROTONOSUPPORT"]);

/** Binds the plan's address; without HOST, falls back to IPv4 when IPv6 is unavailable. */
async function bindPlan<T>(
  plan: ListenPlan,
  open: (network: string, address: string) => Promise<T>,
): Promise<T> {
  try {
    return await open(plan.network, plan.address);
  } catch (err) {
    if (plan.fallback === undefined || !(err instanceof OSError) || !NO_IPV6.has(err.code)) throw err;
    return open(`${plan.network}4`, plan.fallback);
  }
}

function announce(plan: ListenPlan, where: string, ctx: Context): void {
  if (plan.portZero) ctx.err(`sockit: listening on ${where}\n`);
  else ctx.info(`listening on ${where}`);
}

function makeMode(plan: ListenPlan, ctx: Context, signal: AbortSignal, stdin: StdinReader): ListenMode {
  switch (plan.mode) {
    case "exec":
    case "sh-exec":
      return execMode(plan.modeOptions, ctx);
    case "broker":
      return brokerMode(plan.modeOptions, ctx);
    case "chat":
      return chatMode(plan.modeOptions, ctx);
    default:
      return stdioMode(
        {
          ...plan.modeOptions,
          keep: plan.keep,
          shutdown: plan.shutdown,
          idleMs: plan.idleMs,
          progress: plan.progress,
          signal,
          stdin,
        },
        ctx,
      );
  }
}

/** Listens and serves until done; resolves the exit code. */
export function runListen(plan: ListenPlan, ctx: Context): Promise<number> {
  return withStop(ctx, async (signal, stdin) => {
    if (plan.network.startsWith("udp")) return runUdp(plan, ctx, stdin, signal);
    const tls = plan.tlsFlags === undefined ? undefined : serverTLS(plan.tlsFlags, ctx);
    const ln = await bindPlan<Listener>(plan, (n, a) =>
      listen(n as "tcp", a, { ipv6Only: plan.ipv6Only, signal, ...(tls === undefined ? {} : { tls }) }),
    );
    announce(plan, ln.address, ctx);
    const mode = makeMode(plan, ctx, signal, stdin);
    await acceptLoop(ln, mode, ctx, {
      keep: plan.keep,
      max: plan.max,
      policy: plan.policy,
      signal,
    });
    return 0;
  });
}

/** UDP: print datagrams from peers; stdin goes to the last sender (or the first, locked). */
async function runUdp(
  plan: ListenPlan,
  ctx: Context,
  stdin: StdinReader,
  signal: AbortSignal,
): Promise<number> {
  const pc = await bindPlan<PacketConn>(plan, (n, a) =>
    listenPacket(n as "udp", a, { ipv6Only: plan.ipv6Only, signal }),
  );
  announce(plan, pc.localAddress, ctx);
  let peer: string | undefined;
  let first: string | undefined;
  const admit = (p: Packet): boolean => {
    const address = unmapped(p.endpoint.address);
    const text = formatHostPort(address, p.endpoint.port);
    const verdict = plan.policy.check(address);
    if (!verdict.ok) {
      ctx.info(`ignoring a datagram from ${text} (${verdict.why})`);
      return false;
    }
    first ??= text;
    if (plan.udpPeers === "first" && text !== first) {
      ctx.info(`ignoring a datagram from ${text} (--udp-peers first: talking to ${first})`);
      return false;
    }
    if (peer !== text) ctx.info(`datagram from ${text}; stdin goes there now`);
    peer = text;
    return true;
  };
  await runUdpSession(stdin, pc, packetEnd(pc, pc.localAddress, false, { admit, waitForPeer: true }), ctx, {
    crlf: plan.crlf,
    idleMs: plan.idleMs,
    signal,
    what: pc.localAddress,
    events: {
      eof: (dir) => {
        if (dir === 0) ctx.info("stdin EOF: nothing more to send; still printing datagrams (Ctrl-C ends)");
      },
    },
  });
  return 0;
}

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

/** Adds `listen` to the program. */
export function register(program: Command, reg: CommandRegistry): void {
  const cmd = addGlobalOptions(program.command("listen"))
    .description("accept a client on [HOST] PORT (or a Unix PATH): client <-> stdin/stdout")
    .argument("[host]", "address to listen on (default: all, IPv6 and IPv4); a socket path with -U")
    .argument("[port]", "port number or service name (0: any free port, printed on stderr)")
    .option("-k, --keep-open", "serve many clients at once (stdin goes to all of them)")
    .option("-m, --max-clients <n>", `with -k: at most N clients at a time (default ${DEFAULT_MAX_CLIENTS})`)
    .option("--allow <cidr>", "accept only peers in CIDR (repeatable)", collect)
    .option("--deny <cidr>", "refuse peers in CIDR (repeatable; deny wins)", collect)
    .option("-u, --udp", "UDP: print datagrams, send stdin to the last sender")
    .option("--udp-peers <first|all>", "with -u: hear every peer (all) or only the first one (first)")
    .option("-U, --unix", "listen on the Unix socket PATH")
    .option("-4", "IPv4 only")
    .option("-6", "IPv6 only")
    .option("--crlf", "send line endings as CRLF")
    .option("-i, --idle <secs>", "a client idle for SECS is closed (one client: exit 4)")
    .option("--no-shutdown", "do not half-close (SHUT_WR) the client at stdin EOF")
    .option(
      "--progress",
      "one client: a progress bar on stderr (default when stderr is a terminal, after ~1 s)",
    )
    .option("--no-progress", "no progress bar")
    .option("--exec <cmd>", "run CMD for each client, its stdin/stdout connected to the client")
    .option("--sh-exec <cmd>", "run /bin/sh -c CMD for each client")
    .option(
      "--tls",
      "speak TLS (without --cert/--key: a fresh self-signed certificate, its fingerprint printed)",
    )
    .option("--cert <file>", "with --tls: the certificate chain (PEM)")
    .option("--key <file>", "with --tls: its private key (PEM)")
    .option("--broker", "relay every client's bytes to all other clients (implies -k)")
    .option(
      "--chat",
      "a chat for nc users: the serve chat hub's plain mode, nicknames and rooms (implies -k)",
    )
    .option(
      "--send-queue <bytes>",
      "with --broker/--chat: bytes queued per client before a client that does not read is dropped (default 1048576)",
    )
    .addHelpText(
      "after",
      `
One client by default: sockit exits when it is done (both directions closed), like nc -l.
With PORT 0 the real address is always printed on stderr: "sockit: listening on [::]:41234".

Examples:
  sockit listen 8000 > upload.bin             receive one file
  sockit listen -v 127.0.0.1 8000             loopback only, report connections
  sockit listen -k -m 10 8000                 up to 10 clients; stdin goes to all
  sockit listen --allow 10.0.0.0/8 --deny 10.0.0.66 8000
  sockit listen -u 5353                       print datagrams; stdin answers the last sender
  sockit listen -U /tmp/app.sock              a Unix socket
  sockit listen --tls --cert cert.pem --key key.pem 8443   TLS
  sockit listen -k --sh-exec 'date' 8013      a daytime server
  sockit listen --chat 6667                   a chat room for nc users`,
    );
  cmd.action((host: string | undefined, port: string | undefined, flags: ListenFlags) => {
    reg.choose(cmd, (ctx) => runListen(planListen(argsOf(host, port), flags), ctx));
  });
}
