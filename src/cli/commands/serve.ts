/**
 * `sockit serve [SERVICE…]`: the classic Internet services (echo, discard, daytime, qotd,
 * chargen, time) in one process, on 127.0.0.1 and ports 7000 + the well-known port by default,
 * safe by default (UDP opt-in, connection limits, rate limits, budgets). Prints what listens
 * where (stdout) and how to try each; SIGINT/SIGTERM shut down gracefully.
 *
 * @module
 */
import { readFile, stat } from "node:fs/promises";
import type { Command } from "commander";
import { formatCounters, formatEvent, type ServiceEvent } from "../../services/rfc/events.js";
import { type BoundService, serve, type ServiceSpec } from "../../services/rfc/host.js";
import {
  DEFAULT_LIMITS,
  DEFAULT_PORT_BASE,
  isServiceName,
  SERVICE_NAMES,
  type ServiceLimits,
  type ServiceName,
  WELL_KNOWN_PORTS,
} from "../../services/rfc/limits.js";
import { MAX_QUOTES_FILE, parseQuotes, QuotesError } from "../../services/rfc/quotes.js";
import { OSError } from "../../errors/index.js";
import type { Context } from "../context.js";
import { UsageError } from "../exit.js";
import { addGlobalOptions } from "../globals.js";
import { parsePortNumber } from "../session/address.js";
import { waitForStop } from "../session/stop.js";
import type { CommandRegistry } from "./registry.js";

/** The limit flags: flag → [limit, unit factor (seconds → ms), help]. */
export const LIMIT_FLAGS: ReadonlyArray<{
  readonly flag: string;
  readonly key: keyof ServiceLimits;
  readonly scale: number;
  readonly help: string;
}> = [
  { flag: "max-conns", key: "maxConnections", scale: 1, help: "TCP connections at once, all services" },
  {
    flag: "max-per-source",
    key: "maxPerSource",
    scale: 1,
    help: "TCP connections at once from one address (IPv6: one /64)",
  },
  { flag: "idle", key: "idleMs", scale: 1000, help: "seconds without traffic before a TCP client is closed" },
  {
    flag: "linger",
    key: "lingerMs",
    scale: 1000,
    help: "seconds a TCP client has to read the last bytes and close before it is reset",
  },
  { flag: "chargen-bytes", key: "chargenBytes", scale: 1, help: "bytes a chargen connection gets" },
  { flag: "chargen-seconds", key: "chargenMs", scale: 1000, help: "seconds a chargen connection lasts" },
  { flag: "udp-rate", key: "udpRate", scale: 1, help: "UDP replies per second to one address" },
  { flag: "udp-burst", key: "udpBurst", scale: 1, help: "UDP replies one address may get at once" },
  { flag: "udp-total-rate", key: "udpTotalRate", scale: 1, help: "UDP replies per second, all addresses" },
  { flag: "udp-sources", key: "udpSources", scale: 1, help: "addresses the UDP rate limiter tracks" },
  { flag: "udp-max-reply", key: "udpMaxReply", scale: 1, help: "largest UDP reply (bytes)" },
  { flag: "udp-queue", key: "udpQueue", scale: 1, help: "datagrams queued per UDP socket" },
  { flag: "backlog", key: "backlog", scale: 1, help: "connections waiting to be accepted" },
  { flag: "grace", key: "graceMs", scale: 1000, help: "seconds clients get to finish at shutdown" },
];

/** What `serve` will do. */
export interface ServePlan {
  readonly services: readonly ServiceSpec[];
  readonly host: string;
  readonly udp: boolean;
  readonly limits: ServiceLimits;
  readonly quotesFile: string | undefined;
  /** With -v: print the counters every this many ms when they changed. */
  readonly statsMs: number;
}

/** The raw options as commander hands them over. */
export type ServeOptions = {
  host?: string;
  portBase?: string;
  port?: string[];
  udp?: boolean;
  quotes?: string;
  statsEvery?: string;
} & { [flag: string]: unknown };

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function num(flag: string, text: string, min: number, max: number, integer = true): number {
  const ok = integer ? /^\d+$/.test(text) : /^\d+(\.\d+)?$/.test(text);
  const n = Number(text);
  if (!ok || n < min || n > max) {
    throw new UsageError(
      `--${flag} must be ${integer ? "an integer" : "a number"} ${min}..${max}, got ${text}`,
    );
  }
  return n;
}

