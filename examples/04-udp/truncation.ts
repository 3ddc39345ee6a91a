/**
 * Chapter 4: a datagram is delivered whole or cut. recvfrom(bufsize) takes one datagram; what does
 * not fit in bufsize is discarded — the next recvfrom() returns the next datagram, not the rest.
 * So a UDP protocol sizes its buffer for the largest datagram it allows.
 *
 * Run:   npm run build && node build/examples/04-udp/truncation.js
 */
import { AF_INET, SOCK_DGRAM, socket } from "sockit/bsd";

const rx = socket(AF_INET, SOCK_DGRAM);
await rx.bind(["127.0.0.1", 0]);
const tx = socket(AF_INET, SOCK_DGRAM);

// #region truncate
for (const text of ["a datagram of thirty-two bytes!!", "short", "another long datagram here"]) {
  const n = await tx.sendto(Buffer.from(text), rx.getsockname());
  console.log(`sendto: ${n} bytes`);
}
rx.settimeout(2); // a datagram may never come: never wait forever
const [cut] = await rx.recvfrom(10); // room for 10 bytes: the other 22 are gone
console.log(`recvfrom(10): ${JSON.stringify(cut.toString())}`);
const [next] = await rx.recvfrom(10);
console.log(`recvfrom(10): ${JSON.stringify(next.toString())} (the next datagram, not the rest)`);
const [whole] = await rx.recvfrom(2048); // room enough: the datagram comes whole
console.log(`recvfrom(2048): ${JSON.stringify(whole.toString())} (${whole.length} bytes)`);
// #endregion truncate

await tx.close();
await rx.close();
