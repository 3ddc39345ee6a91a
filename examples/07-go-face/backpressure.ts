/**
 * Chapter 7: backpressure. The server writes 32 MiB to a client that does not read: write()
 * waits instead of queueing everything in memory, so what is written stops at what the kernel's
 * buffers hold (their sizes are the system's: tcp_wmem and tcp_rmem) and stays there. When the
 * client reads, the rest flows.
 *
 * Run:   npm run build && node build/examples/07-go-face/backpressure.js
 */
import { dial, listen } from "sockit/net";

const TOTAL = 32 << 20; // 32 MiB: more than the kernel's buffers hold on a loopback connection
const CHUNK = 64 << 10; // written 64 KiB at a time

const ln = await listen("tcp", "127.0.0.1:0");
const client = await dial("tcp", ln.address);
const conn = await ln.accept();

// #region writer
let written = 0;
const writer = (async () => {
  while (written < TOTAL) {
    const chunk = Buffer.alloc(CHUNK, 0x61); // a new buffer each time, as real data would be
    await conn.write(chunk); // resolves when Node has taken it; waits while the peer is not reading
    written += CHUNK;
  }
  await conn.close();
})();
// #endregion writer

// #region stalled
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
await pause(500); // the client reads nothing for 500 ms
const stalled = written;
await pause(500); // and nothing for 500 ms more
console.log(`after 500 ms without a reader: ${stalled >> 10} KiB of ${TOTAL >> 10} KiB written`);
console.log(`in the next 500 ms the writer wrote ${(written - stalled) >> 10} KiB more: it waits`);
// #endregion stalled

// #region drain
let received = 0;
for await (const chunk of client) received += chunk.length; // now the client reads, to EOF
await writer;
console.log(`the client read ${received >> 10} KiB; all written: ${written === TOTAL}`);
// #endregion drain
await client.close();
await ln.close();
