/**
 * Solution to chapter 6, exercise 2: the RFC 868 time client over UDP. No connection: the
 * client sends one datagram (its content does not matter; an empty one will do) and the answer
 * is one datagram of the same 4 bytes. Either may be lost, so the client waits a second for
 * the answer and asks again, at most three times.
 *
 * Run:   npm run build && node build/examples/solutions/06-time-udp.js HOST PORT
 * Pair:  sockit serve time -u      (UDP is opt-in; port 7037; `rdate -pu -o 7037 127.0.0.1`)
 */
import { AF_INET, SOCK_DGRAM, TimeoutError, socket } from "sockit/bsd";

const [host = "127.0.0.1", port = "7037"] = process.argv.slice(2);
const EPOCH_1900 = 2_208_988_800; // seconds from 1900-01-01 to 1970-01-01

const s = socket(AF_INET, SOCK_DGRAM);
s.settimeout(1); // a lost datagram is never reported: a timeout is how we notice
let answer: Buffer | undefined;
for (let attempt = 1; answer === undefined && attempt <= 3; attempt++) {
  await s.sendto(Buffer.alloc(0), [host, Number(port)]);
  console.log(`attempt ${attempt}: sent an empty datagram to ${host}:${port}`);
  try {
    const [data, [fromHost, fromPort]] = await s.recvfrom(64);
    if (fromHost !== host || fromPort !== Number(port)) continue; // not the server's: ignore it
    answer = data;
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    console.log("  no answer within 1 s");
  }
}
await s.close();
if (answer === undefined)
  throw new Error(`no answer from ${host}:${port} after 3 attempts: is the UDP time service on?`);
if (answer.length !== 4) throw new Error(`expected 4 bytes, got ${answer.length}`);
const since1900 = answer.readUInt32BE(0);
console.log(`received ${answer.length} bytes: ${answer.toString("hex")} = ${since1900} seconds since 1900`);
console.log(`that is ${new Date((since1900 - EPOCH_1900) * 1000).toISOString()}`);
