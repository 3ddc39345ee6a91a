/**
 * `sockit connect HOST PORT` (and `-U PATH`, `-u`): a netcat client. stdin → socket,
 * socket → stdout; stdin EOF half-closes (SHUT_WR) and the reply is still printed.
 *
 * @module
 */
import type { Command } from "commander";
import { formatHostPort } from "../../addr/address.js";
import { TimeoutError } from "../../errors/index.js";
import { type Conn, type DialOptions, dial } from "../../net/index.js";
import { argsOf, parseSeconds } from "../args.js";
import { resolveWithin, setupLimit, setupTimeoutError, sourceError } from "../connect/setup.js";
import type { Context } from "../context.js";
import { UsageError } from "../exit.js";
import { addGlobalOptions } from "../globals.js";
import { clientTLS, describeTLS, type TLSFlags } from "../tls.js";
import { addressError, checkFamily, parseHost, parsePort, parseUnixPath, shown } from "../session/address.js";
import type { StdinReader } from "../session/stdin.js";
import { runSession } from "../session/stdio.js";
import { withStop } from "../session/stop.js";
import { packetEnd, runUdpSession } from "../session/udp.js";
import type { CommandRegistry } from "./registry.js";

/** Stream networks and datagram networks, as `dial` names them. */
export type Network = "tcp" | "tcp4" | "tcp6" | "unix" | "udp" | "udp4" | "udp6";

/** What `connect` will do. */
export interface ConnectPlan {
  readonly network: Network;
  /** `"127.0.0.1:80"`, `"[::1]:80"`, `"example.test:http"` or a Unix path. */
  readonly address: string;
  /** `-s` / `-p`: where to connect from. */
  readonly source: { readonly address?: string; readonly port?: number } | undefined;
  /**
   * `-w`: set-up (name lookup + connect) must finish within this many ms (exit 4); after stdin
   * EOF, the peer may stay silent this long before sockit closes (exit 0).
   */
  readonly connectTimeoutMs: number | undefined;
  /** `-i`: give up after this many ms without data either way, set-up included (exit 4). */
  readonly idleMs: number | undefined;
  /** `-q`: after stdin EOF wait at most this many ms (UDP without `-w`: default 1000). */
  readonly lingerMs: number | undefined;
  /** `--crlf`. */
  readonly crlf: boolean;
  /** Half-close at stdin EOF (`--no-shutdown` → false). */
  readonly shutdown: boolean;
  /** `--progress` / `--no-progress` (undefined: a bar when stderr is a terminal). */
  readonly progress?: boolean | undefined;
  /** `--tls`, `--ca`, `--servername`, `--insecure` (read when the command runs). */
  readonly tlsFlags?: TLSFlags | undefined;
}

/** The flags of `connect` as commander parses them. */
export interface ConnectFlags {
  readonly udp?: boolean;
  readonly unix?: boolean;
  readonly "4"?: boolean;
  readonly "6"?: boolean;
  readonly source?: string;
  readonly sourcePort?: string;
  readonly wait?: string;
  readonly idle?: string;
  readonly linger?: string;
  readonly crlf?: boolean;
  readonly shutdown?: boolean;
  readonly progress?: boolean;
  readonly tls?: boolean;
  readonly ca?: string;
  readonly servername?: string;
  readonly insecure?: boolean;
}

/** Without `-q`, UDP waits this long after stdin EOF for replies. */
export const UDP_DEFAULT_LINGER_MS = 1000;

/**
 * Turns the arguments into a plan (pure; throws UsageError).
 * @example `planConnect(["127.0.0.1", "80"], { crlf: true })`
 */