/**
 * Turns the arguments into a plan (pure; throws UsageError).
 *
 * @example `planServe(["echo"], { port: ["echo=9000"] }).services // [{ name: "echo", port: 9000 }]`
 */
export function planServe(names: readonly string[], opts: ServeOptions): ServePlan {
  const chosen: ServiceName[] = [];
  for (const n of names.length > 0 ? names : SERVICE_NAMES) {
    if (!isServiceName(n))
      throw new UsageError(`unknown service ${n}; services: ${SERVICE_NAMES.join(", ")}`);
    if (!chosen.includes(n)) chosen.push(n);
  }
  const base = num("port-base", opts.portBase ?? String(DEFAULT_PORT_BASE), 0, 65535 - 37);
  const ports = new Map<ServiceName, number>(chosen.map((n) => [n, base + WELL_KNOWN_PORTS[n]]));
  for (const p of opts.port ?? []) {
    const m = /^([a-z]+)=(\d+)$/.exec(p);
    if (!m) throw new UsageError(`--port wants NAME=PORT (e.g. echo=9007 or all=0), got ${p}`);
    const port = parsePortNumber(m[2]!, true, "--port");
    if (m[1] === "all") for (const n of chosen) ports.set(n, port);
    else if (!isServiceName(m[1]!)) throw new UsageError(`--port ${p}: unknown service ${m[1]}`);
    else if (!ports.has(m[1])) throw new UsageError(`--port ${p}: ${m[1]} is not one of the services served`);
    else ports.set(m[1], port);
  }
  const seen = new Map<number, ServiceName>();
  for (const [n, port] of ports) {
    const other = seen.get(port);
    if (port !== 0 && other !== undefined)
      throw new UsageError(`${other} and ${n} would both use port ${port}`);
    seen.set(port, n);
  }
  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const f of LIMIT_FLAGS) {
    const v = opts[camel(f.flag)];
    if (v === undefined) continue;
    const seconds = f.scale !== 1;
    const n = num(f.flag, String(v), f.key === "graceMs" ? 0 : seconds ? 0.001 : 1, 2 ** 40, !seconds);
    limits[f.key] = Math.round(n * f.scale);
  }
  const host = opts.host ?? "127.0.0.1";
  if (host === "") throw new UsageError("--host is empty");
  const quotesFile = opts.quotes;
  if (quotesFile !== undefined && !chosen.includes("qotd")) {
    throw new UsageError("--quotes is for the qotd service, which is not served");
  }
  return {
    services: chosen.map((name) => ({ name, port: ports.get(name)! })),
    host,
    udp: opts.udp === true,
    limits: limits as unknown as ServiceLimits,
    quotesFile,
    statsMs: num("stats-every", opts.statsEvery ?? "10", 1, 86_400) * 1000,
  };
}

/**
 * The ways to try one bound service from another terminal.
 *
 * @example `tryIt({ service: "time", proto: "tcp", host: "127.0.0.1", port: 7037, address: "127.0.0.1:7037" })`
 */
export function tryIt(b: BoundService): string[] {
  const u = b.proto === "udp";
  const sockit = b.service === "discard" ? [] : [`sockit ${b.service}${u ? " -u" : ""} ${b.address}`];
  const nc = u ? `echo hi | nc -u -w1 ${b.host} ${b.port}` : `nc ${b.host} ${b.port}`;
  const other =
    b.service === "time"
      ? `rdate -p${u ? "u" : ""} -o ${b.port} ${b.host}`
      : b.service === "chargen" && !u
        ? `${nc} | head -3`
        : b.service === "echo" && !u
          ? `${nc}  (type a line)`
          : nc;
  // rdate first for time: the classic client (and the table's flags stay after "rdate", not "sockit time")
  return b.service === "time" ? [other, ...sockit] : [...sockit, other];
}

/**
 * The table of what listens where (the command's output).
 *
 * @example `formatTable(host.bound)`
 */
