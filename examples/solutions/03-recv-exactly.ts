/**
 * Solution to chapter 3, exercise 1: recv_exactly() written with recv() alone — the loop every
 * framed protocol needs, since one recv() may return any part of what was sent.
 *
 * Run:   npm run build && node build/examples/solutions/03-recv-exactly.js
 */
import { AF_INET, SOCK_STREAM, type Socket, socket } from "sockit/bsd";

/** Reads exactly `n` bytes from `s`, however they are split; throws at EOF before that. */
async function recvExactly(s: Socket, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const data = await s.recv(n - have); // never more than still needed
    if (data.length === 0) throw new Error(`EOF after ${have} of ${n} bytes`);
    console.log(`  recv(${n - have}) = ${data.length} bytes`);
    parts.push(data);
    have += data.length;
  }
  return Buffer.concat(parts);
}

const srv = socket(AF_INET, SOCK_STREAM);
await srv.bind(["127.0.0.1", 0]);
await srv.listen(1);
const serving = (async () => {
  const [conn] = await srv.accept();
  const body = Buffer.from("twenty bytes of text");
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  // the frame in three pieces, as a slow network might deliver it
  for (const piece of [
    head.subarray(0, 2),
    Buffer.concat([head.subarray(2), body.subarray(0, 6)]),
    body.subarray(6),
  ]) {
    await conn.sendall(piece);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await conn.close();
})();

const s = socket(AF_INET, SOCK_STREAM);
s.settimeout(5);
await s.connect(srv.getsockname());
console.log("reading the 4-byte length:");
const length = (await recvExactly(s, 4)).readUInt32BE(0);
console.log(`reading the ${length}-byte body:`);
console.log(`frame: ${JSON.stringify((await recvExactly(s, length)).toString())}`);
try {
  await recvExactly(s, 1);
} catch (err) {
  console.log(`one more byte: ${(err as Error).message}`);
}
await s.close();
await serving;
await srv.close();
