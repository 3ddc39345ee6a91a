/**
 * Figure `rpc`: JSON-RPC 2.0 calls per second over TCP on loopback, sockit (client and server)
 * against npm `jayson` v4 (client and server), with 1 and with 64 calls in flight, all in the
 * same run (interleaved rounds).
 *
 * The client runs in this process and is timed; the servers run in a forked peer
 * (bench/rpc-peer.ts) on the other core. Each call is `add [i, 1]`, checked.
 *
 * - `sockit`: one `connect()`; `client.call()` keeps 1 (or 64) calls outstanding on that one
 *   connection, matched by id.
 * - `jayson`: `jayson.Client.tcp()`, as jayson's TCP client works: one new connection per call
 *   (it connects, sends, reads one reply, closes), 1 (or 64) calls outstanding.
 *
 * In the JSON line `sockit`/`raw` and `ratio` are the 1-in-flight figures (`raw` = jayson);
 * `inFlight64` holds the same for 64 in flight.
 *
 * Run: `npm run build && node build/bench/rpc.js` (BENCH_RUNS, BENCH_RPC_N override).
 *
 * @module
 */
import jayson from "jayson";
import { connect } from "../src/jsonrpc/index.js";
import { emit, HOST, interleave, main, median, nowMs, Peer, round } from "./lib.js";

const FIGURE = "rpc";
const N = Math.max(64, Number(process.env.BENCH_RPC_N ?? 4000) || 4000);

/** Runs `n` calls with `inFlight` outstanding at a time; resolves calls/s. */
async function drive(inFlight: number, call: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = nowMs();
  const worker = async (): Promise<void> => {
    while (next < N) {
      const i = next++;
      const r = await call(i);
      if (r !== i + 1) throw new Error(`add [${i}, 1] gave ${String(r)}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return N / ((nowMs() - t0) / 1000);
}

async function sockitRun(port: number, inFlight: number): Promise<number> {
  const client = await connect(`tcp://${HOST}:${port}`);
  try {
    return await drive(inFlight, (i) => client.call("add", [i, 1]));
  } finally {
    await client.close();
  }
}

function jaysonRun(port: number, inFlight: number): Promise<number> {
  const client = jayson.Client.tcp({ host: HOST, port });
  return drive(
    inFlight,
    (i) =>
      new Promise((resolve, reject) =>
        client.request("add", [i, 1], (err: unknown, res: unknown) =>
          err ? reject(err as Error) : resolve((res as { result?: unknown }).result),
        ),
      ),
  );
}

main(FIGURE, async () => {
  const peer = Peer.start("rpc-peer.js");
  const sp = Number((await peer.request({ cmd: "rpc-server", mode: "sockit" })).port);
  const jp = Number((await peer.request({ cmd: "rpc-server", mode: "jayson" })).port);
  const s = await interleave({
    sockit: () => sockitRun(sp, 1),
    raw: () => jaysonRun(jp, 1),
    sockit64: () => sockitRun(sp, 64),
    jayson64: () => jaysonRun(jp, 64),
  });
  peer.stop();
  const pairs = s.sockit64.flatMap((x, i) => (s.jayson64[i] === undefined ? [] : [x / s.jayson64[i]!]));
  emit({
    figure: FIGURE,
    unit: "calls/s",
    higherIsBetter: true,
    target: 1,
    samples: { sockit: s.sockit, raw: s.raw, sockit64: s.sockit64, jayson64: s.jayson64 },
    extra: {
      mode: "sockit client+server vs jayson client+server over TCP (server in a forked process); raw = jayson",
      callsPerRun: N,
      inFlight64: {
        sockit: round(median(s.sockit64)),
        jayson: round(median(s.jayson64)),
        ratio: round(median(s.sockit64) / median(s.jayson64), 3),
        pairedRatio: round(median(pairs), 3),
      },
    },
  });
});
