/**
 * A second, slow link between the two namespaces of a {@link NetnsPair}: a pair of TUN devices
 * joined by support/tun-delay.py, a small userspace forwarder that holds every packet for a fixed
 * time (the kernel here has no netem, so `tc qdisc … netem` is not an option). The client
 * namespace gets 198.18.0.1 and the server namespace 198.18.0.2 on point-to-point addresses, so
 * traffic between those two addresses goes through the forwarder while the veth addresses of the
 * pair stay fast. While the link exists the root namespace has an `unreachable` route for
 * 198.18.0.0/24 (benchmarking range), so nothing addressed there by mistake leaves the machine.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { NetnsPair } from "./netns.js";
import { type Child, start } from "./spawn.js";

/** The forwarder, in the source tree (the build does not copy .py files). */
const SCRIPT = fileURLToPath(new URL("../../../test/support/tun-delay.py", import.meta.url));
const NET = "198.18.0.0/24";
const RUN_MS = 10_000;

/**
 * What tun-delay.py counted in one direction: packets read, written, dropped by the loss draw,
 * dropped by the queue bound, refused by a device that was down, and bytes written.
 * @example `assert.ok(stats.ab.tx > 30_000)`
 */
export interface DirectionStats {
  rx: number;
  tx: number;
  lost: number;
  full: number;
  down: number;
  bytes: number;
}

/**
 * How to shape the link.
 * @example `{ delayMs: 50, seconds: 200 }` — 50 ms client → server, nothing back
 */
export interface DelayLinkOptions {
  /** One-way delay client → server, in ms. */
  delayMs: number;
  /** One-way delay server → client, in ms (default 0). */
  backMs?: number;
  /** Percent of packets dropped in each direction (default 0), drawn from `seed` (default 1). */
  lossPct?: number;
  seed?: number;
  /** Packets queued per direction at most (default 20000). */
  limit?: number;
  /** The forwarder exits after this long at most (a bound should a test die without cleanup). */
  seconds: number;
}

/**
 * A running delay link; `stop()` ends the forwarder and returns its counters, `close()` also
 * removes the guard route. Both are safe to call more than once.
 * @example
 * ```ts
 * const link = await delayLink(pair, { delayMs: 50, seconds: 60 });
 * try { … connect to link.serverV4 from pair.client … } finally { await link.close(); }
 * ```
 */
export interface DelayLink {
  readonly clientV4: "198.18.0.1";
  readonly serverV4: "198.18.0.2";
  /** The round trip measured as Python sees it: a connect to a closed port (SYN, RST), in ms. */
  rttMs(): number;
  stop(): Promise<{ ab: DirectionStats; ba: DirectionStats }>;
  close(): Promise<void>;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", timeout: RUN_MS, stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * Starts tun-delay.py between `pair.client` (device A) and `pair.server` (device B), waits for it
 * to say `ready`, then gives the devices their addresses. Throws (after tearing down what it
 * started) when any step fails. Device names carry the process id: parallel files do not collide.
 * @example `const link = await delayLink(pair, { delayMs: 50, seconds: 200 });`
 */
export async function delayLink(pair: NetnsPair, o: DelayLinkOptions): Promise<DelayLink> {
  const tag = `sk${process.pid}`;
  const [devA, devB] = [`${tag}ta`, `${tag}tb`];
  const guarded = run("ip", ["-4", "route", "show", "type", "unreachable", NET]).trim() === "";
  if (guarded) run("ip", ["-4", "route", "add", "unreachable", NET]);
  let tun: Child | undefined;
  let result: { ab: DirectionStats; ba: DirectionStats } | undefined;
  const stop = async () => {
    if (result !== undefined) return result;
    if (tun === undefined) throw new Error("tun-delay.py never started");
    tun.kill("SIGTERM");
    try {
      await tun.exit(RUN_MS);
    } catch {
      tun.kill("SIGKILL");
    }
    const line = /^\{"stats".*\}$/m.exec(tun.stdout())?.[0];
    if (line === undefined)
      throw new Error(`tun-delay.py printed no stats: ${tun.stdout()} ${tun.stderr()}`.trim());
    result = (JSON.parse(line) as { stats: { ab: DirectionStats; ba: DirectionStats } }).stats;
    return result;
  };
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await stop().catch(() => {});
    if (guarded) spawnSync("ip", ["-4", "route", "del", "unreachable", NET], { stdio: "ignore" });
  };
  try {
    tun = start("python3", [
      SCRIPT,
      "--ns-a",
      pair.client,
      "--ns-b",
      pair.server,
      "--dev-a",
      devA,
      "--dev-b",
      devB,
      "--delay",
      String(o.delayMs),
      "--delay-back",
      String(o.backMs ?? 0),
      "--loss",
      String(o.lossPct ?? 0),
      "--seed",
      String(o.seed ?? 1),
      "--limit",
      String(o.limit ?? 20_000),
      "--seconds",
      String(o.seconds),
    ]);
    await tun.line(/^ready$/m, RUN_MS);
    for (const [ns, dev, local, peer] of [
      [pair.client, devA, "198.18.0.1", "198.18.0.2"],
      [pair.server, devB, "198.18.0.2", "198.18.0.1"],
    ] as const) {
      run("ip", ["-n", ns, "addr", "add", local, "peer", peer, "dev", dev]);
      run("ip", ["-n", ns, "link", "set", dev, "txqueuelen", "5000", "up"]);
    }
  } catch (err) {
    const why = tun === undefined ? "" : ` (tun-delay.py: ${tun.stderr().trim()})`;
    await close();
    throw new Error(`${(err as Error).message}${why}`, { cause: err });
  }
  return {
    clientV4: "198.18.0.1",
    serverV4: "198.18.0.2",
    rttMs: () => {
      const probe = spawnSync(
        "ip",
        [
          "netns",
          "exec",
          pair.client,
          "python3",
          "-c",
          "import socket,time\ns=socket.socket()\ns.settimeout(5)\nt=time.monotonic()\n" +
            "s.connect_ex(('198.18.0.2',9))\nprint((time.monotonic()-t)*1000)\ns.close()",
        ],
        { encoding: "utf8", timeout: RUN_MS },
      );
      const ms = Number(probe.stdout.trim());
      if (probe.status !== 0 || !Number.isFinite(ms)) throw new Error(`rtt probe failed: ${probe.stderr}`);
      return ms;
    },
    stop,
    close,
  };
}