export function planConnect(args: readonly string[], f: ConnectFlags): ConnectPlan {
  const v4 = f["4"] === true;
  const v6 = f["6"] === true;
  const common = {
    connectTimeoutMs: f.wait === undefined ? undefined : parseSeconds("-w", f.wait),
    idleMs: f.idle === undefined ? undefined : parseSeconds("-i", f.idle),
    crlf: f.crlf === true,
    shutdown: f.shutdown !== false,
    ...(f.progress === undefined ? {} : { progress: f.progress }),
    ...(f.tls === true || f.ca !== undefined || f.servername !== undefined || f.insecure === true
      ? {
          tlsFlags: {
            tls: f.tls === true,
            ca: f.ca,
            servername: f.servername,
            insecure: f.insecure,
          } as TLSFlags,
        }
      : {}),
  };
  if (f.udp === true && common.tlsFlags !== undefined) throw new UsageError("--tls needs TCP (no -u)");
  const linger = f.linger === undefined ? undefined : parseSeconds("-q", f.linger, true);
  if (f.unix) {
    if (args.length !== 1) throw new UsageError("with -U give one PATH: sockit connect -U /tmp/s.sock");
    if (f.udp) throw new UsageError("-U and -u exclude each other (Node has no Unix datagram sockets)");
    if (v4 || v6) throw new UsageError("-4/-6 do not apply to a Unix socket (-U)");
    if (f.source !== undefined || f.sourcePort !== undefined)
      throw new UsageError("-s/-p do not apply to a Unix socket (-U)");
    const path = parseUnixPath(args[0]!);
    return { network: "unix", address: path, source: undefined, lingerMs: linger, ...common };
  }
  if (args.length !== 2) throw new UsageError("give HOST and PORT: sockit connect example.test 80");
  const host = parseHost(args[0]!);
  checkFamily(host, v4, v6);
  const port = parsePort(args[1]!);
  let source: { address?: string; port?: number } | undefined;
  if (f.source !== undefined || f.sourcePort !== undefined) {
    source = {};
    if (f.source !== undefined) {
      source.address = parseHost(f.source, "-s ADDR");
      checkFamily(source.address, v4, v6);
    }
    if (f.sourcePort !== undefined) {
      const p = parsePort(f.sourcePort, false, "-p PORT");
      if (typeof p !== "number") {
        throw addressError(
          "-p PORT",
          "a port number",
          shown(f.sourcePort),
          "-p needs a port number, not a service name",
        );
      }
      source.port = p;
    }
  }
  const base = f.udp ? "udp" : "tcp";
  const network = (v4 ? `${base}4` : v6 ? `${base}6` : base) as Network;
  // UDP has no EOF: without -q it waits 1 s after stdin EOF, or with -w until SECS of silence
  const lingerMs = linger ?? (f.udp && f.wait === undefined ? UDP_DEFAULT_LINGER_MS : undefined);
  return { network, address: formatHostPort(host, port), source, lingerMs, ...common };
}

/** Connects and moves bytes until done; resolves the exit code. */
export function runConnect(plan: ConnectPlan, ctx: Context): Promise<number> {
  return withStop(ctx, async (signal, stdin) => {
    if (plan.network.startsWith("udp")) return runUdp(plan, ctx, stdin, signal);
    const opts: { -readonly [K in keyof DialOptions]: DialOptions[K] } = { signal };
    const tls = plan.tlsFlags === undefined ? undefined : clientTLS(plan.tlsFlags, ctx);
    if (tls !== undefined) opts.tls = tls;
    if (plan.source?.address !== undefined) opts.localAddress = plan.source.address;
    if (plan.source?.port !== undefined) opts.localPort = plan.source.port;
    const limit = setupLimit(plan);
    let conn: Conn;
    try {
      // dial resolves the name and tries each address (IPv6 first, RFC 8305), all within -w/-i
      if (limit !== undefined) opts.timeout = limit.ms;
      try {
        conn = await dial(plan.network as "tcp", plan.address, opts);
      } catch (err) {
        // the set-up limit ended it (the trace shows ETIMEDOUT): say which flag
        if (limit !== undefined && err instanceof TimeoutError) throw setupTimeoutError(limit, plan.address);
        throw sourceError(err, plan.source, plan.address);
      }
    } catch (err) {
      if (signal.aborted) return 0;
      throw err;
    }
    const unix = plan.network === "unix";
    if (conn.tls !== undefined) ctx.info(describeTLS(conn.tls));
    ctx.info(
      `connected to ${conn.remoteAddress || plan.address} from ${conn.localAddress || (unix ? "an unnamed unix socket" : "(unnamed)")}`,
    );
    await runSession(conn, stdin, ctx, {
      shutdown: plan.shutdown,
      lingerMs: plan.lingerMs,
      idleMs: plan.idleMs,
      finalReadMs: plan.connectTimeoutMs,
      crlf: plan.crlf,
      signal,
      dump: ctx.dumper(),
      progress: plan.progress,
    });
    return 0;
  });
}

