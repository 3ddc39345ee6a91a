/**
 * Figure `tracing`: what exporting the socket calls to a `sockit trace-view` costs the traced
 * program. Ping-pong of 32-byte messages, both ends in this process (`dial`/`listen` of the Go
 * face: four traced calls per round trip, nothing else, the worst case), in four setups measured
 * interleaved:
 *
 * - `raw`: untraced (nobody subscribes to `sockit:call`);
 * - `subscriber`: one do-nothing subscriber (the cost of publishing the events);
 * - `sockit`: the exporter sending to a live viewer (a `sockit trace-view` in a forked process);
 * - `unreachable`: the exporter with nobody listening at its address (connection refused).
 *
 * `ratio` is live viewer / untraced; `extra.ratios` gives every setup against untraced from the
 * same rounds, and `extra.cpuUsPerRoundTrip` the median CPU time of this process (all its threads,
 * `process.cpuUsage`) per round trip, which depends less on others' load than throughput does.
 *
 * Run: `npm run build && node build/bench/run.js tracing` (BENCH_RUNS, BENCH_TRACING_N override).
 *
 * @module
 */
import net from "node:net";
import { dial, listen } from "../src/net/index.js";
import { installExporter, stopExporter } from "../src/trace-export.js";
import { subscribeTrace } from "../src/trace.js";
import { emit, HOST, interleave, main, median, nowMs, Peer, round } from "./lib.js";

const FIGURE = "tracing";
const SIZE = 32;
const N = Math.max(1, Number(process.env.BENCH_TRACING_N ?? 20_000) || 20_000);

/** One run: round trips per second; `cpu` gets the CPU µs per round trip. */
async function pingpong(cpu: number[]): Promise<number> {
  const ln = await listen("tcp", `${HOST}:0`);
  const serving = (async () => {
    const c = await ln.accept();
    try {
      for (;;) {
        const d = await c.read(SIZE);
        if (d === null) break;
        await c.write(d);
      }
    } finally {
      await c.close();
    }
  })();
  const conn = await dial("tcp", ln.address);
  const msg = Buffer.alloc(SIZE, 0x70);
  const c0 = process.cpuUsage();
  const t0 = nowMs();
  try {
    for (let i = 0; i < N; i++) {
      await conn.write(msg);
      let got = 0;
      while (got < SIZE) {
        const d = await conn.read(SIZE - got);
        if (d === null) throw new Error("echo side closed the connection");
        got += d.length;
      }
    }
  } finally {
    const ms = nowMs() - t0;
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / N);
    await conn.close();
    await serving;
    await ln.close();
    lastRate = N / (ms / 1000);
  }
  return lastRate;
}
let lastRate = 0;

/** A loopback port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, HOST, r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

main(FIGURE, async () => {
  const peer = Peer.start("tracing-viewer.js");
  const viewer = String((await peer.request({ cmd: "viewer" })).address);
  const refused = `http://${HOST}:${await closedPort()}`;
  const cpu: Record<string, number[]> = { raw: [], subscriber: [], sockit: [], unreachable: [] };
  const samples = await interleave({
    raw: () => pingpong(cpu.raw!),
    subscriber: async () => {
      const stop = subscribeTrace(() => {});
      try {
        return await pingpong(cpu.subscriber!);
      } finally {
        stop();
      }
    },
    sockit: async () => {
      installExporter(`http://${viewer}`);
      try {
        return await pingpong(cpu.sockit!);
      } finally {
        stopExporter();
      }
    },
    unreachable: async () => {
      installExporter(refused);
      try {
        return await pingpong(cpu.unreachable!);
      } finally {
        stopExporter();
      }
    },
  });
  const got = (await peer.request({ cmd: "count" })).events;
  peer.stop();
  const ratioOf = (k: string): number =>
    round(median(samples[k as keyof typeof samples]) / median(samples.raw), 3);
  emit({
    figure: FIGURE,
    unit: "round trips/s",
    higherIsBetter: true,
    target: 0.95,
    samples,
    extra: {
      mode: "in-process dial/listen ping-pong; sockit = exported to a live trace-view (forked), raw = untraced",
      messageBytes: SIZE,
      roundTripsPerRun: N,
      ratios: {
        subscriber: ratioOf("subscriber"),
        viewer: ratioOf("sockit"),
        unreachable: ratioOf("unreachable"),
      },
      cpuUsPerRoundTrip: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(median(v), 3)])),
      viewerReceived: got,
    },
  });
});
