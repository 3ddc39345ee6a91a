/**
 * Chapter 6: an RFC 868 time client by hand, with the Berkeley face. The server sends 4 bytes,
 * the seconds since 1900-01-01 00:00 UTC in network byte order (big-endian, chapter 1's
 * `ntohl`), and closes; Unix time counts from 1970, 2,208,988,800 seconds later.
 *
 * Run:   npm run build && node build/examples/06-protocols/time-client.js HOST PORT
 * Pair:  sockit serve time      (TCP on 127.0.0.1:7037; `rdate -p -o 7037 127.0.0.1` reads it too)
 */
import { AF_INET, SOCK_STREAM, socket } from "sockit/bsd";

const [host = "127.0.0.1", port = "7037"] = process.argv.slice(2);

// #region time
/** Seconds from 1900-01-01 to 1970-01-01: 70 years, 17 of them leap years. */
const EPOCH_1900 = (70 * 365 + 17) * 86_400; // 2_208_988_800

const s = socket(AF_INET, SOCK_STREAM);
s.settimeout(5);
await s.connect([host, Number(port)]);
const raw = await s.recv_exactly(4); // TCP may deliver the 4 bytes in pieces: wait for all 4
await s.close();
const since1900 = raw.readUInt32BE(0); // big-endian: network byte order
const unix = since1900 - EPOCH_1900;
console.log(`received ${raw.length} bytes: ${raw.toString("hex")} = ${since1900} seconds since 1900`);
console.log(`minus ${EPOCH_1900} = ${unix} seconds since 1970 (Unix time)`);
console.log(`that is ${new Date(unix * 1000).toISOString()}`);
// #endregion time
