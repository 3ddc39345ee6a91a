/**
 * Figure `udp-recv`: UDP receive rate, datagrams delivered to the application per second, and the
 * loss, for 64-byte datagrams sent at a fixed pace by a raw Node sender in a forked peer
 * (bench/udp-peer.ts), so only the receiver differs:
 *
 * - `raw`: raw Node dgram, a 'message' listener counting datagrams.
 * - `sockit`: Berkeley face, `const [d] = await s.recvfrom(2048)` in a loop.
 *
 * Two parts, both interleaved (raw, sockit, raw, sockit…):
 *
 * 1. **At pace** (the ratio): `BENCH_UDP_N` datagrams (default 20 000) per run at
 *    `BENCH_UDP_PACE` datagrams/s (default 20 000, a pace raw Node keeps with zero loss), one
 *    warm-up round and `BENCH_RUNS` (8) recorded runs. Delivered rate = datagrams received /
 *    time from the first to the last one; also the loss and the receiver's CPU time per
 *    datagram (at a pace both keep, the rates are equal and CPU is where a cost shows).
 * 2. **Highest lossless pace**: paces from `BENCH_UDP_PACES` (comma list, default 40k…400k),
 *    half a second of datagrams per run, 3 runs per variant per pace; a variant keeps a pace when
 *    the median loss of its runs is 0, and drops out of the search at its first pace it does not
 *    keep. The search ends when both have dropped out, when the sender itself cannot reach the
 *    pace, or after 40 s of the figure (bounded). `maxPaceRatio` = sockit's / raw's highest kept
 *    pace.
 * 3. **Flood** (`flood`): `BENCH_UDP_FLOOD_N` datagrams (150 000) sent as fast as the sender
 *    can, 3 runs per variant: the delivered rate is then the receiver's capacity (both lose many
 *    datagrams), `flood.ratio` = sockit / raw.
 *
 * Run: `npm run build && node build/bench/udp-recv.js`.
 *
 * @module
 */
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import { AF_INET, SOCK_DGRAM, socket } from "../src/bsd/index.js";
import { emit, HOST, interleave, main, median, nowMs, Peer, round, withTimeout } from "./lib.js";

const FIGURE = "udp-recv";
const SIZE = 64;
const num = (v: string | undefined, d: number): number => Math.max(1, Number(v ?? d) || d);
const N = num(process.env.BENCH_UDP_N, 20_000);
const PACE = num(process.env.BENCH_UDP_PACE, 20_000);
const PACES = (
  process.env.BENCH_UDP_PACES ?? "40000,60000,80000,100000,120000,160000,200000,250000,300000,400000"
)
  .split(",")
  .map(Number)
  .filter((p) => p > 0);
const SEARCH_RUNS = 3;
const SEARCH_SECONDS = 0.5;
const BUDGET_MS = 40_000; // the search stops here; main()'s watchdog is at 58 s
const FLOOD_N = num(process.env.BENCH_UDP_FLOOD_N, 150_000);
const FLOOD_PACE = 2_000_000; // more than the sender can reach: it sends as fast as it can
const FLOOD_RUNS = 3;

type Kind = "raw" | "sockit";

/** What one receiver run saw. */
interface RecvRun {
  readonly sent: number;
  readonly received: number;
  /** First to last datagram, ms. */
  readonly spanMs: number;
  /** The sender's own time to hand every datagram to the kernel, ms. */
  readonly sendMs: number;
  /** Receiver process CPU (user + system), ms. */
  readonly cpuMs: number;
  /** Dropped by sockit's bounded receive queue (0 for raw). */
  readonly queueDrops: number;
  /** Increase of the kernel's UDP RcvbufErrors counter during the run (all sockets). */
  readonly kernelDrops: number | undefined;
}

/** Linux's UDP RcvbufErrors counter (receive buffer full), or undefined where unreadable. */
function rcvbufErrors(): number | undefined {
  try {
    const lines = readFileSync("/proc/net/snmp", "utf8")
      .split("\n")
      .filter((l) => l.startsWith("Udp:"));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const i = names.indexOf("RcvbufErrors");
    return i < 0 ? undefined : Number(values[i]);
  } catch {
    return undefined;
  }
}

/** A receiver under test: bound, counting, stopped on request. */
interface Receiver {
  readonly port: number;
  count: number;
  first: number;
  last: number;
  /** Stops receiving; resolves sockit's queue drops. */
  stop(): Promise<number>;
}

