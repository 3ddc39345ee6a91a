/**
 * Chapter 4: broadcast. One sendto() to a network's broadcast address reaches every socket bound
 * to that port on the network. Loopback is a network too: 127.0.0.0/8, whose broadcast address
 * is 127.255.255.255, so two receivers here both get the one datagram, and nothing leaves the
 * machine. Without SO_BROADCAST the kernel refuses to send to a broadcast address at all.
 *
 * Run:   npm run build && node build/examples/04-udp/broadcast.js
 */
import { AF_INET, SO_BROADCAST, SO_REUSEADDR, SOCK_DGRAM, SOL_SOCKET, socket } from "sockit/bsd";

const BROADCAST = "127.255.255.255"; // on a LAN: its broadcast address, or "<broadcast>"

// #region receivers
// two receivers share the port (SO_REUSEADDR); bound to the broadcast address, they get only
// broadcasts
const first = socket(AF_INET, SOCK_DGRAM);
first.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
await first.bind([BROADCAST, 0]);
const [, port] = first.getsockname();
const second = socket(AF_INET, SOCK_DGRAM);
second.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
await second.bind([BROADCAST, port]);
// #endregion receivers

// #region send
const tx = socket(AF_INET, SOCK_DGRAM);
try {
  await tx.sendto(Buffer.from("anyone there?"), [BROADCAST, port]);
} catch (err) {
  console.log(`without SO_BROADCAST: ${(err as Error).name}: ${(err as Error).message}`);
}
tx.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
await tx.sendto(Buffer.from("anyone there?"), [BROADCAST, port]);
console.log(`with SO_BROADCAST: one sendto() to ${BROADCAST}`);
for (const [name, rx] of [
  ["first", first],
  ["second", second],
] as const) {
  rx.settimeout(2);
  const [data, [fromHost]] = await rx.recvfrom(1024);
  console.log(`${name} receiver got ${JSON.stringify(data.toString())} from ${fromHost}`);
}
// #endregion send

await tx.close();
await first.close();
await second.close();
