/**
 * Figure `tracing`: what exporting the socket calls to a `sockit trace-view` costs the traced
 * program. Ping-pong of 32-byte messages, both ends in this process (`dial`/`listen` of the Go
 * face: four traced calls per round trip, nothing else, the worst case), in seven setups measured
 * interleaved:
 *
 * - `raw`: untraced (nobody subscribes to `sockit:call`);
 * - `subscriber`: one do-nothing subscriber (the cost of publishing the events);
 * - `sockit`: the exporter sending to a live viewer (a `sockit trace-view` in a forked process)
 *   as a traced program does: at most `SOCKIT_TRACE_RATE` (default `TRACE_RATE_DEFAULT`) calls
 *   that move bytes a second, the rest counted in `skipped` records;
 * - `every`: the same with every call exported (`SOCKIT_TRACE_RATE=all`);
 * - `counted`: the same with a budget of one call a second, so nearly every call that moves
 *   bytes is only counted (what a call costs while the budget is spent);
 * - `sink`: every call exported to an HTTP server that answers every batch unread (the
 *   exporter's own cost, without the viewer's work on the same cores);
 * - `unreachable`: every call, with nobody listening at its address (connection refused).
 *
 * `ratio` is live viewer / untraced; `extra.ratios` gives every setup against untraced from the
 * same rounds, and `extra.cpuUsPerRoundTrip` the median CPU time of this process (all its threads,
 * `process.cpuUsage`) per round trip, which depends less on others' load than throughput does.
 *
 * Each exporter setup starts its exporter 150 ms before its measured rounds (the worker
 * thread starts once per process; the figure is the steady cost per call) and waits for its
 * delivery after them; the other setups pause as long before theirs.
 *
 * Run: `npm run build && node build/bench/run.js tracing` (BENCH_RUNS, BENCH_TRACING_N override).
 *
 * @module
 */
import { exporterStats, installExporter, stopExporter, traceRate } from "../src/trace-export.js";
import { subscribeTrace } from "../src/trace.js";
import { emit, HOST, interleave, main, median, nowMs, Peer, ratioToRaw, round, RUNS } from "./lib.js";
import { pingpongInProcess } from "./pingpong-loop.js";
import { freePort } from "./procs.js";

const FIGURE = "tracing";
const SIZE = 32;
const N = Math.max(1, Number(process.env.BENCH_TRACING_N ?? 20_000) || 20_000);
/**
 * The figure's bound: seven setups a round, each paused before and drained after its rounds
 * (~1.2 s at most on a loaded machine); the runner's backstop (90 s) is above it at 8 runs.
 */
const BOUND_MS = Math.max(58_000, (RUNS + 1) * 7 * 1200);

/** One run: round trips per second; `cpu` and `mainCpu` get its CPU µs per round trip. */
async function pingpong(cpu: number[], mainCpu: number[]): Promise<number> {
  const r = await pingpongInProcess(N, SIZE);
  cpu.push(r.cpuUs);
  mainCpu.push(r.mainCpuUs);
  return r.rate;
}

/**
 * Waits (at most 5 s, after the measured rounds) until the exporter has delivered or dropped
 * everything: the viewer's and the worker's work for one setup must not run into the next one's
 * measurement.
 */
async function delivered(): Promise<void> {
  const end = nowMs() + 5000;
  while (exporterStats().queued > 0 && nowMs() < end) await new Promise((r) => setTimeout(r, 10));
}

/**
 * Lets a freshly installed exporter start its worker (a thread, ~30 ms of one core, once per
 * process) before the measured rounds: the figure is the steady cost per call. The setups
 * without an exporter wait as long before theirs, so that none alone starts from an idle pause
 * (an A/A run of untraced rounds, with and without the pause, moved by up to 3 %).
 */
async function started(): Promise<void> {
  await new Promise((r) => setTimeout(r, 150));
}

main(
  FIGURE,
  async () => {
    const peer = Peer.start("tracing-viewer.js");
    const viewer = String((await peer.request({ cmd: "viewer" })).address);
    const sinkAddr = String((await peer.request({ cmd: "sink" })).address);
    const refused = `http://${HOST}:${await freePort()}`; // nobody listens there
    const keys = ["raw", "subscriber", "sockit", "counted", "every", "sink", "unreachable"] as const;
    const cpu = Object.fromEntries(keys.map((k) => [k, [] as number[]]));
    const mainCpu = Object.fromEntries(keys.map((k) => [k, [] as number[]]));
    /** Of the calls a `sockit` run made, the share the budget skipped. */
    const skippedShare: number[] = [];
    /**
     * One run with the exporter sending to `url` (`rate`: calls with bytes a second, at most):
     * started before, delivered after the rounds.
     */
    const exported = async (url: string, key: (typeof keys)[number], rate = Infinity): Promise<number> => {
      installExporter(url, [], rate);
      try {
        await started();
        return await pingpong(cpu[key]!, mainCpu[key]!);
      } finally {
        await delivered();
        if (key === "sockit") skippedShare.push(exporterStats().skipped / (4 * N));
        stopExporter();
      }
    };
    const samples = await interleave({
      raw: async () => {
        await started();
        return pingpong(cpu.raw!, mainCpu.raw!);
      },
      subscriber: async () => {
        const stop = subscribeTrace(() => {});
        try {
          await started();
          return await pingpong(cpu.subscriber!, mainCpu.subscriber!);
        } finally {
          stop();
        }
      },
      sockit: () => exported(`http://${viewer}`, "sockit", traceRate()),
      counted: () => exported(`http://${viewer}`, "counted", 1),
      every: () => exported(`http://${viewer}`, "every"),
      sink: () => exported(`http://${sinkAddr}`, "sink"),
      unreachable: () => exported(refused, "unreachable"),
    });
    const got = (await peer.request({ cmd: "count" })).events;
    peer.stop();
    emit({
      figure: FIGURE,
      unit: "round trips/s",
      higherIsBetter: true,
      target: 0.95,
      samples,
      extra: {
        mode: "in-process dial/listen ping-pong; sockit = exported to a live trace-view (forked) within the default rate budget, raw = untraced",
        rateBudget: traceRate(),
        skippedShare: round(median(skippedShare), 3),
        messageBytes: SIZE,
        roundTripsPerRun: N,
        ratios: {
          subscriber: ratioToRaw(samples, "subscriber"),
          viewer: ratioToRaw(samples, "sockit"),
          viewerCounted: ratioToRaw(samples, "counted"),
          viewerEveryCall: ratioToRaw(samples, "every"),
          sink: ratioToRaw(samples, "sink"),
          unreachable: ratioToRaw(samples, "unreachable"),
        },
        cpuUsPerRoundTrip: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(median(v), 3)])),
        mainThreadCpuUsPerRoundTrip: Object.fromEntries(
          Object.entries(mainCpu).map(([k, v]) => [k, round(median(v), 3)]),
        ),
        viewerReceived: got,
      },
    });
  },
  BOUND_MS,
);
