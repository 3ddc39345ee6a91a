/**
 * A UDP echo server and client in one program, with the Berkeley face: the connectionless half
 * of socket programming. Datagrams keep their boundaries: three sendto() calls are three
 * recvfrom() results, however short.
 *
 * Run:   npm run build && node build/examples/04-udp/udp-echo.js [PORT]      (default: a free port)
 * Pair:  while it runs, `sockit connect -u 127.0.0.1 PORT` or `nc -u 127.0.0.1 PORT` (type lines)
 *        — the server keeps echoing until Ctrl-C; without a PORT it exits after its own client.
 */
import { AF_INET, SOCK_DGRAM, socket } from "sockit/bsd";

const fixed = process.argv[2] !== undefined;
const srv = socket(AF_INET, SOCK_DGRAM);
await srv.bind(["127.0.0.1", fixed ? Number(process.argv[2]) : 0]);
const [host, port] = srv.getsockname(); // [string, number]: an AF_INET socket
console.log(`udp echo server on ${host}:${port}`);

// #region server
// the server: one loop, no connections — each datagram says where it came from
const serving = (async () => {
  for (;;) {
    let datagram;
    try {
      datagram = await srv.recvfrom(2048); // [data, sender]: never null on a datagram socket
    } catch {
      return; // closed
    }
    const [data, addr] = datagram;
    await srv.sendto(data, addr);
  }
})();
// #endregion server

if (!fixed) {
  // #region client
  // the client: no connect() needed, every sendto names its destination
  const cli = socket(AF_INET, SOCK_DGRAM);
  cli.settimeout(2); // UDP is best effort: never wait forever for a reply
  for (const msg of ["one", "two", "three"]) await cli.sendto(Buffer.from(msg), [host, port]);
  for (let i = 0; i < 3; i++) {
    const [reply, [fromHost, fromPort]] = await cli.recvfrom(2048);
    console.log(`reply ${JSON.stringify(reply.toString())} from ('${fromHost}', ${fromPort})`);
  }
  await cli.close();
  // #endregion client
  await srv.close();
} else {
  process.once("SIGINT", () => void srv.close());
  process.once("SIGTERM", () => void srv.close());
}
await serving;
