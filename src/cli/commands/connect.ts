/**
 * `sockit connect HOST PORT` (and `-U PATH`, `-u`): a netcat client. stdin → socket,
 * socket → stdout; stdin EOF half-closes (SHUT_WR) and the reply is still printed.
 *
 * @module
 */
import type { Writable } from "node:stream";
import type { Command } from "commander";
import { formatHostPort } from "../../addr/address.js";
import { ipFamily } from "../../addr/inet.js";
import type { IpEndpoint } from "../../core/endpoint.js";
import { TimeoutError } from "../../errors/index.js";
import { MAX_UDP4_PAYLOAD, MAX_UDP6_PAYLOAD } from "../../limits.js";
import { resolveNetAddress } from "../../net/address.js";
import type { Conn } from "../../net/conn.js";
import { type DialOptions, dial } from "../../net/dial.js";
import type { Context } from "../context.js";
import { UsageError } from "../exit.js";
import { addGlobalOptions } from "../globals.js";
import { Ending, IdleTimer, printReceived, runSession, StdinReader } from "../listen/stdio.js";
import { crlf } from "../pump.js";
import type { CommandRegistry } from "./index.js";

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
}

/** Without `-q`, UDP waits this long after stdin EOF for replies. */
export const UDP_DEFAULT_LINGER_MS = 1000;

const MAX_SECONDS = 2_147_483; // setTimeout's limit, in seconds

/**
 * A `SECS` value (decimals allowed) in ms; `zero` allows 0.
 * @example `parseSeconds("-w", "1.5") // 1500`
 */
export function parseSeconds(flag: string, text: string, zero = false): number {
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(text))
    throw new UsageError(`${flag} needs seconds (like 5 or 0.5), got ${JSON.stringify(text)}`);
  const s = Number(text);
  if ((!zero && s === 0) || s > MAX_SECONDS) {
    throw new UsageError(
      `${flag} must be ${zero ? "0" : "more than 0"}..${MAX_SECONDS} seconds, got ${text}`,
    );
  }
  return Math.round(s * 1000);
}

const SERVICE = /^[A-Za-z][A-Za-z0-9._+-]{0,31}$/;

/**
 * A `PORT` argument: a number (1..65535, or 0 when `zero`) or a service name (looked up when
 * connecting; an unknown name exits 2).
 * @example `parsePort("http") // "http"; parsePort("8080") // 8080`
 */
export function parsePort(text: string, zero = false, what = "PORT"): number | string {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n > 65535 || (n === 0 && !zero)) {
      throw new UsageError(`${what} must be ${zero ? 0 : 1}..65535, got ${text}`);
    }
    return n;
  }
  if (SERVICE.test(text)) return text;
  throw new UsageError(`${what} must be a port number or a service name, got ${JSON.stringify(text)}`);
}

/**
 * A `HOST` argument without brackets (`[::1]` → `::1`); rejects what no resolver could take.
 * @example `parseHost("[::1]") // "::1"`
 */
export function parseHost(text: string, what = "HOST"): string {
  const h = /^\[([^\]]*)\]$/.exec(text)?.[1] ?? text;
  if (h.length === 0 || h.length > 255 || /[\s[\]/]/.test(h)) {
    throw new UsageError(`${what} must be a host name or an address, got ${JSON.stringify(text)}`);
  }
  return h;
}

/**
 * `-4`/`-6` against a literal address: the family must agree.
 * @example `checkFamily("::1", true, false) // throws UsageError`
 */
export function checkFamily(host: string, v4: boolean, v6: boolean): void {
  if (v4 && v6) throw new UsageError("-4 and -6 exclude each other");
  const fam = ipFamily(host.replace(/%.*$/, ""));
  if ((v4 && fam === 6) || (v6 && fam === 4)) {
    throw new UsageError(`${host} is an IPv${fam} address but -${v4 ? 4 : 6} was given`);
  }
}

/**
 * The positional arguments commander hands over, without the missing ones.
 * @example `argsOf("8000", undefined) // ["8000"]`
 */
