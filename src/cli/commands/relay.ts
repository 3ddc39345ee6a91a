/**
 * `sockit relay ADDR1 ADDR2`: a socat-style relay between two endpoints (TCP, UDP, Unix, stdio, a
 * child process). Without `,fork` a listening address accepts one connection and the command
 * ends when that relay is done; with `,fork` every accepted connection gets its own relay to a
 * fresh instance of the other address, until SIGINT/SIGTERM.
 *
 * @module
 */
import type { Command } from "commander";
import type { Context } from "../context.js";
import { UsageError } from "../exit.js";
import { addGlobalOptions } from "../globals.js";
import { planRelay, type RelayPlan } from "../relay/address.js";
import { type Opener, prepare, type RelayStream } from "../relay/endpoints.js";
import { passedOn, summary } from "../relay/report.js";
import { type SpliceResult, splice } from "../session/splice.js";
import { onSignals, type StopSignal, signalExitCode } from "../session/stop.js";
import type { CommandRegistry } from "./registry.js";

/** Default linger for datagram sources after the other direction ended (socat's -t), seconds. */
export const DEFAULT_LINGER_S = 0.5;

/** What `relay` will do. */
export interface RelayCommandPlan extends RelayPlan {
  /** -t: linger for datagram sources, ms. */
  readonly lingerMs: number;
  /** -T: idle timeout, ms (undefined: none). */
  readonly idleMs: number | undefined;
}

function seconds(flag: string, text: string | undefined, positive: boolean): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(n) || n > 86_400 || (positive && n <= 0)) {
    throw new UsageError(`${flag} must be a number of seconds${positive ? " above 0" : ""}, got ${text}`);
  }
  return Math.round(n * 1000);
}

/**
 * Turns the arguments into a plan (pure; throws UsageError).
 * @example `planRelayCommand("tcp-listen:0,fork", "tcp:127.0.0.1:7", {}).forkSide // 0`
 */
export function planRelayCommand(
  addr1: string,
  addr2: string,
  opts: { linger?: string; idleTimeout?: string },
): RelayCommandPlan {
  const plan = planRelay(addr1, addr2);
  return {
    ...plan,
    lingerMs: seconds("-t", opts.linger, false) ?? DEFAULT_LINGER_S * 1000,
    idleMs: seconds("-T", opts.idleTimeout, true),
  };
}

/** Runs the relay; resolves the exit code (128 + signal number when stopped by a signal). */
export async function runRelay(plan: RelayCommandPlan, ctx: Context): Promise<number> {
  const ac = new AbortController();
  let signalled: StopSignal | undefined;
  // every signal is taken (a second one does not kill the relay half-way through closing)
  const offSignals = onSignals((sig) => {
    signalled ??= sig;
    ac.abort();
  });
  const openers: Opener[] = [];
  let nextId = 1;
  const relay = async (s1: RelayStream, s2: RelayStream): Promise<SpliceResult> => {
    const id = nextId++;
    ctx.info(`relay ${id}: ${s1.label} ↔ ${s2.label}`);
    // datagram sources never see EOF: once the other direction ended, -t of silence ends them
    const r = await splice(s1, s2, {
      directions: [
        { silenceMs: s1.datagram ? plan.lingerMs : undefined },
        { silenceMs: s2.datagram ? plan.lingerMs : undefined },
      ],
      idleMs: plan.idleMs,
      signal: ac.signal,
      dump: ctx.dumper(`relay ${id}`),
    });
    const passed = passedOn(id, r, [s1, s2]);
    if (passed !== undefined) ctx.info(passed);
    ctx.info(summary(id, r));
    return r;
  };
  try {
    openers.push(await prepare(plan.first, ctx), await prepare(plan.second, ctx));
    const [o1, o2] = openers as [Opener, Opener];
    if (plan.forkSide === undefined) {
      const s1 = await o1.next(ac.signal);
      await o1.close(); // one connection only: stop listening
      let s2: RelayStream;
      try {
        s2 = await o2.next(ac.signal);
        await o2.close();
      } catch (err) {
        s1.abort();
        ctx.info(unopened(s1));
        throw err;
      }
      const r = await relay(s1, s2);
      if (r.status === "failed") throw r.error;
    } else {
      await serveForked(
        plan.forkSide === 0 ? o1 : o2,
        plan.forkSide === 0 ? o2 : o1,
        plan.forkSide,
        relay,
        ac,
        ctx,
      );
    }
  } catch (err) {
    if (!signalled) throw err;
  } finally {
    offSignals();
    await Promise.allSettled(openers.map((o) => o.close()));
  }
  return signalled === undefined ? 0 : signalExitCode(signalled);
}

