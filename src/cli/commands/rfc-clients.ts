/**
 * `sockit echo|daytime|time|qotd|chargen HOST[:PORT]`: clients of the classic services, over TCP
 * or (-u) UDP. PORT defaults to the service's well-known port (7, 13, 37, 17, 19); `sockit serve`
 * listens on 7000 + that port, so `sockit echo 127.0.0.1:7007` talks to it.
 *
 * @module
 */
import type { Command } from "commander";
import { formatHostPort } from "../../addr/address.js";
import { chargen, daytime, echo, qotd, time } from "../../services/rfc/client.js";
import { type ServiceName, WELL_KNOWN_PORTS } from "../../services/rfc/limits.js";
import { formatDaytime } from "../../services/rfc/protocol.js";
import type { Context } from "../context.js";
import { UsageError } from "../exit.js";
import { addGlobalOptions } from "../globals.js";
import { dumpCalls } from "../output/hexdump.js";
import { writeAll } from "../pump.js";
import { parseHostPort } from "../session/address.js";
import { withStop } from "../session/stop.js";
import type { CommandRegistry } from "./registry.js";

/** The services with a client command. */
export type ClientService = Exclude<ServiceName, "discard">;

/** What a client command will do. */
export interface ClientPlan {
  readonly service: ClientService;
  /** `host:port` for dial (IPv6 in brackets). */
  readonly address: string;
  readonly udp: boolean;
  readonly timeoutMs: number;
  /** echo: the bytes to send. */
  readonly message: Buffer;
  /** echo: how many round trips. */
  readonly count: number;
  /** chargen: lines to read (0: until the server closes). */
  readonly lines: number;
}

/** The raw options as commander hands them over. */
export interface ClientOptions {
  udp?: boolean;
  wait?: string;
  count?: string;
  lines?: string;
}

/**
 * Splits `HOST[:PORT]` (`127.0.0.1:7007`, `[::1]:7007`, `::1`, `localhost`) into a dial address,
 * using `defaultPort` when there is no port (pure; throws UsageError).
 *
 * @example `targetAddress("::1", 7) // "[::1]:7"`
 */
export function targetAddress(target: string, defaultPort: number): string {
  const { host, port } = parseHostPort(target, { defaultPort, what: "port" });
  return formatHostPort(host, port);
}

