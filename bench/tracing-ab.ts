/**
 * Figure `tracing-ab`: what tracing costs the traced program's own thread per call, measured
 * apart from everything else. One process, the exporter installed and sending to a live `sockit
 * trace-view` (forked); one connected pair in the process (the ping-pong of figure `tracing`,
 * 32-byte messages, four traced calls a round trip) runs chunks of BENCH_TRACING_AB_CHUNK
 * (default 2 000) round trips with the exporter's sink switched on and off in turn (the order
 * alternating), BENCH_TRACING_AB_PAIRS pairs (default 120) a phase. Both halves of a pair share
 * the worker, the viewer, the compiled code and the machine's state of the moment, so the
 * per-pair ratio measures only what the program's thread does per call, to a few tenths of a
 * percent on a machine where one process runs ±10–20 % from the next. Phases, one after another:
 *
 * - `sockit`: within the default rate budget (`TRACE_RATE_DEFAULT`); its chunks with the sink
 *   on export the calls the budget lets through and count the rest (the budget refills while
 *   the sink is off, so these export somewhat more than a steady program does);
 * - `counted`: a budget of one call a second: every call that moves bytes is only counted;
 * - `stream`: a sink that counts nothing and says every call was counted: the stream's side of
 *   counting alone.
 *
 * `ratio` and `pairedRatio` (with `pairedRatio95`) are `sockit` chunks against the chunks with
 * the sink off, round trips a second; `extra.counted` and `extra.stream` the same for their
 * phases. What this figure leaves out — the worker's and the viewer's work sharing the program's
 * core, a fresh process's warm-up — is in figure `tracing-procs`.
 *
 * Run: `npm run build && node build/bench/run.js tracing-ab` (BENCH_RUNS does not apply: the
 * pairs are BENCH_TRACING_AB_PAIRS).
 *
 * @module
 */
import { installExporter, stopExporter } from "../src/trace-export.js";
import { setTraceSink, type TraceSink, traceSink } from "../src/trace.js";
import { emit, main, nowMs, pairedToRaw, Peer } from "./lib.js";
import { type PingPongPair, pingpongPair } from "./pingpong-loop.js";

const FIGURE = "tracing-ab";
const SIZE = 32;
const CHUNK = Math.max(100, Number(process.env.BENCH_TRACING_AB_CHUNK ?? 2000) || 2000);
const PAIRS = Math.max(8, Number(process.env.BENCH_TRACING_AB_PAIRS ?? 120) || 120);
/** Three phases of PAIRS pairs of two chunks (~50 ms each at most) and their warm-ups. */
const BOUND_MS = Math.max(58_000, 3 * (PAIRS + 10) * 2 * 60 + 10_000);

/** A sink that counts nothing and answers that every call was counted. */
const STREAM_ONLY: TraceSink = { call: () => {}, skipping: true, count: () => true };

/** Rates (round trips a second) of chunks with `sink` on and with no sink, paired. */
async function phase(
  pair: PingPongPair,
  sink: TraceSink | undefined,
): Promise<{ on: number[]; off: number[] }> {
  const on: number[] = [];
  const off: number[] = [];
  const chunk = async (s: TraceSink | undefined): Promise<number> => {
    setTraceSink(s);
    const t0 = nowMs();
    await pair.roundTrips(CHUNK);
    return CHUNK / ((nowMs() - t0) / 1000);
  };
  for (let i = 0; i < 5; i++) await chunk(i % 2 === 0 ? sink : undefined); // warm both paths
  for (let p = 0; p < PAIRS; p++) {
    if (p % 2 === 0) {
      off.push(await chunk(undefined));
      on.push(await chunk(sink));
    } else {
      on.push(await chunk(sink));
      off.push(await chunk(undefined));
    }
  }
  return { on, off };
}

main(
  FIGURE,
  async () => {
    const peer = Peer.start("tracing-viewer.js");
    const pair = await pingpongPair(SIZE);
    try {
      const viewer = `http://${String((await peer.request({ cmd: "viewer" })).address)}`;
      installExporter(viewer);
      await pair.roundTrips(30_000); // traced warm-up: the exporter's code compiled too
      const budget = await phase(pair, traceSink());
      installExporter(viewer, [], 1);
      await pair.roundTrips(10_000);
      const counted = await phase(pair, traceSink());
      stopExporter();
      const stream = await phase(pair, STREAM_ONLY);
      setTraceSink(undefined);
      emit({
        figure: FIGURE,
        unit: "round trips/s",
        higherIsBetter: true,
        target: 0.95,
        samples: { raw: budget.off, sockit: budget.on },
        extra: {
          mode: "one process, the exporter to a live trace-view (forked); chunks of round trips with its sink on and off in turn; sockit = within the default budget, counted = SOCKIT_TRACE_RATE=1, stream = a sink that only says counted",
          messageBytes: SIZE,
          roundTripsPerChunk: CHUNK,
          pairsPerPhase: PAIRS,
          counted: pairedToRaw({ raw: counted.off, counted: counted.on }, "counted"),
          stream: pairedToRaw({ raw: stream.off, stream: stream.on }, "stream"),
        },
      });
    } finally {
      stopExporter();
      setTraceSink(undefined);
      await pair.close();
      peer.stop();
    }
  },
  BOUND_MS,
);