export function argsOf(...args: Array<string | undefined>): string[] {
  return args.filter((a): a is string => a !== undefined);
}

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
  };
  const linger = f.linger === undefined ? undefined : parseSeconds("-q", f.linger, true);
  if (f.unix) {
    if (args.length !== 1) throw new UsageError("with -U give one PATH: sockit connect -U /tmp/s.sock");
    if (f.udp) throw new UsageError("-U and -u exclude each other (Node has no Unix datagram sockets)");
    if (v4 || v6) throw new UsageError("-4/-6 do not apply to a Unix socket (-U)");
    if (f.source !== undefined || f.sourcePort !== undefined)
      throw new UsageError("-s/-p do not apply to a Unix socket (-U)");
    const path = args[0]!;
    if (path.length === 0) throw new UsageError("PATH must not be empty");
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
      if (typeof p !== "number") throw new UsageError(`-p needs a port number, got ${f.sourcePort}`);
      source.port = p;
    }
  }
  const base = f.udp ? "udp" : "tcp";
  const network = (v4 ? `${base}4` : v6 ? `${base}6` : base) as Network;
  // UDP has no EOF: without -q it waits 1 s after stdin EOF, or with -w until SECS of silence
  const lingerMs = linger ?? (f.udp && f.wait === undefined ? UDP_DEFAULT_LINGER_MS : undefined);
  return { network, address: formatHostPort(host, port), source, lingerMs, ...common };
}

/**
 * Splits `b` into pieces of at most `max` bytes (a stdin chunk larger than one datagram).
 * @example `chunks(Buffer.alloc(70000), 65507).length // 2`
 */
export function chunks(b: Buffer, max: number): Buffer[] {
  if (b.length <= max) return [b];
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += max) out.push(b.subarray(i, i + max));
  return out;
}

/**
 * Calls `stop` on the first SIGINT/SIGTERM, then removes the handlers (a second Ctrl-C kills
 * the process the default way); returns the function that removes them.
 * @example `const off = onStopSignals(() => ac.abort()); try { … } finally { off(); }`
 */
export function onStopSignals(stop: () => void): () => void {
  const off = () => {
    process.off("SIGINT", h);
    process.off("SIGTERM", h);
  };
  const h = () => {
    off();
    stop();
  };
  process.on("SIGINT", h);
  process.on("SIGTERM", h);
  return off;
}

/**
 * Watches stdout: `onClosed` runs once when it fails or closes (with the error, if any), so that
 * a reader going away (EPIPE, e.g. `| head`) ends the command instead of crashing it.
 * Returns the function that stops watching.
 * @example `const off = watchOutput(ctx.io.stdout, (err) => ac.abort(err));`
 */
export function watchOutput(out: Writable, onClosed: (err?: unknown) => void): () => void {
  let fired = false;
  const h = (err?: unknown) => {
    if (!fired) {
      fired = true;
      onClosed(err);
    }
  };
  const onClose = () => h();
  out.on("error", h);
  out.on("close", onClose);
  return () => {
    out.off("error", h);
    out.off("close", onClose);
  };
}

/**
 * Runs a command body with a stop signal that SIGINT, SIGTERM and a closed stdout abort; a
 * stdin reader shared by the body. stdout closed by its reader (EPIPE) ends quietly; any
 * other stdout failure (ENOSPC…) is rethrown after the body ends (exit 6).
 * @example `return withStop(ctx, (signal, stdin) => serve(plan, ctx, stdin, signal));`
 */
export async function withStop(
  ctx: Context,
  body: (signal: AbortSignal, stdin: StdinReader) => Promise<number>,
): Promise<number> {
  const ac = new AbortController();
  let outErr: unknown;
  const offSignals = onStopSignals(() => ac.abort());
  const offOut = watchOutput(ctx.io.stdout, (err) => {
    if (err !== undefined && (err as { code?: unknown }).code !== "EPIPE") outErr = err;
    ac.abort();
  });
  const stdin = new StdinReader(ctx.io.stdin);
  stdin.onError = (e) => ctx.warn(`reading stdin: ${(e as Error).message}`);
  try {
    const code = await body(ac.signal, stdin);
    if (outErr !== undefined) throw outErr;
    return code;
  } finally {
    offSignals();
    offOut();
  }
}

/**
 * A limit on connection set-up and the flag that set it.
 * @example `const limit: SetupLimit = { ms: 2000, flag: "-w" }`
 */