async function rawReceiver(): Promise<Receiver> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.bind(0, HOST, () => {
      s.off("error", reject);
      resolve();
    });
  });
  let bad = 0;
  const r: Receiver = {
    port: s.address().port,
    count: 0,
    first: 0,
    last: 0,
    async stop() {
      await new Promise<void>((resolve) => s.close(() => resolve()));
      if (bad > 0) throw new Error(`raw: ${bad} datagrams of the wrong size`);
      return 0;
    },
  };
  s.on("message", (m: Buffer) => {
    if (m.length !== SIZE) bad++;
    const t = nowMs();
    if (r.count++ === 0) r.first = t;
    r.last = t;
  });
  return r;
}

async function sockitReceiver(): Promise<Receiver> {
  const s = socket(AF_INET, SOCK_DGRAM);
  await s.bind([HOST, 0]);
  let closing = false;
  let failure: unknown;
  const r: Receiver = {
    port: (s.getsockname() as [string, number])[1],
    count: 0,
    first: 0,
    last: 0,
    async stop() {
      const drops = s.drops;
      closing = true;
      await s.close();
      await loop;
      if (failure !== undefined) throw failure;
      return drops;
    },
  };
  const loop = (async () => {
    try {
      for (;;) {
        const [d] = await s.recvfrom(2048);
        if (d.length !== SIZE) throw new Error(`sockit: ${d.length}-byte datagram`);
        const t = nowMs();
        if (r.count++ === 0) r.first = t;
        r.last = t;
      }
    } catch (err) {
      if (!closing) failure = err; // EBADF after close() is the normal end
    }
  })();
  return r;
}

