/**
 * Figure `tracing-procs`: what tracing costs a program traced from its start, as a user runs
 * one (`SOCKIT_TRACE=http://… node app.js`), beside figure `tracing`, which switches the exporter
 * on and off inside one process. Each sample is a fresh process making the same ping-pong as
 * figure `tracing` (32-byte messages, `dial`/`listen`, both ends in the process: four traced
 * calls a round trip, the worst case): a warm-up of BENCH_TRACING_PROCS_WARMUP round trips
 * (default as many as measured), then BENCH_TRACING_PROCS_N (default 30 000) measured. The
 * warm-up is long because a fresh process compiles its hot code on V8's background threads, whose
 * CPU this process's time includes, and a traced one has more of it. Setups, interleaved:
 *
 * - `raw`: no `SOCKIT_TRACE`;
 * - `sockit`: `SOCKIT_TRACE` to a live `sockit trace-view` (a forked process on the same two
 *   cores), within the default rate budget;
 * - `counted`: the same with `SOCKIT_TRACE_RATE=1`, so nearly every call that moves bytes is
 *   only counted.
 *
 * `ratio` is `sockit` / `raw` round trips a second; `extra.ratios` each setup against `raw`
 * (`pairedRatio95` and `extra.countedPaired`: the per-round ratios' median with its 95 % interval);
 * `extra.cpuUsPerRoundTrip` the medians of each process's own CPU (all its threads, the
 * exporter's worker too) per measured round trip.
 *
 * Run: `npm run build && node build/bench/run.js tracing-procs` (BENCH_RUNS,
 * BENCH_TRACING_PROCS_N).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  emit,
  interleave,
  main,
  median,
  pairedToRaw,
  Peer,
  ratioToRaw,
  round,
  RUNS,
  withTimeout,
} from "./lib.js";
import { pingpongInProcess } from "./pingpong-loop.js";

const FIGURE = "tracing-procs";
const SIZE = 32;
const N = Math.max(1, Number(process.env.BENCH_TRACING_PROCS_N ?? 30_000) || 30_000);
const WARMUP = Math.max(0, Number(process.env.BENCH_TRACING_PROCS_WARMUP ?? N) || 0);
/** A sample's process, start to exit, at most (ms). */
const CHILD_MS = 30_000;
/** Three setups a round, a process each: start-up, and 35 000 round trips a second at least. */
const BOUND_MS = Math.max(58_000, (RUNS + 1) * 3 * (800 + (N + WARMUP) / 35) + 10_000);

/** One sample: a fresh process with `env` added; its measured round trips a second. */
function sample(env: NodeJS.ProcessEnv, cpu: number[]): Promise<number> {
  const self = fileURLToPath(import.meta.url);
  const base = { ...process.env };
  delete base.SOCKIT_TRACE;
  delete base.SOCKIT_TRACE_RATE;
  const child = spawn(process.execPath, [self, "sample"], {
    env: { ...base, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (d: string) => (out += d));
  const done = new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`a sample's process exited with ${code}: ${out}`));
      const r = JSON.parse(out) as { rate: number; cpuUs: number };
      cpu.push(r.cpuUs);
      resolve(r.rate);
    });
  });
  return withTimeout(done, CHILD_MS, "a sample's process").catch((err: unknown) => {
    child.kill("SIGKILL");
    throw err;
  });
}

if (process.argv[2] === "sample") {
  if (WARMUP > 0) await pingpongInProcess(WARMUP, SIZE);
  const { rate, cpuUs } = await pingpongInProcess(N, SIZE);
  process.stdout.write(`${JSON.stringify({ rate, cpuUs })}\n`);
} else {
  main(
    FIGURE,
    async () => {
      const peer = Peer.start("tracing-viewer.js");
      try {
        const viewer = `http://${String((await peer.request({ cmd: "viewer" })).address)}`;
        const cpu = { raw: [] as number[], sockit: [] as number[], counted: [] as number[] };
        const samples = await interleave({
          raw: () => sample({}, cpu.raw),
          sockit: () => sample({ SOCKIT_TRACE: viewer }, cpu.sockit),
          counted: () => sample({ SOCKIT_TRACE: viewer, SOCKIT_TRACE_RATE: "1" }, cpu.counted),
        });
        const got = (await peer.request({ cmd: "count" })).events;
        emit({
          figure: FIGURE,
          unit: "round trips/s",
          higherIsBetter: true,
          target: 0.95,
          samples,
          extra: {
            mode: "a fresh process per sample, dial/listen ping-pong in it; sockit = SOCKIT_TRACE to a live trace-view (forked) within the default rate budget, counted = SOCKIT_TRACE_RATE=1, raw = no SOCKIT_TRACE",
            messageBytes: SIZE,
            roundTripsPerProcess: N,
            warmupRoundTrips: WARMUP,
            ratios: { sockit: ratioToRaw(samples, "sockit"), counted: ratioToRaw(samples, "counted") },
            countedPaired: pairedToRaw(samples, "counted"),
            cpuUsPerRoundTrip: Object.fromEntries(
              Object.entries(cpu).map(([k, v]) => [k, round(median(v), 3)]),
            ),
            viewerReceived: got,
          },
        });
      } finally {
        peer.stop();
      }
    },
    BOUND_MS,
  );
}