export interface SetupLimit {
  readonly ms: number;
  readonly flag: "-w" | "-i";
}

/**
 * What bounds connection set-up (name lookup + connect): `-w`, or `-i` when that is shorter —
 * silence while connecting counts as silence. Undefined: neither was given.
 * @example `setupLimit({ connectTimeoutMs: 5000, idleMs: 1000 }) // { ms: 1000, flag: "-i" }`
 */
export function setupLimit(plan: Pick<ConnectPlan, "connectTimeoutMs" | "idleMs">): SetupLimit | undefined {
  const w = plan.connectTimeoutMs;
  const i = plan.idleMs;
  if (w !== undefined && (i === undefined || w <= i)) return { ms: w, flag: "-w" };
  return i === undefined ? undefined : { ms: i, flag: "-i" };
}

/**
 * The error when set-up passed its limit: `connect 10.0.0.1:80: connection timed out
 * (ETIMEDOUT) — not connected within 2 s (-w 2); is the host up, …` (exit 4).
 * @example `throw setupTimeoutError({ ms: 2000, flag: "-w" }, "10.0.0.1:80")`
 */
export function setupTimeoutError(limit: SetupLimit, address: string): TimeoutError {
  const s = limit.ms / 1000;
  const what =
    limit.flag === "-w"
      ? `not connected within ${s} s (-w ${s})`
      : `no answer for ${s} s while connecting (-i ${s})`;
  return new TimeoutError("ETIMEDOUT", {
    op: "connect",
    address,
    hint: `${what}; is the host up, and is the port open (not filtered by a firewall)?`,
  });
}

/**
 * `p`, unless `ms` pass first (rejects with `onTimeout()`) or `signal` aborts (rejects with its
 * reason); `ms` undefined: no limit. For waits that cannot be cancelled, like a name lookup.
 * @example `const ep = await within(resolveNetAddress("tcp", a, false, "connect"), 2000, signal, () => err)`
 */
function within<T>(
  p: Promise<T>,
  ms: number | undefined,
  signal: AbortSignal,
  onTimeout: () => Error,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    if (ms !== undefined) timer = setTimeout(() => reject(onTimeout()), Math.max(0, ms));
    onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  p.catch(() => {});
  return Promise.race([p, stop]).finally(() => {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort!);
  });
}

/**
 * Resolves the plan's address with set-up bounded by `limit` (a lookup cannot be cancelled: it is
 * raced); resolves the address as a literal and a function giving the ms left of the limit.
 */
async function lookUp(
  plan: ConnectPlan,
  signal: AbortSignal,
  limit: SetupLimit | undefined,
): Promise<{ target: string; left: () => number | undefined }> {
  const t0 = performance.now();
  const left = () =>
    limit === undefined ? undefined : Math.max(1, Math.ceil(limit.ms - (performance.now() - t0)));
  if (plan.network === "unix") return { target: plan.address, left };
  const to = await within(
    resolveNetAddress(plan.network, plan.address, false, "connect"),
    limit?.ms,
    signal,
    () => setupTimeoutError(limit!, plan.address),
  );
  return { target: formatHostPort((to as IpEndpoint).address, (to as IpEndpoint).port), left };
}