/** One run: the peer sends `count` datagrams at `pace`; the receiver counts what arrives. */
async function run(peer: Peer, kind: Kind, count: number, pace: number): Promise<RecvRun> {
  const r = kind === "raw" ? await rawReceiver() : await sockitReceiver();
  const k0 = rcvbufErrors();
  const c0 = process.cpuUsage();
  const reply = await peer.request(
    { cmd: "udp-send", port: r.port, count, size: SIZE, pace },
    10_000 + (count / pace) * 2000,
  );
  // whatever is still in flight arrives within a few ms; stop after 100 ms without progress
  const t0 = nowMs();
  let seen = -1;
  while (r.count < count && r.count !== seen && nowMs() - t0 < 2000) {
    seen = r.count;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const cpu = process.cpuUsage(c0);
  const k1 = rcvbufErrors();
  const queueDrops = await withTimeout(r.stop(), 5000, `${kind} receiver stop`);
  return {
    sent: Number(reply.sent),
    received: r.count,
    spanMs: r.last - r.first,
    sendMs: Number(reply.ms),
    cpuMs: (cpu.user + cpu.system) / 1000,
    queueDrops,
    kernelDrops: k0 === undefined || k1 === undefined ? undefined : k1 - k0,
  };
}

const rate = (x: RecvRun): number => x.received / (x.spanMs / 1000);
const lost = (x: RecvRun): number => x.sent - x.received;

/** One pace of the search: 3 runs of each still-searching kind, interleaved. */
async function searchPace(peer: Peer, kinds: readonly Kind[], pace: number) {
  const count = Math.max(10_000, Math.round(pace * SEARCH_SECONDS));
  const runs: Record<Kind, RecvRun[]> = { raw: [], sockit: [] };
  for (let i = 0; i < SEARCH_RUNS; i++) for (const k of kinds) runs[k].push(await run(peer, k, count, pace));
  const sendRate = median(Object.values(runs).flatMap((rs) => rs.map((x) => x.sent / (x.sendMs / 1000))));
  return { count, runs, sendRate };
}

main(FIGURE, async () => {
  const started = nowMs();
  const peer = Peer.start("udp-peer.js");
  try {
    // part 1: at pace
    const all: Record<Kind, RecvRun[]> = { raw: [], sockit: [] };
    const one = (k: Kind) => async () => {
      const x = await run(peer, k, N, PACE);
      all[k].push(x);
      return rate(x);
    };
    const samples = await interleave({ raw: one("raw"), sockit: one("sockit") });
    const at = { raw: all.raw.slice(1), sockit: all.sockit.slice(1) }; // without the warm-up
    const cpuUs = (k: Kind) => median(at[k].map((x) => (x.cpuMs * 1000) / x.received));
    const sum = (xs: readonly RecvRun[], f: (x: RecvRun) => number | undefined) =>
      xs.reduce((n, x) => n + (f(x) ?? 0), 0);

    // part 2: the highest pace each keeps with zero loss
    const kept: Record<Kind, number> = {
      raw: median(at.raw.map(lost)) === 0 ? PACE : 0,
      sockit: median(at.sockit.map(lost)) === 0 ? PACE : 0,
    };
    let searching = (["raw", "sockit"] as Kind[]).filter((k) => kept[k] > 0);
    const steps: Record<string, unknown>[] = [];
    let stoppedBy = "both lost";
    for (const pace of PACES.filter((p) => p > PACE)) {
      if (searching.length === 0) break;
      if (nowMs() - started > BUDGET_MS) {
        stoppedBy = "time bound";
        break;
      }
      const s = await searchPace(peer, searching, pace);
      const step: Record<string, unknown> = { pace, count: s.count, sendRate: round(s.sendRate) };
      for (const k of searching) {
        const losses = s.runs[k].map(lost);
        step[k] = {
          lost: losses,
          rate: round(median(s.runs[k].map(rate))),
          cpuUsPerDatagram: round(median(s.runs[k].map((x) => (x.cpuMs * 1000) / x.received)), 3),
          queueDrops: sum(s.runs[k], (x) => x.queueDrops),
          kernelDrops: sum(s.runs[k], (x) => x.kernelDrops),
        };
      }
      steps.push(step);
      if (s.sendRate < pace * 0.95) {
        stoppedBy = `the sender reached only ${round(s.sendRate, 3)}/s`;
        break; // the pace is the sender's limit, not the receiver's
      }
      searching = searching.filter((k) => {
        if (median(s.runs[k].map(lost)) === 0) kept[k] = pace;
        return kept[k] === pace;
      });
      if (searching.length === 0) stoppedBy = "both lost";
      else if (pace === PACES.at(-1)) stoppedBy = "end of the pace list";
    }
    // part 3: capacity, the sender as fast as it can go (far more than either receiver keeps)
    const flood: Record<Kind, RecvRun[]> = { raw: [], sockit: [] };
    for (let i = 0; i < FLOOD_RUNS; i++)
      for (const k of ["raw", "sockit"] as const) flood[k].push(await run(peer, k, FLOOD_N, FLOOD_PACE));
    const floodRate = (k: Kind) => median(flood[k].map(rate));

    emit({
      figure: FIGURE,
      unit: "datagrams/s delivered",
      higherIsBetter: true,
      target: 0.9,
      samples,
      extra: {
        mode: "raw Node sender (forked peer) paced; receiver: sockit await recvfrom(2048) loop vs raw dgram 'message'",
        datagramBytes: SIZE,
        pace: PACE,
        datagramsPerRun: N,
        lost: { raw: sum(at.raw, lost), sockit: sum(at.sockit, lost), of: N * at.sockit.length },
        queueDrops: sum(at.sockit, (x) => x.queueDrops),
        kernelDrops: { raw: sum(at.raw, (x) => x.kernelDrops), sockit: sum(at.sockit, (x) => x.kernelDrops) },
        cpuUsPerDatagram: { raw: round(cpuUs("raw"), 3), sockit: round(cpuUs("sockit"), 3) },
        cpuRatio: round(cpuUs("sockit") / cpuUs("raw"), 3),
        maxLosslessPace: kept,
        maxPaceRatio: round(kept.sockit / kept.raw, 3),
        flood: {
          raw: round(floodRate("raw")),
          sockit: round(floodRate("sockit")),
          ratio: round(floodRate("sockit") / floodRate("raw"), 3),
          sendRate: round(median([...flood.raw, ...flood.sockit].map((x) => x.sent / (x.sendMs / 1000)))),
          lostPercent: {
            raw: round((100 * sum(flood.raw, lost)) / (FLOOD_N * FLOOD_RUNS), 3),
            sockit: round((100 * sum(flood.sockit, lost)) / (FLOOD_N * FLOOD_RUNS), 3),
          },
          queueDrops: sum(flood.sockit, (x) => x.queueDrops),
          datagramsPerRun: FLOOD_N,
          runs: FLOOD_RUNS,
        },
        search: { runsPerPace: SEARCH_RUNS, secondsPerRun: SEARCH_SECONDS, stoppedBy, steps },
      },
    });
  } finally {
    peer.stop();
  }
});