function int(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${flag} must be an integer ${min}..${max}, got ${text}`);
  }
  return Number(text);
}

/**
 * Turns the arguments into a plan (pure; throws UsageError).
 *
 * @example `planClient("echo", "127.0.0.1:7007", ["hi"], {}).message.toString() // "hi\n"`
 */
export function planClient(
  service: ClientService,
  target: string,
  words: readonly string[],
  opts: ClientOptions,
): ClientPlan {
  const wait = opts.wait ?? "5";
  if (!/^\d+(\.\d+)?$/.test(wait) || Number(wait) <= 0 || Number(wait) > 3600) {
    throw new UsageError(`-w must be seconds in (0, 3600], got ${wait}`);
  }
  if (words.length > 0 && service !== "echo") throw new UsageError(`${service} takes no message`);
  const message = Buffer.from(`${words.length > 0 ? words.join(" ") : "hello from sockit"}\n`);
  if (opts.udp && message.length > 65507) throw new UsageError("the message is too large for one datagram");
  return {
    service,
    address: targetAddress(target, WELL_KNOWN_PORTS[service]),
    udp: opts.udp === true,
    timeoutMs: Number(wait) * 1000,
    message,
    count: int("-c", opts.count ?? "1", 1, 1_000_000),
    lines: int("-n", opts.lines ?? "10", 0, 1_000_000_000),
  };
}

function secs(ms: number): string {
  const s = ms / 1000;
  return `${s >= 0 ? "+" : "-"}${Math.abs(s).toFixed(Math.abs(s) < 10 ? 3 : 1)} s`;
}

/**
 * Runs the client; prints the reply to stdout (with -v: round-trip times and facts; with -x:
 * every byte on the wire); resolves the exit code. Output goes the way of every command's: a
 * reader that goes away (`| head -1`) ends it quietly with exit 0, as does Ctrl-C.
 *
 * @example `await runClient(planClient("daytime", "127.0.0.1:7013", [], {}), ctx) // 0`
 */
export function runClient(plan: ClientPlan, ctx: Context): Promise<number> {
  return withStop(ctx, async (signal) => {
    const stopDump = ctx.opts.hexdump
      ? dumpCalls((fd) => ctx.dumper(plan.udp ? `udp fd ${fd}` : `fd ${fd}`)!)
      : undefined;
    try {
      return await ask(plan, ctx, signal);
    } catch (err) {
      // stopped: Ctrl-C, or stdout closed under us (withStop tells a real stdout failure)
      if (signal.aborted) return 0;
      throw err;
    } finally {
      stopDump?.();
    }
  });
}

function ms(t0: number): string {
  return `${(performance.now() - t0).toFixed(2)} ms`;
}

async function ask(plan: ClientPlan, ctx: Context, signal: AbortSignal): Promise<number> {
  const out = ctx.io.stdout;
  const copts = { udp: plan.udp, timeout: plan.timeoutMs, signal };
  const json = ctx.opts.json;
  const emit = (o: unknown) => writeAll(out, Buffer.from(`${JSON.stringify(o)}\n`));
  const via = plan.udp ? "UDP" : "TCP";
  switch (plan.service) {
    case "echo": {
      const rtts: number[] = [];
      for (let i = 0; i < plan.count; i++) {
        const r = await echo(plan.address, plan.message, copts);
        if (!r.intact) {
          throw new Error(
            `echo ${plan.address}: the reply differs from what was sent (sent ${plan.message.length} bytes, got ${r.reply.length}: ${JSON.stringify(r.reply.toString("latin1").slice(0, 200))})`,
          );
        }
        rtts.push(r.rttMs);
        if (!json) await writeAll(out, r.reply);
        ctx.info(`${r.reply.length} bytes back intact in ${r.rttMs.toFixed(2)} ms (${via} ${plan.address})`);
      }
      if (json) await emit({ address: plan.address, bytes: plan.message.length, intact: true, rttMs: rtts });
      return 0;
    }
    case "daytime":
    case "qotd": {
      const t0 = performance.now();
      const text = await (plan.service === "daytime" ? daytime : qotd)(plan.address, copts);
      ctx.info(`${Buffer.byteLength(text, "latin1")} bytes from ${via} ${plan.address} in ${ms(t0)}`);
      if (json) await emit({ address: plan.address, text: text.replace(/\r\n/g, "\n").replace(/\n$/, "") });
      else await writeAll(out, Buffer.from(`${text.replace(/\r\n/g, "\n").replace(/\n?$/, "\n")}`));
      return 0;
    }
    case "time": {
      const t0 = performance.now();
      const t = await time(plan.address, copts);
      ctx.info(`${t.bytes} bytes from ${via} ${plan.address} in ${ms(t0)}`);
      if (t.bytes === 8) ctx.info("the server sent 8 bytes (a 64-bit inetd quirk); read as RFC 868 time");
      if (json) {
        await emit({
          address: plan.address,
          time: t.date.toISOString(),
          seconds1900: t.seconds1900,
          offsetSeconds: t.offsetMs / 1000,
          bytes: t.bytes,
        });
      } else {
        const when = formatDaytime(t.date).trimEnd();
        await writeAll(out, Buffer.from(`${when}  offset ${secs(t.offsetMs)} to the local clock (±0.5 s)\n`));
      }
      return 0;
    }
    case "chargen": {
      const t0 = performance.now();
      const r = await chargen(plan.address, {
        ...copts,
        lines: plan.lines,
        ...(json ? {} : { onLine: (l: Buffer) => writeAll(out, Buffer.concat([l, Buffer.from("\n")])) }),
      });
      if (json) await emit({ address: plan.address, ...r });
      ctx.info(`${r.lines} lines, ${r.bytes} bytes from ${via} ${plan.address} in ${ms(t0)}`);
      if (r.badLines > 0) ctx.warn(`${r.badLines} of ${r.lines} lines are not chargen lines`);
      else {
        const exact = r.rfcLines === r.lines ? "all" : `${r.rfcLines} of ${r.lines}`;
        ctx.info(
          `every line is a chargen line; ${exact} exactly as RFC 864 (72 of the 95 printable characters)`,
        );
      }
      if (r.outOfSequence > 0)
        ctx.info(`${r.outOfSequence} lines do not start one character after the line before`);
      return 0;
    }
  }
}

const HELP: Record<ClientService, { what: string; examples: string }> = {
  echo: {
    what: "send a message to an echo server (RFC 862) and check it comes back intact",
    examples: `  sockit echo 127.0.0.1:7007                 prints "hello from sockit"
  sockit echo 127.0.0.1:7007 ping -c 5       five round trips (-v: the time of each)
  sockit echo -u 127.0.0.1:7007 over udp     one datagram each way`,
  },
  daytime: {
    what: "print a daytime server's date and time (RFC 867)",
    examples: `  sockit daytime 127.0.0.1:7013
  sockit daytime -u 127.0.0.1:7013`,
  },
  time: {
    what: "ask a time server (RFC 868) and print its time and the offset to the local clock",
    examples: `  sockit time 127.0.0.1:7037                 Sun Nov 22 00:36:17 2026 UTC  offset +0.142 s ...
  sockit time -u 127.0.0.1:7037
  sockit time --json 127.0.0.1:7037`,
  },
  qotd: {
    what: "print a quote of the day (RFC 865)",
    examples: `  sockit qotd 127.0.0.1:7017`,
  },
  chargen: {
    what: "print lines from a character generator (RFC 864) and check their pattern",
    examples: `  sockit chargen 127.0.0.1:7019              10 lines
  sockit chargen -n 0 127.0.0.1:7019         until the server stops (Ctrl-C)
  sockit -v chargen -u 127.0.0.1:7019        one line by UDP, and whether it follows the pattern`,
  },
};

/** Adds the five client commands to the program. */
export function register(program: Command, reg: CommandRegistry): void {
  for (const service of ["echo", "daytime", "time", "qotd", "chargen"] as const) {
    const cmd = addGlobalOptions(program.command(service), { json: true })
      .description(HELP[service].what)
      .argument(
        "<host[:port]>",
        `the server (port default ${WELL_KNOWN_PORTS[service]}; sockit serve uses ${7000 + WELL_KNOWN_PORTS[service]})`,
      )
      .option("-u, --udp", "use UDP (one datagram each way)")
      .option("-w, --wait <seconds>", "give up after this long: connecting, and each reply", "5");
    if (service === "echo") {
      cmd.argument("[message...]", 'the text to send (a newline is added; default "hello from sockit")');
      cmd.option("-c, --count <n>", "round trips", "1");
    }
    if (service === "chargen")
      cmd.option("-n, --lines <n>", "lines to read over TCP (0: until the server closes)", "10");
    cmd.addHelpText("after", `\nExamples:\n${HELP[service].examples}`);
    cmd.action((target: string, ...rest: unknown[]) => {
      const words = service === "echo" ? (rest[0] as string[]) : [];
      const opts = (service === "echo" ? rest[1] : rest[0]) as ClientOptions;
      reg.choose(cmd, (ctx) => runClient(planClient(service, target, words, opts), ctx));
    });
  }
}
