/**
 * Figure `pingpong`: round trips per second of 64-byte messages over one TCP connection on
 * loopback, TCP_NODELAY on both ends, one message in flight.
 *
 * The client runs in this process and is timed; the echo server runs in a forked peer
 * (bench/peer.ts) on the other core. Both ends are the same kind in each variant:
 *
 * - `raw`: raw Node event style on both ends ('data' → `write()`).
 * - `sockit`: Berkeley face on both ends; the client does `await sendall(msg)` then one
 *   `await recv(64)` per message (looping only if the kernel split it), the server
 *   `await recv(65536)` → `await sendall(data)`.
 *
 * Run: `npm run build && node build/bench/pingpong.js` (BENCH_RUNS, BENCH_PINGPONG_N override).
 *
 * @module
 */
import net from "node:net";
import { AF_INET, IPPROTO_TCP, SOCK_STREAM, socket, TCP_NODELAY } from "../src/bsd/index.js";
import { emit, HOST, interleave, main, nowMs, Peer } from "./lib.js";

const FIGURE = "pingpong";
const SIZE = 64;
const N = Math.max(1, Number(process.env.BENCH_PINGPONG_N ?? 10_000) || 10_000);

function rawClient(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const msg = Buffer.alloc(SIZE, 0x70);
    const s = net.connect({ host: HOST, port });
    s.setNoDelay(true);
    let pending = 0; // bytes of the current reply received so far
    let done = 0;
    let t0 = 0;
    s.once("connect", () => {
      t0 = nowMs();
      s.write(msg);
    });
    s.on("data", (d: Buffer) => {
      pending += d.length;
      while (pending >= SIZE) {
        pending -= SIZE;
        done++;
        if (done === N) {
          const ms = nowMs() - t0;
          s.destroy();
          resolve(N / (ms / 1000));
          return;
        }
        s.write(msg);
      }
    });
    s.on("error", reject);
  });
}

async function sockitClient(port: number): Promise<number> {
  const msg = Buffer.alloc(SIZE, 0x70);
  const s = socket(AF_INET, SOCK_STREAM);
  s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
  try {
    await s.connect([HOST, port]);
    const t0 = nowMs();
    for (let i = 0; i < N; i++) {
      await s.sendall(msg);
      let got = 0;
      while (got < SIZE) {
        const d = await s.recv(SIZE - got);
        if (d.length === 0) throw new Error("echo server closed the connection");
        got += d.length;
      }
    }
    return N / ((nowMs() - t0) / 1000);
  } finally {
    await s.close();
  }
}

main(FIGURE, async () => {
  const peer = Peer.start("peer.js");
  const rawPort = Number((await peer.request({ cmd: "echo-server", mode: "raw" })).port);
  const sockitPort = Number((await peer.request({ cmd: "echo-server", mode: "sockit" })).port);
  const samples = await interleave({
    raw: () => rawClient(rawPort),
    sockit: () => sockitClient(sockitPort),
  });
  peer.stop();
  emit({
    figure: FIGURE,
    unit: "round trips/s",
    higherIsBetter: true,
    target: 0.85,
    samples,
    extra: {
      mode: "sockit client+server vs raw client+server (server in a forked process), TCP_NODELAY",
      messageBytes: SIZE,
      roundTripsPerRun: N,
    },
  });
});
