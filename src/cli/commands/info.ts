/**
 * `sockit info [NAME] [--service S]`: this host's name and interfaces, what a name resolves to
 * (getaddrinfo), and service names ↔ ports (getservbyname/getservbyport).
 *
 * @module
 */
import { networkInterfaces } from "node:os";
import type { Command } from "commander";
import { familyName, typeName } from "../../addr/constants.js";
import { getaddrinfo, gethostname } from "../../addr/resolve.js";
import { getservbyname, getservbyport } from "../../addr/services.js";
import type { Context } from "../context.js";
import { UsageError } from "../exit.js";
import { addGlobalOptions } from "../globals.js";
import { runTLSInfo } from "../tls.js";
import { parsePortNumber } from "../session/address.js";
import type { CommandRegistry } from "./registry.js";

/** What `info` will look up. */
export interface InfoPlan {
  readonly name: string | undefined;
  readonly service: { readonly byPort: number } | { readonly byName: string } | undefined;
  readonly proto: "tcp" | "udp";
}

/**
 * Turns the arguments into a plan (pure; throws UsageError).
 * @example `planInfo("localhost", { service: "http", proto: "tcp" })`
 */
export function planInfo(name: string | undefined, opts: { service?: string; proto?: string }): InfoPlan {
  const proto = opts.proto ?? "tcp";
  if (proto !== "tcp" && proto !== "udp") throw new UsageError(`--proto must be tcp or udp, got ${proto}`);
  let service: InfoPlan["service"];
  if (opts.service !== undefined) {
    if (/^\d+$/.test(opts.service)) {
      service = { byPort: parsePortNumber(opts.service, true, "--service port") };
    } else if (opts.service.length > 0) service = { byName: opts.service };
    else throw new UsageError("--service needs a name or a port number");
  }
  return { name, service, proto };
}

/**
 * Looks up what was asked and prints it (text or --json): a NAME and/or a service when given,
 * else this host's name and interfaces.
 * @example `await runInfo(planInfo(undefined, { service: "7" }), ctx) // prints "service: echo = 7/tcp"`
 */
export async function runInfo(plan: InfoPlan, ctx: Context): Promise<number> {
  const asked = plan.name !== undefined || plan.service !== undefined;
  const report: Record<string, unknown> = asked ? {} : { hostname: gethostname() };
  const ifaces: Array<{
    name: string;
    family: string;
    address: string;
    cidr: string | null;
    internal: boolean;
  }> = [];
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const i of list ?? [])
      ifaces.push({ name, family: i.family, address: i.address, cidr: i.cidr, internal: i.internal });
  }
  if (!asked) report.interfaces = ifaces;
  if (plan.name !== undefined) {
    const infos = await getaddrinfo(plan.name, null, 0, 0);
    report.getaddrinfo = infos.map(([family, type, proto, , sockaddr]) => ({
      family: familyName(family),
      type: typeName(type),
      proto,
      address: sockaddr[0],
    }));
  }
  if (plan.service !== undefined) {
    report.service =
      "byPort" in plan.service
        ? {
            port: plan.service.byPort,
            proto: plan.proto,
            name: getservbyport(plan.service.byPort, plan.proto),
          }
        : {
            name: plan.service.byName,
            proto: plan.proto,
            port: getservbyname(plan.service.byName, plan.proto),
          };
  }
  const out = ctx.io.stdout;
  if (ctx.opts.json) {
    out.write(`${JSON.stringify(report)}\n`);
    return 0;
  }
  if (!asked) {
    out.write(`hostname: ${report.hostname as string}\n`);
    out.write("interfaces:\n");
    for (const i of ifaces)
      out.write(
        `  ${i.name.padEnd(10)} ${i.family.padEnd(5)} ${i.cidr ?? i.address}${i.internal ? "  (loopback)" : ""}\n`,
      );
  }
  if (report.getaddrinfo) {
    out.write(`getaddrinfo(${JSON.stringify(plan.name)}):\n`);
    for (const a of report.getaddrinfo as Array<Record<string, unknown>>) {
      out.write(
        `  ${String(a.family).padEnd(9)} ${String(a.type).padEnd(12)} proto ${String(a.proto).padEnd(3)} ${String(a.address)}\n`,
      );
    }
  }
  if (report.service) {
    const s = report.service as { name: string; port: number; proto: string };
    out.write(`service: ${s.name} = ${s.port}/${s.proto}\n`);
  }
  return 0;
}

/** Adds `info` to the program. */
export function register(program: Command, reg: CommandRegistry): void {
  const cmd = addGlobalOptions(program.command("info"), { json: true })
    .description("show this host's name and interfaces, resolve a NAME, look up a service")
    .argument("[name]", "a host name or address to resolve with getaddrinfo")
    .option("-s, --service <name|port>", "look up a service: a name (http) or a port number (80)")
    .option("--proto <tcp|udp>", "protocol for --service", "tcp")
    .option(
      "--tls <host:port>",
      "connect with TLS and show the protocol, cipher, verification and certificate chain",
    )
    .option("--ca <file>", "with --tls: also trust the CA certificate(s) in FILE")
    .option("--servername <name>", "with --tls: the name to send (SNI) and check")
    .addHelpText(
      "after",
      `
Examples:
  sockit info                      hostname and interfaces
  sockit info localhost            what localhost resolves to (only that)
  sockit info --service http       http = 80/tcp (only that)
  sockit info --service 53 --proto udp
  sockit info --json localhost     the same as one JSON object
  sockit info --tls localhost:443  the TLS protocol, cipher and certificate chain`,
    );
  cmd.action(
    (
      name: string | undefined,
      opts: { service?: string; proto?: string; tls?: string; ca?: string; servername?: string },
    ) => {
      if (opts.tls !== undefined) {
        if (name !== undefined || opts.service !== undefined)
          throw new UsageError("--tls HOST:PORT goes alone (no NAME, no --service)");
        const target = opts.tls;
        reg.choose(cmd, (ctx) =>
          runTLSInfo(
            target,
            {
              ...(opts.ca === undefined ? {} : { ca: opts.ca }),
              ...(opts.servername === undefined ? {} : { servername: opts.servername }),
            },
            ctx,
          ),
        );
        return;
      }
      if (opts.ca !== undefined || opts.servername !== undefined)
        throw new UsageError("--ca and --servername need --tls HOST:PORT");
      reg.choose(cmd, (ctx) => runInfo(planInfo(name, opts), ctx));
    },
  );
}
