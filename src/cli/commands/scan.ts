/**
 * `sockit scan HOST PORTS`: a TCP connect scan. Each port gets one `connect()` with a timeout:
 * accepted → open, refused (or reset) → closed, no answer within the timeout or unreachable →
 * filtered. At most `-c` connects are in flight at once.
 *
 * @module
 */
import type { Command } from "commander";
import { formatHostPort } from "../../addr/address.js";
import { resolveHost } from "../../addr/resolve.js";
import { getservbyport } from "../../addr/services.js";
import { errorCode } from "../../errors/index.js";
import { dial } from "../../net/index.js";
import type { Context } from "../context.js";
import { UsageError } from "../exit.js";
import { addGlobalOptions } from "../globals.js";
import { parsePorts } from "../scan/ports.js";
import type { CommandRegistry } from "./registry.js";

/** Connects in flight at once unless -c says otherwise. */
export const DEFAULT_CONCURRENCY = 100;
/** Most connects in flight at once (-c). */
export const MAX_CONCURRENCY = 4096;
/** Seconds a port may take to answer unless -w says otherwise. */
export const DEFAULT_WAIT_S = 1;

/** What a port looked like. */
export type PortState = "open" | "closed" | "filtered";

/** One scanned port. */
export interface PortResult {
  readonly port: number;
  readonly state: PortState;
  /** The service name registered for the port (getservbyport), when there is one. */
  readonly service?: string;
}

/** What `scan` will do. */
export interface ScanPlan {
  readonly host: string;
  readonly ports: readonly number[];
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** --all: list every port, not only the open ones. */
  readonly all: boolean;
}

/**
 * Turns the arguments into a plan (pure; throws UsageError).
 * @example `planScan("127.0.0.1", "22,80-81", { concurrency: "10", wait: "0.5" }).ports // [22, 80, 81]`
 */
export function planScan(
  host: string,
  ports: string,
  opts: { concurrency?: string; wait?: string; all?: boolean },
): ScanPlan {
  if (host === "") throw new UsageError("HOST is empty");
  const c = opts.concurrency ?? String(DEFAULT_CONCURRENCY);
  if (!/^\d{1,5}$/.test(c) || Number(c) < 1 || Number(c) > MAX_CONCURRENCY) {
    throw new UsageError(`-c must be 1..${MAX_CONCURRENCY}, got ${c}`);
  }
  const w = opts.wait ?? String(DEFAULT_WAIT_S);
  const secs = /^\d{1,6}(\.\d{1,6})?$/.test(w) ? Number(w) : Number.NaN;
  if (!(secs > 0) || secs > 3600) throw new UsageError(`-w must be seconds above 0 (at most 3600), got ${w}`);
  return {
    host,
    ports: parsePorts(ports),
    concurrency: Number(c),
    timeoutMs: Math.max(1, Math.round(secs * 1000)),
    all: opts.all === true,
  };
}

const FILTERED = new Set([
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "EACCES",
  "EPERM",
]);

/**
 * What a failed connect says about the port (undefined: a local problem, not an answer).
 * @example `classify(new ConnectionRefusedError("ECONNREFUSED")) // "closed"`
 */
export function classify(err: unknown): PortState | undefined {
  const code = errorCode(err);
  if (code === "ECONNREFUSED" || code === "ECONNRESET") return "closed";
  if (code !== undefined && FILTERED.has(code)) return "filtered";
  return undefined;
}

function serviceOf(port: number): string | undefined {
  try {
    return getservbyport(port, "tcp");
  } catch {
    return undefined;
  }
}

/**
 * Scans `ports` on `address` (an IP address) with at most `concurrency` connects in flight;
 * resolves the results in port order. Rejects on a local error (e.g. EMFILE) that says nothing
 * about the port.
 *
 * @example `await scanPorts("127.0.0.1", [22, 80], { concurrency: 10, timeoutMs: 1000 })`
 */
export async function scanPorts(
  address: string,
  ports: readonly number[],
  opts: { concurrency: number; timeoutMs: number; signal?: AbortSignal },
): Promise<PortResult[]> {
  const states: PortState[] = new Array(ports.length);
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < ports.length) {
      const i = next++;
      const port = ports[i]!;
      try {
        const conn = await dial("tcp", formatHostPort(address, port), {
          timeout: opts.timeoutMs,
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        await conn.close();
        states[i] = "open";
      } catch (err) {
        const s = classify(err);
        if (s === undefined) failed ??= err;
        else states[i] = s;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, ports.length) }, worker));
  if (failed !== undefined) throw failed;
  return ports.map((port, i) => {
    const service = serviceOf(port);
    return service === undefined ? { port, state: states[i]! } : { port, state: states[i]!, service };
  });
}

