/**
 * The ping-pong that figures `tracing`, `tracing-ab` and `tracing-procs` measure: round trips
 * of small messages between a `dial`led and a `listen`ing end in this one process (the Go face:
 * four traced calls a round trip and nothing else, the worst case for tracing).
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

/** A dialled and a listening end in this process, echoing: {@link pingpongPair}. */
export interface PingPongPair {
  /** `n` round trips: the dialled end writes one message and reads it back whole. */
  roundTrips(n: number): Promise<void>;
  /** Closes both ends and the listener. */
  close(): Promise<void>;
}

/**
 * A connected pair for round trips of `size`-byte messages: the listening end echoes what it
 * reads; {@link PingPongPair.roundTrips} runs them from the dialled end.
 * @example `const p = await pingpongPair(32); await p.roundTrips(2000); await p.close();`
 */
export async function pingpongPair(size: number): Promise<PingPongPair> {
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
  return {
    async roundTrips(n: number): Promise<void> {
      for (let i = 0; i < n; i++) {
        await conn.write(msg);
        let got = 0;
        while (got < size) {
          const d = await conn.read(size - got);
          if (d === null) throw new Error("echo side closed the connection");
          got += d.length;
        }
      }
    },
    async close(): Promise<void> {
      await conn.close();
      await serving;
      await ln.close();
    },
  };
}

/**
 * `n` round trips of `size`-byte messages on a fresh {@link pingpongPair}; the clocks stop
 * before the ends close.
 * @example `const { rate, cpuUs } = await pingpongInProcess(20_000, 32);`
 */
export async function pingpongInProcess(n: number, size: number): Promise<PingPongRun> {
  const pair = await pingpongPair(size);
  const c0 = process.cpuUsage();
  const m0 = mainThreadCpuUs();
  const t0 = nowMs();
  try {
    await pair.roundTrips(n);
    const ms = nowMs() - t0;
    const c = process.cpuUsage(c0);
    return { rate: n / (ms / 1000), cpuUs: (c.user + c.system) / n, mainCpuUs: (mainThreadCpuUs() - m0) / n };
  } finally {
    await pair.close();
  }
}
