/**
 * Figure `echo-vs-xinetd`: echo round trips per second of 64-byte messages against three echo
 * servers, each in its own process, measured in the same run by the same raw Node client:
 *
 * - `sockit`: `sockit serve echo` (the RFC 862 service with its default limits, the real CLI).
 * - `raw`: a raw Node `net` echo server ('data' → `write()`, from bench/peer.ts): the reference
 *   the ratio is taken against, as for every figure.
 * - `xinetd`: Debian xinetd's internal echo (C, one forked process per connection).
 *
 * Two shapes: one connection with one message in flight (latency-bound; the headline samples),
 * and 16 connections at once, one message in flight each (`concurrent16`, total round trips/s).
 * TCP_NODELAY on the client (the servers' own settings are their defaults). With two or more CPUs,
 * every process (and xinetd's forked children) is pinned with `taskset` (BENCH_PIN below):
 * unpinned, xinetd's figure jumped between ~25k and ~58k round trips/s from run to run depending
 * on where the scheduler put its child.
 *
 * Run: `npm run build && node build/bench/echo-vs-xinetd.js` (BENCH_RUNS, BENCH_ECHO_N override).
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import net from "node:net";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { startXinetd, type Xinetd } from "../test/support/xinetd.js";
import {
  emit,
  HOST,
  interleave,
  main,
  median,
  nowMs,
  Peer,
  round,
  type Variant,
  withTimeout,
} from "./lib.js";

const FIGURE = "echo-vs-xinetd";
const SIZE = 64;
const N = Math.max(1, Number(process.env.BENCH_ECHO_N ?? 20_000) || 20_000);
const CONNS = 16;

/** Pins process `pid` (all its threads) to `cpu` with taskset; false when that is not possible. */
function pin(pid: number | undefined, cpu: number): boolean {
  if (pid === undefined || cpus().length < 2) return false;
  const set = (all: boolean) =>
    spawnSync("taskset", [...(all ? ["-a"] : []), "-p", "-c", String(cpu), String(pid)], { stdio: "ignore" })
      .status === 0;
  // -a pins every thread; a thread that exits meanwhile fails it, then at least the main thread
  return set(true) || set(false);
}

/** `count` round trips on each of `conns` connections at once; resolves round trips/s. */
function client(port: number, conns: number, count: number): Promise<number> {
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const msg = Buffer.alloc(SIZE, 0x65);
      const s = net.connect({ host: HOST, port });
      s.setNoDelay(true);
      let pending = 0;
      let done = 0;
      s.once("connect", () => s.write(msg));
      s.on("data", (d: Buffer) => {
        pending += d.length;
        while (pending >= SIZE) {
          pending -= SIZE;
          if (++done === count) {
            s.destroy();
            resolve();
            return;
          }
          s.write(msg);
        }
      });
      s.on("error", reject);
      s.on("end", () => reject(new Error(`echo server on ${port} closed after ${done} round trips`)));
    });
  const t0 = nowMs();
  return withTimeout(
    Promise.all(Array.from({ length: conns }, one)).then(() => (conns * count) / ((nowMs() - t0) / 1000)),
    30_000,
    `echo client on port ${port}`,
  );
}

/** Starts `sockit serve echo` on a free port; resolves its port and a stop function. */
async function startSockit(): Promise<{ port: number; pid: number | undefined; stop: () => void }> {
  const cli = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
  const child = spawn(
    process.execPath,
    [cli, "serve", "echo", "--port", "all=0", "--json", "--max-per-source", String(CONNS * 2)],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (d: string) => {
        out += d;
        const line = out.split("\n").find((l) => l.startsWith('{"listening"'));
        if (line) resolve((JSON.parse(line) as { listening: Array<{ port: number }> }).listening[0]!.port);
      });
      child.once("exit", (code) => reject(new Error(`sockit serve exited (${code})`)));
    }),
    10_000,
    "sockit serve",
  );
  return { port, pid: child.pid, stop: () => child.kill("SIGTERM") };
}

main(FIGURE, async () => {
  const peer = Peer.start("peer.js");
  const rawPort = Number((await peer.request({ cmd: "echo-server", mode: "raw" })).port);
  const sockit = await startSockit();
  let xi: Xinetd | undefined;
  let xinetdError: string | undefined;
  try {
    xi = await startXinetd(["echo"]);
  } catch (err) {
    xinetdError = String((err as Error).message ?? err); // recorded; the other variants still run
  }
  // BENCH_PIN: "same" (default: client and servers share CPU 1, so a round trip costs two context
  // switches and the figure measures each server's CPU cost per message), "split" (client on
  // CPU 0, servers on CPU 1: cross-core wake-ups dominate), "none"
  const mode = process.env.BENCH_PIN ?? "same";
  const serverCpu = 1;
  const clientCpu = mode === "split" ? 0 : 1;
  const pinned =
    mode !== "none" &&
    [peer.child.pid, sockit.pid, xi?.proc.pid].every((pid) => pid === undefined || pin(pid, serverCpu)) &&
    pin(process.pid, clientCpu);
  try {
    const variants: Record<string, Variant> = {
      raw: () => client(rawPort, 1, N),
      sockit: () => client(sockit.port, 1, N),
    };
    if (xi) variants.xinetd = () => client(xi!.ports.echo, 1, N);
    const samples = await interleave(variants);
    const per = Math.max(1, Math.floor(N / CONNS));
    const concurrent: Record<string, Variant> = {
      raw: () => client(rawPort, CONNS, per),
      sockit: () => client(sockit.port, CONNS, per),
    };
    if (xi) concurrent.xinetd = () => client(xi!.ports.echo, CONNS, per);
    const conc = await interleave(concurrent, Math.max(3, Math.ceil((samples.sockit?.length ?? 8) / 2)));
    const x = samples.xinetd ?? [];
    const xc = conc.xinetd ?? [];
    emit({
      figure: FIGURE,
      unit: "round trips/s",
      higherIsBetter: true,
      target: 0.85,
      samples,
      extra: {
        mode: "sockit serve echo vs raw Node echo vs xinetd internal echo, each its own process; one raw Node client, 1 connection, 64 B, TCP_NODELAY",
        pinned: pinned ? mode : false,
        xinetd: round(median(x)),
        ratioVsXinetd: round(median(samples.sockit ?? []) / median(x), 3),
        ...(xinetdError ? { xinetdError } : {}),
        concurrent16: {
          sockit: round(median(conc.sockit ?? [])),
          raw: round(median(conc.raw ?? [])),
          xinetd: round(median(xc)),
          ratio: round(median(conc.sockit ?? []) / median(conc.raw ?? []), 3),
          ratioVsXinetd: round(median(conc.sockit ?? []) / median(xc), 3),
          samples: Object.fromEntries(Object.entries(conc).map(([k, v]) => [k, v.map((n) => round(n))])),
        },
        roundTripsPerRun: N,
        messageBytes: SIZE,
      },
    });
  } finally {
    sockit.stop();
    await xi?.stop();
    peer.stop();
  }
});