/** Resolves the host, scans, and prints the table (or --json). Exit 0 when the scan ran. */
export async function runScan(plan: ScanPlan, ctx: Context): Promise<number> {
  const { address } = await resolveHost(plan.host, 0);
  const t0 = performance.now();
  ctx.info(
    `scanning ${plan.ports.length} port${plan.ports.length === 1 ? "" : "s"} on ${address}, ` +
      `${plan.concurrency} at a time, ${plan.timeoutMs / 1000} s each`,
  );
  const results = await scanPorts(address, plan.ports, plan);
  const count = (s: PortState) => results.filter((r) => r.state === s).length;
  const open = count("open");
  const closed = count("closed");
  const filtered = count("filtered");
  ctx.info(
    `scanned ${results.length} port${results.length === 1 ? "" : "s"} on ${address} in ${((performance.now() - t0) / 1000).toFixed(2)} s: ` +
      `${open} open, ${closed} closed, ${filtered} filtered`,
  );
  const shown = plan.all ? results : results.filter((r) => r.state === "open");
  const out = ctx.io.stdout;
  if (ctx.opts.json) {
    out.write(`${JSON.stringify(shown)}\n`);
    return 0;
  }
  const hidden = [closed > 0 ? `${closed} closed` : "", filtered > 0 ? `${filtered} filtered` : ""]
    .filter(Boolean)
    .join(", ");
  if (!plan.all && open === 0) {
    // an empty table says nothing: say so
    const n = results.length;
    out.write(`no open port among the ${n} scanned on ${address}: ${hidden} (--all lists them)\n`);
    return 0;
  }
  out.write(formatTable(shown));
  if (!plan.all && results.length > shown.length) out.write(`not shown: ${hidden} (--all lists them)\n`);
  return 0;
}

/**
 * The text table: a header and one line per port.
 * @example `formatTable([{ port: 22, state: "open", service: "ssh" }]) // "PORT      STATE     SERVICE\n22/tcp    open      ssh\n"`
 */
export function formatTable(rows: readonly PortResult[]): string {
  const line = (a: string, b: string, c: string) => `${a.padEnd(9)} ${b.padEnd(9)} ${c}`.trimEnd();
  return [
    line("PORT", "STATE", "SERVICE"),
    ...rows.map((r) => line(`${r.port}/tcp`, r.state, r.service ?? "")),
  ]
    .map((l) => `${l}\n`)
    .join("");
}

/** Adds `scan` to the program. */
export function register(program: Command, reg: CommandRegistry): void {
  const cmd = addGlobalOptions(program.command("scan"), { json: true })
    .description("TCP connect scan: which PORTS on HOST accept connections")
    .argument("<host>", "host name or address to scan")
    .argument("<ports>", "ports and ranges, e.g. 22,80,8000-8100 (1..65535)")
    .option("-c, --concurrency <n>", `connects in flight at once (default ${DEFAULT_CONCURRENCY})`)
    .option("-w, --wait <secs>", `give each port this long to answer (default ${DEFAULT_WAIT_S})`)
    .option("-a, --all", "list every port (closed and filtered too), not only the open ones")
    .addHelpText(
      "after",
      `
States:
  open      the connection was accepted (then closed at once)
  closed    the connection was refused (RST): nothing listens there
  filtered  no answer within -w, or host/network unreachable: a firewall or a full queue

--json prints an array of {port, state, service?} (the same rows as the table).
Exit code 0 when the scan ran, whether or not any port is open.

Examples:
  sockit scan 127.0.0.1 1-1024                 open ports among the first 1024
  sockit scan -c 500 -w 0.3 localhost 1-65535  every port, faster
  sockit scan --all --json ::1 22,80,443       every state as JSON`,
    );
  cmd.action((host: string, ports: string, opts: { concurrency?: string; wait?: string; all?: boolean }) => {
    reg.choose(cmd, (ctx) => runScan(planScan(host, ports, opts), ctx));
  });
}
