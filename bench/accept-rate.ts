/**
 * Figure `accept-rate`: TCP connections accepted and closed per second by a server on loopback.
 *
 * The server runs in this process; the client is the same raw Node client for both variants, in
 * a forked peer (bench/peer.ts `connect-storm`): `count` connections, `concurrency` at a time,
 * each connecting and waiting until the server closes it (so the server sends the first FIN and
 * the client's ephemeral ports do not pile up in TIME_WAIT). The peer times the whole storm.
 *
 * A fresh listener per run. Variants:
 *
 * - `raw`: `net.createServer()` with a 'connection' handler calling `end()`.
 * - `sockit`: Berkeley accept loop, `const [c] = await srv.accept(); await c.close();`.
 *
 * Run: `npm run build && node build/bench/accept-rate.js` (BENCH_RUNS, BENCH_ACCEPT_N override).
 *
 * @module
 */
import net from "node:net";
import { AF_INET, SOCK_STREAM, type Socket, socket } from "../src/bsd/index.js";
import { emit, HOST, interleave, main, Peer } from "./lib.js";

const FIGURE = "accept-rate";
const COUNT = Math.max(1, Number(process.env.BENCH_ACCEPT_N ?? 5000) || 5000);
const CONCURRENCY = 16;
const BACKLOG = 128; // sockit's userland accept queue

main(FIGURE, async () => {
  const peer = Peer.start("peer.js");

  let errors = 0;
  let accepted = 0;
  const storm = async (port: number): Promise<number> => {
    const r = await peer.request({ cmd: "connect-storm", port, count: COUNT, concurrency: CONCURRENCY });
    errors += Number(r.errors);
    return COUNT / (Number(r.ms) / 1000);
  };

  // a fresh listener (and port) per run, so TIME_WAIT pairs of earlier runs never collide
  const rawRun = async (): Promise<number> => {
    const srv = net.createServer((c) => {
      c.on("error", () => {});
      c.end();
    });
    // Node's default kernel accept queue (511), the one sockit's listener uses too
    await new Promise<void>((resolve) => srv.listen({ port: 0, host: HOST }, resolve));
    try {
      return await storm((srv.address() as net.AddressInfo).port);
    } finally {
      srv.close();
    }
  };

  const sockitRun = async (): Promise<number> => {
    const srv = socket(AF_INET, SOCK_STREAM);
    await srv.bind([HOST, 0]);
    await srv.listen(BACKLOG);
    const loop = (async () => {
      for (;;) {
        let c: Socket;
        try {
          [c] = await srv.accept();
        } catch {
          return; // listener closed
        }
        accepted++;
        await c.close();
      }
    })();
    try {
      return await storm((srv.getsockname() as [string, number])[1]);
    } finally {
      await srv.close();
      await loop;
    }
  };

  const samples = await interleave({ raw: rawRun, sockit: sockitRun });
  peer.stop();
  emit({
    figure: FIGURE,
    unit: "connections/s",
    higherIsBetter: true,
    target: 0.9,
    samples,
    extra: {
      mode: "sockit accept loop vs raw net.Server 'connection'; same raw client in a forked process",
      connectionsPerRun: COUNT,
      concurrency: CONCURRENCY,
      clientErrors: errors,
      sockitAccepted: accepted,
    },
  });
});