export function formatTable(bound: readonly BoundService[]): string {
  const rows = bound.map((b) => [b.service, b.proto, b.address, tryIt(b).join("   or: ")]);
  const head = ["SERVICE", "PROTO", "LISTENING ON", "TRY IT FROM ANOTHER TERMINAL"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!)))
      .join("  ")
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join("\n")}\n`;
}

const LOOPBACK = /^(127\.|::1$|localhost$)/;
const EVENTS_PER_SECOND = 20;

/**
 * Prints events with -v, at most 20 of each kind a second (a flood must not flood the terminal
 * too, and a flood of one kind — accepts — must not hide the first of another: a refusal).
 */
class EventLog {
  #second = 0;
  #shown = new Map<string, number>();
  #hidden = 0;
  constructor(private readonly ctx: Context) {}
  log(e: ServiceEvent): void {
    if (!this.ctx.opts.verbose) return;
    const s = Math.floor(Date.now() / 1000);
    if (s !== this.#second) {
      this.flush();
      this.#second = s;
      this.#shown.clear();
    }
    const shown = this.#shown.get(e.type) ?? 0;
    this.#shown.set(e.type, shown + 1);
    if (shown < EVENTS_PER_SECOND) this.ctx.info(formatEvent(e));
    else this.#hidden++;
  }
  flush(): void {
    if (this.#hidden > 0) this.ctx.info(`(${this.#hidden} more events not shown)`);
    this.#hidden = 0;
  }
}

async function loadQuotes(file: string): Promise<string[]> {
  try {
    const st = await stat(file);
    if (st.size > MAX_QUOTES_FILE) throw new QuotesError(`larger than ${MAX_QUOTES_FILE} bytes`);
    return parseQuotes(await readFile(file, "utf8"));
  } catch (err) {
    const msg = err instanceof QuotesError ? err.message : ((err as Error).message ?? String(err));
    throw new UsageError(`--quotes ${file}: ${msg}`);
  }
}

/**
 * A port already taken, said the way `serve` can fix it: the same error class and errno, with a
 * hint toward `--port-base` and `--port NAME=N` (not "port 0", which would hide where a service
 * went). Any other error is returned as it is.
 * @example `throw busyPortError(err) // "bind 127.0.0.1:7007: address already in use … --port-base …"`
 */
export function busyPortError(err: unknown): unknown {
  if (!(err instanceof OSError) || err.code !== "EADDRINUSE") return err;
  const Ctor = err.constructor as new (code: string, d: object) => OSError;
  return new Ctor(err.code, {
    op: err.op ?? "bind",
    ...(err.address === undefined ? {} : { address: err.address }),
    hint:
      "another program (another sockit serve?) has that port; move every service with " +
      "--port-base N (each on N + its well-known port) or one with --port NAME=N",
    cause: err,
  });
}

/**
 * Runs the services until SIGINT/SIGTERM (or `stop` aborts), then shuts down gracefully.
 * Resolves 0.
 */
export async function runServe(plan: ServePlan, ctx: Context, stop?: AbortSignal): Promise<number> {
  const quotes = plan.quotesFile === undefined ? undefined : await loadQuotes(plan.quotesFile);
  const events = new EventLog(ctx);
  const host = await serve({
    services: plan.services,
    host: plan.host,
    udp: plan.udp,
    limits: plan.limits,
    ...(quotes ? { quotes } : {}),
    onEvent: (e) => events.log(e),
  }).catch((err: unknown) => {
    throw busyPortError(err);
  });
  // handlers first: a signal right after the table is printed must find them
  const waiting = waitForStop(stop, () => host.cutOff());
  const out = ctx.io.stdout;
  if (ctx.opts.json) {
    const listening = host.bound.map((b) => ({ ...b, try: tryIt(b) }));
    out.write(`${JSON.stringify({ listening, limits: host.limits })}\n`);
  } else out.write(formatTable(host.bound));
  if (host.connectionRoom < plan.limits.maxConnections) {
    ctx.warn(
      `the descriptor limit (ulimit -n) leaves room for ${host.connectionRoom} connections, fewer than ` +
        `--max-conns ${plan.limits.maxConnections}: more are reset and counted as shed(descriptor limit)`,
    );
  }
  if (!LOOPBACK.test(plan.host)) {
    ctx.warn(
      `serving on ${plan.host}: these services have a history of abuse; keep them on loopback or a lab network`,
    );
  }
  ctx.err(
    `sockit: serving ${plan.services.length} service${plan.services.length === 1 ? "" : "s"} ` +
      `(${plan.udp ? "TCP and UDP" : "TCP only; --udp adds UDP"}); Ctrl-C stops\n`,
  );
  let last = formatCounters(host.counters); // print only what changed
  const stats = setInterval(() => {
    events.flush();
    const now = formatCounters(host.counters);
    if (now !== last) ctx.info(`counters: ${now}`);
    last = now;
  }, plan.statsMs);
  stats.unref();
  const sig = await waiting.stopped;
  clearInterval(stats);
  ctx.err(
    `sockit: ${sig === "stop" ? "stopping" : `${sig}: shutting down`}; clients get ${plan.limits.graceMs / 1000} s to finish (a second signal cuts them off)\n`,
  );
  const final = await host.close();
  waiting.dispose();
  events.flush();
  ctx.err(`sockit: counters: ${formatCounters(final)}\n`);
  return 0;
}