/** Connects and moves bytes until done; resolves the exit code. */
export function runConnect(plan: ConnectPlan, ctx: Context): Promise<number> {
  return withStop(ctx, async (signal, stdin) => {
    if (plan.network.startsWith("udp")) return runUdp(plan, ctx, stdin, signal);
    const opts: { -readonly [K in keyof DialOptions]: DialOptions[K] } = { signal };
    if (plan.source?.address !== undefined) opts.localAddress = plan.source.address;
    if (plan.source?.port !== undefined) opts.localPort = plan.source.port;
    const limit = setupLimit(plan);
    let conn: Conn;
    try {
      const { target, left } = await lookUp(plan, signal, limit);
      const timeout = left();
      if (timeout !== undefined) opts.timeout = timeout;
      try {
        conn = await dial(plan.network as "tcp", target, opts);
      } catch (err) {
        // the core's own connect timer ended it (the trace shows ETIMEDOUT): say which flag
        if (limit !== undefined && err instanceof TimeoutError) throw setupTimeoutError(limit, target);
        throw err;
      }
    } catch (err) {
      if (signal.aborted) return 0;
      throw err;
    }
    ctx.info(`connected to ${conn.remoteAddress || plan.address} from ${conn.localAddress || "(unnamed)"}`);
    await runSession(conn, stdin, ctx, {
      shutdown: plan.shutdown,
      lingerMs: plan.lingerMs,
      idleMs: plan.idleMs,
      finalReadMs: plan.connectTimeoutMs,
      crlf: plan.crlf,
      signal,
      dump: ctx.dumper(),
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
  const limit = setupLimit(plan);
  let to: IpEndpoint;
  try {
    to = (await within(
      resolveNetAddress(plan.network, plan.address, false, "connect"),
      limit?.ms,
      signal,
      () => setupTimeoutError(limit!, plan.address),
    )) as IpEndpoint;
  } catch (err) {
    if (signal.aborted) return 0;
    throw err;
  }
  const pc = await dial((to.family === 6 ? "udp6" : "udp4") as "udp", formatHostPort(to.address, to.port), {
    ...(plan.source?.address !== undefined ? { localAddress: plan.source.address } : {}),
    ...(plan.source?.port !== undefined ? { localPort: plan.source.port } : {}),
  });
  const want = formatHostPort(to.address, to.port);
  ctx.info(`sending datagrams to ${want} from ${pc.localAddress}`);
  const max = to.family === 6 ? MAX_UDP6_PAYLOAD : MAX_UDP4_PAYLOAD;
  const dump = ctx.dumper();
  const end = new Ending();
  const idle = new IdleTimer(plan.idleMs, end.finish, want);
  let linger: NodeJS.Timeout | undefined;
  let finalRead: NodeJS.Timeout | undefined;
  const receive = async () => {
    for (;;) {
      const p = await pc.readFrom();
      finalRead?.refresh();
      if (end.settled || !(await printReceived(ctx, p.data, idle, dump, end))) return;
    }
  };
  const send = async () => {
    const t = plan.crlf ? crlf() : undefined;
    for (let b = await stdin.read(); b !== null; b = await stdin.read()) {
      if (end.settled) return;
      for (const piece of chunks(t ? t(b) : b, max)) {
        idle.bump();
        dump?.sent(piece);
        await pc.write(piece);
      }
    }
    if (plan.lingerMs !== undefined) {
      ctx.info(`stdin EOF: waiting ${plan.lingerMs / 1000} s for datagrams (-q)`);
      linger = setTimeout(() => end.finish(), plan.lingerMs);
    }
    const w = plan.connectTimeoutMs;
    if (w !== undefined) {
      ctx.info(`stdin EOF: waiting for datagrams until none came for ${w / 1000} s (-w)`);
      finalRead = setTimeout(() => {
        ctx.info(`-w ${w / 1000}: no datagram for ${w / 1000} s after stdin EOF; closing`);
        end.finish();
      }, w);
    }
  };
  const onAbort = () => end.finish();
  signal.addEventListener("abort", onAbort, { once: true });
  receive().catch(end.finish);
  send().catch(end.finish);
  try {
    await end.done;
    return 0;
  } finally {
    signal.removeEventListener("abort", onAbort);
    idle.stop();
    clearTimeout(linger);
    clearTimeout(finalRead);
    if (pc.drops > 0) ctx.warn(`${pc.drops} datagrams dropped: the receive queue was full`);
    await pc.close();
  }
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

Examples:
  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | sockit connect example.test 80
  sockit connect -w 2 127.0.0.1 7             give up if not connected within 2 s
  echo stats | sockit connect -w 1 cache.test 11211   print the answer, exit 1 s after it stops
  sockit connect -U /tmp/app.sock             a Unix socket
  echo ping | sockit connect -u 127.0.0.1 7   one datagram, print replies for 1 s
  sockit -x connect 127.0.0.1 13              hex dump of what comes back
  sockit --trace connect 127.0.0.1 7          every socket call on stderr`,
    );
  cmd.action((host: string, port: string | undefined, flags: ConnectFlags) => {
    reg.choose(cmd, (ctx) => runConnect(planConnect(argsOf(host, port), flags), ctx));
  });
}