/** UDP: each stdin read is one datagram; received datagrams go to stdout. */
async function runUdp(
  plan: ConnectPlan,
  ctx: Context,
  stdin: StdinReader,
  signal: AbortSignal,
): Promise<number> {
  let want: string;
  let family: 4 | 6;
  try {
    const to = await resolveWithin(plan.network as "udp", plan.address, signal, setupLimit(plan));
    want = formatHostPort(to.address, to.port);
    family = to.family;
  } catch (err) {
    if (signal.aborted) return 0;
    throw err;
  }
  const pc = await dial(family === 6 ? "udp6" : "udp4", want, {
    ...(plan.source?.address !== undefined ? { localAddress: plan.source.address } : {}),
    ...(plan.source?.port !== undefined ? { localPort: plan.source.port } : {}),
  }).catch((err: unknown) => {
    throw sourceError(err, plan.source, want);
  });
  ctx.info(`sending datagrams to ${want} from ${pc.localAddress}`);
  const w = plan.connectTimeoutMs;
  await runUdpSession(stdin, pc, packetEnd(pc, want, true), ctx, {
    crlf: plan.crlf,
    idleMs: plan.idleMs,
    lingerMs: plan.lingerMs,
    finalReadMs: w,
    signal,
    what: want,
    events: {
      eof: (dir) => {
        if (dir !== 0) return;
        if (plan.lingerMs !== undefined)
          ctx.info(`stdin EOF: waiting ${plan.lingerMs / 1000} s for datagrams (-q)`);
        if (w !== undefined)
          ctx.info(`stdin EOF: waiting for datagrams until none came for ${w / 1000} s (-w)`);
      },
      silence: () => ctx.info(`-w ${w! / 1000}: no datagram for ${w! / 1000} s after stdin EOF; closing`),
    },
  });
  return 0;
}

/** Adds `connect` to the program. */
export function register(program: Command, reg: CommandRegistry): void {
  const cmd = addGlobalOptions(program.command("connect"))
    .description("connect to HOST PORT (or a Unix PATH): stdin -> socket, socket -> stdout")
    .argument("<host|path>", "host name or address (a socket path with -U)")
    .argument("[port]", "port number or service name")
    .option("-u, --udp", "UDP: each stdin read is sent as one datagram")
    .option("-U, --unix", "connect to the Unix socket at PATH")
    .option("-4", "IPv4 only")
    .option("-6", "IPv6 only")
    .option("-s, --source <addr>", "connect from this local address")
    .option("-p, --source-port <port>", "connect from this local port")
    .option(
      "-w, --wait <secs>",
      "connect within SECS or give up (exit 4); after stdin EOF, close once the peer is silent for SECS (exit 0)",
    )
    .option("-i, --idle <secs>", "give up after SECS without data either way, connecting included (exit 4)")
    .option(
      "-q, --linger <secs>",
      "after stdin EOF, wait at most SECS for the peer (UDP default 1, unless -w)",
    )
    .option("--crlf", "send line endings as CRLF")
    .option("--no-shutdown", "do not half-close (SHUT_WR) at stdin EOF; wait for the peer to close")
    .option(
      "--progress",
      "show a progress bar on stderr (default when stderr is a terminal, after ~1 s; percentage and ETA when stdin is a file)",
    )
    .option("--no-progress", "no progress bar")
    .option("--tls", "speak TLS (the certificate is verified, the host name checked, TLS 1.2+)")
    .option("--ca <file>", "with --tls: also trust the CA certificate(s) in FILE (PEM)")
    .option("--servername <name>", "with --tls: the name to send (SNI) and check (default: HOST)")
    .option("--insecure", "with --tls: do NOT verify the certificate (prints a warning)")
    .addHelpText(
      "after",
      `
stdin EOF sends FIN (shutdown SHUT_WR) and sockit keeps printing until the peer closes:
request -> half-close -> reply works with any server that answers after reading EOF.

Timeouts (none by default):
  -w SECS  name lookup + connect must finish within SECS, else exit 4. After stdin EOF, the
           peer may stay silent for at most SECS: then sockit closes and exits 0 (traditional
           netcat's "timeout for connects and final net reads"). While stdin is still open,
           -w never ends a connected session. With -u: wait for replies until SECS of silence.
  -i SECS  no data either way for SECS, at any time, connecting included: exit 4.
  -q SECS  after stdin EOF, wait at most SECS in all, then close and exit 0.

With -v the session ends with a summary: N bytes sent, M received in S s (RATE).

Examples:
  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | sockit connect example.test 80
  sockit connect -w 2 127.0.0.1 7             give up if not connected within 2 s
  echo stats | sockit connect -w 1 cache.test 11211   print the answer, exit 1 s after it stops
  sockit connect -U /tmp/app.sock             a Unix socket
  sockit connect --tls --ca cert.pem localhost 8443   TLS, trusting a local certificate
  echo ping | sockit connect -u 127.0.0.1 7   one datagram, print replies for 1 s
  sockit -x connect 127.0.0.1 13              hex dump of what comes back
  sockit --trace connect 127.0.0.1 7          every socket call on stderr`,
    );
  cmd.action((host: string, port: string | undefined, flags: ConnectFlags) => {
    reg.choose(cmd, (ctx) => runConnect(planConnect(argsOf(host, port), flags), ctx));
  });
}
