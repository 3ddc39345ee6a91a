/**
 * Figure `udp-pingpong`: round trips per second of 64-byte UDP datagrams on loopback, one in
 * flight. The client runs in this process and is timed; the echo server runs in a forked peer
 * (bench/udp-peer.ts) on the other core. Both ends are the same kind in each variant:
 *
 * - `raw`: raw Node dgram on both ends ('message' → `send()`).
 * - `sockit`: Berkeley face on both ends; the client does `await s.sendto(msg, addr)` then one
 *   `await s.recvfrom(2048)` per datagram, the server `await recvfrom(2048)` →
 *   `await sendto(data, addr)`.
 * - `packetconn` (extra): Go face on both ends, `writeTo` / `readFrom` with the endpoint
 *   structure (`packetconnRatio`).
 *
 * Loopback does not lose datagrams at one in flight, but a run is bounded anyway: a lost
 * datagram fails the run after 20 s instead of hanging.
 *
 * Run: `npm run build && node build/bench/udp-pingpong.js` (BENCH_RUNS, BENCH_UDP_PINGPONG_N
 * override).
 *
 * @module
 */
import dgram from "node:dgram";
import { AF_INET, SOCK_DGRAM, socket } from "../src/bsd/index.js";
import { listenPacket } from "../src/net/index.js";
import { emit, HOST, interleave, main, median, nowMs, Peer, ratioToRaw, round, withTimeout } from "./lib.js";
import type { UdpMode } from "./udp-peer.js";

const FIGURE = "udp-pingpong";
const SIZE = 64;
const N = Math.max(1, Number(process.env.BENCH_UDP_PINGPONG_N ?? 10_000) || 10_000);
const RUN_LIMIT_MS = 20_000;

function rawClient(port: number): Promise<number> {
  const s = dgram.createSocket("udp4");
  const run = new Promise<number>((resolve, reject) => {
    const msg = Buffer.alloc(SIZE, 0x70);
    let done = 0;
    let t0 = 0;
    s.on("message", (d: Buffer) => {
      if (d.length !== SIZE) reject(new Error(`raw: ${d.length}-byte reply`));
      if (++done === N) resolve(N / ((nowMs() - t0) / 1000));
      else s.send(msg, port, HOST);
    });
    s.on("error", reject);
    s.bind(0, HOST, () => {
      t0 = nowMs();
      s.send(msg, port, HOST);
    });
  });
  return withTimeout(run, RUN_LIMIT_MS, "raw udp ping-pong").finally(() => s.close());
}

async function sockitClient(port: number): Promise<number> {
  const msg = Buffer.alloc(SIZE, 0x70);
  const to: [string, number] = [HOST, port];
  const s = socket(AF_INET, SOCK_DGRAM);
  try {
    await s.bind([HOST, 0]);
    const run = async () => {
      const t0 = nowMs();
      for (let i = 0; i < N; i++) {
        await s.sendto(msg, to);
        const [d] = await s.recvfrom(2048);
        if (d.length !== SIZE) throw new Error(`sockit: ${d.length}-byte reply`);
      }
      return N / ((nowMs() - t0) / 1000);
    };
    return await withTimeout(run(), RUN_LIMIT_MS, "sockit udp ping-pong");
  } finally {
    await s.close(); // a recvfrom still waiting (after a timeout) rejects EBADF
  }
}

async function packetConnClient(port: number): Promise<number> {
  const msg = Buffer.alloc(SIZE, 0x70);
  const to = { address: HOST, port, family: 4 as const };
  const pc = await listenPacket("udp", `${HOST}:0`);
  try {
    const run = async () => {
      const t0 = nowMs();
      for (let i = 0; i < N; i++) {
        await pc.writeTo(msg, to);
        const p = await pc.readFrom(2048);
        if (p.data.length !== SIZE) throw new Error(`packetconn: ${p.data.length}-byte reply`);
      }
      return N / ((nowMs() - t0) / 1000);
    };
    return await withTimeout(run(), RUN_LIMIT_MS, "packetconn udp ping-pong");
  } finally {
    await pc.close();
  }
}

main(FIGURE, async () => {
  const peer = Peer.start("udp-peer.js");
  try {
    const port = async (mode: UdpMode) => Number((await peer.request({ cmd: "udp-echo-server", mode })).port);
    const ports = {
      raw: await port("raw"),
      sockit: await port("sockit"),
      packetconn: await port("packetconn"),
    };
    const samples = await interleave({
      raw: () => rawClient(ports.raw),
      sockit: () => sockitClient(ports.sockit),
      packetconn: () => packetConnClient(ports.packetconn),
    });
    emit({
      figure: FIGURE,
      unit: "round trips/s",
      higherIsBetter: true,
      target: 0.85,
      samples,
      extra: {
        mode: "sockit client+server (Berkeley recvfrom/sendto) vs raw dgram client+server (server in a forked process)",
        datagramBytes: SIZE,
        roundTripsPerRun: N,
        packetconn: round(median(samples.packetconn)),
        packetconnRatio: ratioToRaw(samples, "packetconn"),
      },
    });
  } finally {
    peer.stop();
  }
});
