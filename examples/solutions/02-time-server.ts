/**
 * Solution to chapter 2, exercise 1: the daytime lab with the time protocol of RFC 868 — the
 * server sends 4 bytes, the seconds since 1900-01-01 00:00 UTC in network byte order, and
 * closes; the client reads exactly 4 bytes and prints them as a date. Both in one program.
 *
 * Run:   npm run build && node build/examples/solutions/02-time-server.js
 * Check: `sockit serve time` is the same service; `rdate -p -o PORT 127.0.0.1` reads either.
 */
import { AF_INET, SOCK_STREAM, socket } from "sockit/bsd";

/** Seconds from 1900-01-01 to 1970-01-01 (RFC 868). */
const EPOCH_1900 = 2_208_988_800;

const srv = socket(AF_INET, SOCK_STREAM);
await srv.bind(["127.0.0.1", 0]);
await srv.listen(5);
const serving = (async () => {
  const [conn] = await srv.accept();
  const seconds = Buffer.alloc(4);
  seconds.writeUInt32BE(Math.floor(Date.now() / 1000) + EPOCH_1900); // big-endian = network order
  await conn.sendall(seconds);
  await conn.close();
})();

const s = socket(AF_INET, SOCK_STREAM);
s.settimeout(5);
await s.connect(srv.getsockname());
const raw = await s.recv_exactly(4); // TCP may deliver the 4 bytes in pieces: wait for all 4
const since1900 = raw.readUInt32BE(0);
console.log(`received ${raw.toString("hex")} = ${since1900} seconds since 1900`);
console.log(`that is ${new Date((since1900 - EPOCH_1900) * 1000).toISOString()}`);
await s.close();
await serving;
await srv.close();
