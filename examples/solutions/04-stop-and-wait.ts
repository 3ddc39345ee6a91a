/**
 * Solution to chapter 4, exercise 1: reliable delivery over UDP by stop-and-wait. Each datagram
 * carries a number; the receiver acknowledges every datagram it gets (a duplicate too, since its
 * first acknowledgement may be the one that was lost); the sender waits 100 ms for the
 * acknowledgement and sends again when none comes. A simulated loss of 30 % in each direction
 * (a fixed pseudo-random sequence, as in loss.ts) costs retransmissions, never data.
 *
 * Run:   npm run build && node build/examples/solutions/04-stop-and-wait.js
 */
import { AF_INET, SOCK_DGRAM, TimeoutError, socket } from "sockit/bsd";

let seed = 7;
/** True 30 % of the time, in the same order on every run. */
const lost = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return Math.floor(seed / 65536) % 100 < 30;
};

const rx = socket(AF_INET, SOCK_DGRAM);
await rx.bind(["127.0.0.1", 0]);
const received: string[] = [];
const receiving = (async () => {
  for (;;) {
    const [data, from] = await rx.recvfrom(1024);
    if (data.toString() === "bye") return;
    if (lost()) continue; // the datagram "never arrived"
    const [n, text] = [data.readUInt32BE(0), data.subarray(4).toString()];
    if (n === received.length) received.push(text); // the next one: keep it
    const ack = Buffer.alloc(4);
    ack.writeUInt32BE(n);
    if (!lost()) await rx.sendto(ack, from); // the acknowledgement may be lost too
  }
})();

const tx = socket(AF_INET, SOCK_DGRAM);
tx.settimeout(0.1);
const words = "reliable delivery over an unreliable network with numbers and timeouts".split(" ");
let retransmissions = 0;
for (const [n, word] of words.entries()) {
  const datagram = Buffer.concat([Buffer.alloc(4), Buffer.from(word)]);
  datagram.writeUInt32BE(n);
  for (;;) {
    await tx.sendto(datagram, rx.getsockname());
    try {
      const [ack] = await tx.recvfrom(4);
      if (ack.readUInt32BE(0) === n) break; // acknowledged: the next word
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      retransmissions++; // no acknowledgement in 100 ms: send it again
    }
  }
}
await tx.sendto("bye", rx.getsockname());
await receiving;
console.log(
  `delivered ${received.length} of ${words.length} datagrams, in order, after ${retransmissions} retransmissions`,
);
console.log(received.join(" "));
await tx.close();
await rx.close();
