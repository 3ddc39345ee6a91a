/**
 * Figure `bulk-tcp`: receive-side throughput of one bulk TCP transfer on loopback, MiB/s.
 *
 * The receiver runs in this process (measured from the accepted connection to EOF); the sender
 * runs in a forked peer (bench/peer.ts) on the other core. Variants, interleaved each round:
 *
 * - `raw`: raw Node sender (`write()` until false, then 'drain') → raw Node receiver ('data'
 *   events counting bytes).
 * - `sockit`: sockit sender (`await s.sendall(chunk)` loop) → sockit receiver
 *   (`await s.recv(65536)` loop). This is the headline ratio: sockit→sockit vs raw→raw.
 * - `sockitRecv`: raw sender → sockit receiver (isolates the receive path).
 * - `sockitSend`: sockit sender → raw receiver (isolates the send path).
 *
 * 512 MiB per run, 12 runs of each variant. Run: `npm run build && node build/bench/bulk-tcp.js`
 * (BENCH_RUNS, BENCH_BULK_MIB override).
 *
 * @module
 */
import net from "node:net";
import { AF_INET, SOCK_STREAM, socket } from "../src/bsd/index.js";
import { emit, HOST, interleave, main, nowMs, Peer, ratioToRaw, RUNS } from "./lib.js";

const FIGURE = "bulk-tcp";
const MIB = 1024 * 1024;
const BYTES = Math.max(1, Number(process.env.BENCH_BULK_MIB ?? 512) || 512) * MIB;
// shorter transfers, more of them: the median resists the load of others sharing the machine
const RUNS_HERE = process.env.BENCH_RUNS === undefined ? 12 : RUNS;
const CHUNK = 64 * 1024;

main(FIGURE, async () => {
  const peer = Peer.start("peer.js");

  // raw receiver: one server, one pending run at a time
  let onRawConn: ((c: net.Socket) => void) | undefined;
  const rawSrv = net.createServer((c) => onRawConn?.(c));
  await new Promise<void>((resolve) => rawSrv.listen(0, HOST, resolve));
  const rawPort = (rawSrv.address() as net.AddressInfo).port;

  const sockitSrv = socket(AF_INET, SOCK_STREAM);
  await sockitSrv.bind([HOST, 0]);
  await sockitSrv.listen(8);
  const sockitPort = (sockitSrv.getsockname() as [string, number])[1];

  const rawReceive = (): Promise<number> =>
    new Promise((resolve, reject) => {
      onRawConn = (c) => {
        const t0 = nowMs();
        let n = 0;
        c.on("data", (d: Buffer) => {
          n += d.length;
        });
        c.on("error", reject);
        c.on("end", () => {
          const ms = nowMs() - t0;
          if (n !== BYTES) reject(new Error(`raw receiver got ${n} of ${BYTES} bytes`));
          resolve(n / MIB / (ms / 1000));
        });
      };
    });

  const sockitReceive = async (): Promise<number> => {
    const [c] = await sockitSrv.accept();
    const t0 = nowMs();
    let n = 0;
    for (;;) {
      const d = await c.recv(65536);
      if (d.length === 0) break;
      n += d.length;
    }
    const ms = nowMs() - t0;
    await c.close();
    if (n !== BYTES) throw new Error(`sockit receiver got ${n} of ${BYTES} bytes`);
    return n / MIB / (ms / 1000);
  };

  const run = async (sender: "raw" | "sockit", receiver: "raw" | "sockit"): Promise<number> => {
    const got = receiver === "raw" ? rawReceive() : sockitReceive();
    const port = receiver === "raw" ? rawPort : sockitPort;
    const [rate] = await Promise.all([
      got,
      peer.request({ cmd: "bulk-send", port, mode: sender, bytes: BYTES, chunk: CHUNK }),
    ]);
    return rate;
  };

  const samples = await interleave(
    {
      raw: () => run("raw", "raw"),
      sockit: () => run("sockit", "sockit"),
      sockitRecv: () => run("raw", "sockit"),
      sockitSend: () => run("sockit", "raw"),
    },
    RUNS_HERE,
  );
  peer.stop();
  rawSrv.close();
  await sockitSrv.close();

  emit({
    figure: FIGURE,
    unit: "MiB/s",
    higherIsBetter: true,
    target: 0.9,
    samples,
    extra: {
      mode: "sockit->sockit vs raw->raw (sender in a forked process, receiver measured)",
      bytesPerRun: BYTES,
      chunk: CHUNK,
      recvOnlyRatio: ratioToRaw(samples, "sockitRecv"),
      sendOnlyRatio: ratioToRaw(samples, "sockitSend"),
    },
  });
});