/**
 * What happens to an accepted stream whose other side could not be opened (it is aborted):
 * `127.0.0.1:51514 gets a reset: the other address could not be opened`.
 */
function unopened(s: RelayStream): string {
  return `${s.label} ${s.abortResets ? "gets a reset" : "is closed"}: the other address could not be opened`;
}

/** `,fork`: accept until stopped; each connection is relayed to a fresh instance of the other side. */
async function serveForked(
  acceptor: Opener,
  other: Opener,
  side: 0 | 1,
  relay: (s1: RelayStream, s2: RelayStream) => Promise<SpliceResult>,
  ac: AbortController,
  ctx: Context,
): Promise<void> {
  const tasks = new Set<Promise<void>>();
  try {
    while (!ac.signal.aborted) {
      const accepted = await acceptor.next(ac.signal);
      const task = (async () => {
        let peer: RelayStream;
        try {
          peer = await other.next(ac.signal);
        } catch (err) {
          accepted.abort();
          if (!ac.signal.aborted)
            ctx.warn(`${unopened(accepted)}: ${err instanceof Error ? err.message : String(err)}`);
          return;
        }
        const r = side === 0 ? await relay(accepted, peer) : await relay(peer, accepted);
        if (r.status === "failed" && !ctx.opts.verbose) {
          ctx.warn(r.error instanceof Error ? r.error.message : String(r.error));
        }
      })();
      tasks.add(task);
      void task.finally(() => tasks.delete(task));
    }
  } finally {
    await Promise.allSettled([...tasks]);
  }
}

/** Adds `relay` to the program. */
export function register(program: Command, reg: CommandRegistry): void {
  const cmd = addGlobalOptions(program.command("relay"))
    .description("relay bytes between two addresses, socat style (half-close propagated both ways)")
    .argument("<addr1>", "first address (see the forms below)")
    .argument("<addr2>", "second address")
    .option(
      "-t, --linger <secs>",
      `after one direction ends, how long a UDP side may stay silent before the relay ends (default ${DEFAULT_LINGER_S})`,
    )
    .option("-T, --idle-timeout <secs>", "end a relay after this long without data in either direction")
    .addHelpText(
      "after",
      `
Addresses:
  tcp:HOST:PORT                    connect (tcp4:, tcp6:; IPv6 in brackets: tcp:[::1]:80)
  tls:HOST:PORT[,cafile=F,servername=N,verify=0]   connect with TLS (socat's OPENSSL:)
  tls-listen:[HOST:]PORT,cert=F,key=F[,fork]       accept TLS (socat's OPENSSL-LISTEN:)
  tcp-listen:[HOST:]PORT[,fork]    accept one connection (,fork: every connection, each to a
                                   fresh instance of the other address); port 0 picks a free
                                   port and prints "sockit: listening on HOST:PORT"
  udp:HOST:PORT                    send datagrams to HOST:PORT, receive its replies
  udp-listen:[HOST:]PORT           receive datagrams; replies go to the last sender
  unix:PATH                        connect to a Unix stream socket
  unix-listen:PATH[,fork]          accept on a Unix stream socket (the path is removed at exit)
  stdio, -                         stdin and stdout
  exec:CMD                         run CMD (split like a shell, no shell): its stdin and stdout

UDP with a stream: each datagram's bytes are written to the stream; bytes read from the stream
go back as datagrams (at most 65507 bytes each) to the last sender.
-v prints per relay: "sockit: relay 1: 1234 bytes →, 567 bytes ←, closed" (→ is ADDR1 to ADDR2).
A reset (or other failure) on one side aborts the other: a TCP peer there gets a reset, not a
FIN; so does an accepted client whose other address cannot be opened (e.g. refused).

Examples:
  sockit relay tcp-listen:8080,fork tcp:127.0.0.1:80     a port forwarder
  sockit relay unix-listen:/tmp/db.sock tcp:db.test:5432  Unix socket to TCP
  sockit relay - tcp:[::1]:7                               like nc ::1 7
  sockit relay tcp-listen:0 exec:'tr a-z A-Z'              serve one client with a command
  sockit relay -T 30 udp-listen:5353 udp:127.0.0.1:53      a UDP forwarder that ends when idle`,
    );
  cmd.action((addr1: string, addr2: string, opts: { linger?: string; idleTimeout?: string }) => {
    reg.choose(cmd, (ctx) => runRelay(planRelayCommand(addr1, addr2, opts), ctx));
  });
}