/** Adds `serve` to the program. */
export function register(program: Command, reg: CommandRegistry): void {
  const cmd = addGlobalOptions(program.command("serve"), { json: true })
    .description(
      "run the classic Internet services — echo (RFC 862), discard (863), daytime (867), qotd (865), " +
        "chargen (864), time (868) — on 127.0.0.1, ports 7000 + the well-known port, safe by default; " +
        "`sockit serve rpc`: JSON-RPC 2.0; `sockit serve http [DIR]`: a static web server; `sockit serve smtp`: a mail sink; `sockit serve chat`: an IRC server nc users can join too; `sockit serve ftp [DIR]`: an FTP server (see their --help)",
    )
    .argument("[service...]", `services to run (default: all): ${SERVICE_NAMES.join(", ")}`)
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option("--port-base <n>", "each service listens on N + its well-known port", String(DEFAULT_PORT_BASE))
    .option(
      "--port <name=N>",
      "a service's port (repeatable; 0 = any free port; all=N sets every service)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option("-u, --udp", "also serve UDP (opt-in: UDP services can be abused for floods)")
    .option("--quotes <file>", "qotd quotes: one per paragraph, or separated by % lines; each < 512 bytes")
    .option("--stats-every <seconds>", "with -v: print the counters this often when they change", "10");
  for (const f of LIMIT_FLAGS) {
    const d = DEFAULT_LIMITS[f.key] / f.scale;
    const arg = f.scale !== 1 ? "seconds" : /bytes|reply/.test(f.flag) ? "bytes" : "n";
    cmd.option(`--${f.flag} <${arg}>`, `${f.help} (default ${d})`);
  }
  cmd.addHelpText(
    "after",
    `
Safety: UDP is off unless --udp. UDP datagrams from ports below 1024 or from a port served here
are dropped (no echo<->chargen loops); replies are rate-limited per address and in total and never
larger than --udp-max-reply (chargen answers one line). TCP connections are limited in total and
per address (IPv6: per /64; refused with a message), closed when idle, and chargen stops after
its budget; a client that stops reading only stalls its own connection. A finished connection
keeps its slot until the client has read everything and closed, or --linger passes: then it is
reset, so the kernel keeps nothing queued for it. Past the room ulimit -n leaves, connections are
reset and counted. Counters are printed at shutdown, and events and counters as they happen with -v.

Examples:
  sockit serve                          all six services on 127.0.0.1:7007, 7009, 7013, ...
  sockit serve echo time --udp          echo and time, TCP and UDP
  sockit serve --port-base 20000        echo on 20007, ...
  sockit serve echo --port echo=9000    echo on 9000
  sockit serve --port all=0 --json      free ports, the table as JSON
  sockit -v serve --max-per-source 4    log every refused, dropped and limited event

  then, from another terminal:  sockit echo 127.0.0.1:7007   sockit time 127.0.0.1:7037
                                nc 127.0.0.1 7013             rdate -p -o 7037 127.0.0.1`,
  );
  cmd.action((names: string[], opts: ServeOptions) => {
    reg.choose(cmd, (ctx) => runServe(planServe(names, opts), ctx));
  });
}
