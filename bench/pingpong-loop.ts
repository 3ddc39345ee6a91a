/**
 * The ping-pong that figures `tracing` and `tracing-procs` measure: round trips of small
 * messages between a `dial`led and a `listen`ing end in this one process (the Go face: four
 * traced calls a round trip and nothing else, the worst case for tracing).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { dial, listen } from "../src/net/index.js";
import { HOST, nowMs } from "./lib.js";

/** What one {@link pingpongInProcess} took. */
export interface PingPongRun {
  /** Round trips a second. */
  readonly rate: number;
  /** CPU µs a round trip, all of this process's threads (`process.cpuUsage`). */
  readonly cpuUs: number;
  /** CPU µs a round trip of the main thread alone (10 ms ticks; NaN off Linux). */
  readonly mainCpuUs: number;
}

/**
 * CPU time of this process's main thread so far, µs (Linux: /proc/self/task/PID/stat, 10 ms
 * ticks; NaN elsewhere): the traced program's own thread, without the exporter's worker.
 * @example `const m0 = mainThreadCpuUs();`
 */
export function mainThreadCpuUs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // utime + stime, at USER_HZ = 100
  } catch {
    return Number.NaN;
  }
}

/**
 * `n` round trips of `size`-byte messages: the dialled end writes one and reads it back whole
 * from the listening end, which echoes what it reads; the clocks stop before the ends close.
 * @example `const { rate, cpuUs } = await pingpongInProcess(20_000, 32);`
 */
export async function pingpongInProcess(n: number, size: number): Promise<PingPongRun> {
  const ln = await listen("tcp", `${HOST}:0`);
  const serving = (async () => {
    const c = await ln.accept();
    try {
      for (;;) {
        const d = await c.read(size);
        if (d === null) break;
        await c.write(d);
      }
    } finally {
      await c.close();
    }
  })();
  const conn = await dial("tcp", ln.address);
  const msg = Buffer.alloc(size, 0x70);
  const c0 = process.cpuUsage();
  const m0 = mainThreadCpuUs();
  const t0 = nowMs();
  let run: PingPongRun;
  try {
    for (let i = 0; i < n; i++) {
      await conn.write(msg);
      let got = 0;
      while (got < size) {
        const d = await conn.read(size - got);
        if (d === null) throw new Error("echo side closed the connection");
        got += d.length;
      }
    }
    const ms = nowMs() - t0;
    const c = process.cpuUsage(c0);
    run = { rate: n / (ms / 1000), cpuUs: (c.user + c.system) / n, mainCpuUs: (mainThreadCpuUs() - m0) / n };
  } finally {
    await conn.close();
    await serving;
    await ln.close();
  }
  return run;
}
