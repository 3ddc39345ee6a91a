/**
 * Chapter 4: UDP makes no promise of delivery — loss made visible. The sender numbers its
 * datagrams ("7/100"); the receiver counts what arrived and names what did not.
 *
 * Run:   npm run build && node build/examples/04-udp/loss.js
 *          both ends in one process on loopback, the receiver throwing away 10 % of the
 *          datagrams on purpose (loopback itself loses nothing at this pace)
 *        node build/examples/04-udp/loss.js receive HOST PORT [--drop PERCENT]
 *        node build/examples/04-udp/loss.js send HOST PORT COUNT
 *          two processes, e.g. on both ends of a lossy link (chapter 4 shows one in a network
 *          namespace); the receiver stops 1 s after the last datagram (or 10 s without any)
 */
import { AF_INET, SOCK_DGRAM, TimeoutError, socket } from "sockit/bsd";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// #region receive
/** Receives "i/total" datagrams until 1 s passes without one; reports the missing numbers. */
async function receive(host: string, port: number, dropPercent: number): Promise<void> {
  const rx = socket(AF_INET, SOCK_DGRAM);
  await rx.bind([host, port]);
  const [h, p] = rx.getsockname();
  console.log(`receiving on ${h}:${p}`);
  rx.settimeout(10); // the sender has 10 s to start
  let seed = 1; // a fixed pseudo-random sequence: the same "losses" on every run
  const seen = new Set<number>();
  let total = 0;
  for (;;) {
    let data: Buffer;
    try {
      [data] = await rx.recvfrom(64);
    } catch (err) {
      if (err instanceof TimeoutError) break;
      throw err;
    }
    rx.settimeout(1); // from now on, no datagram for 1 s: the sender has finished
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    if (Math.floor(seed / 65536) % 100 < dropPercent) continue; // a simulated loss: as if it never arrived
    const [i, n] = data.toString().split("/").map(Number);
    seen.add(i!);
    total = n!;
  }
  await rx.close();
  const missing = Array.from({ length: total }, (_, i) => i + 1).filter((i) => !seen.has(i));
  console.log(`received ${seen.size} of ${total}; missing: ${missing.join(", ") || "none"}`);
}
// #endregion receive

// #region send
/** Sends `count` numbered datagrams, 2 ms apart (unpaced UDP overflows even a local receiver). */
async function send(host: string, port: number, count: number): Promise<void> {
  const tx = socket(AF_INET, SOCK_DGRAM);
  for (let i = 1; i <= count; i++) {
    await tx.sendto(Buffer.from(`${i}/${count}`), [host, port]);
    await pause(2);
  }
  console.log(`sent ${count} datagrams`);
  await tx.close();
}
// #endregion send

const [mode, host, port, arg] = process.argv.slice(2);
if (mode === "receive") {
  const at = process.argv.indexOf("--drop");
  await receive(host!, Number(port), at > 0 ? Number(process.argv[at + 1]) : 0);
} else if (mode === "send") {
  await send(host!, Number(port), Number(arg ?? 100));
} else {
  // one process: find a free port, start the receiver, then send to it
  const probe = socket(AF_INET, SOCK_DGRAM);
  await probe.bind(["127.0.0.1", 0]);
  const [, free] = probe.getsockname();
  await probe.close();
  const receiving = receive("127.0.0.1", free, 10);
  await pause(100);
  await send("127.0.0.1", free, 100);
  await receiving;
}
