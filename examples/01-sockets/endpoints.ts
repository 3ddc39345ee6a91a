/**
 * Chapter 1: what a socket's address is made of. Prints this machine's name, what getaddrinfo()
 * makes of every host form and port form, the two kinds of socket, the byte order of a port on
 * the wire, and what bind() does with "", a name and an IPv6 address.
 *
 * Run:   npm run build && node build/examples/01-sockets/endpoints.js
 * Only loopback is used: nothing leaves the machine.
 */
import {
  AF_INET,
  AF_INET6,
  SO_TYPE,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  getaddrinfo,
  gethostname,
  getservbyname,
  getservbyport,
  htons,
  inet_aton,
  socket,
} from "sockit/bsd";

console.log(`gethostname() = '${gethostname()}'`);

// #region hosts
// every host form getaddrinfo() accepts, with port 13 (daytime) and SOCK_STREAM
const hosts = ["localhost", "127.0.0.1", "::1", "2130706433", "0x7f000001", "127.1", "", "<broadcast>"];
for (const host of hosts) {
  try {
    // AF_INET for names, so "localhost" gives 127.0.0.1 wherever it also has ::1
    const want = host.includes(":") ? AF_INET6 : AF_INET;
    const [[family, , , , sockaddr]] = (await getaddrinfo(host, 13, want, SOCK_STREAM)) as [
      Awaited<ReturnType<typeof getaddrinfo>>[number],
    ];
    const name = family === AF_INET ? "AF_INET" : "AF_INET6";
    console.log(`host ${JSON.stringify(host).padEnd(13)} -> ${name.padEnd(8)} ${JSON.stringify(sockaddr)}`);
  } catch (err) {
    console.log(
      `host ${JSON.stringify(host).padEnd(13)} -> ${(err as Error).name}: ${(err as Error).message}`,
    );
  }
}
// #endregion hosts

// #region ports
// every port form: a number, a numeric string, a service name from /etc/services
for (const port of [13, "13", "daytime", "http", "nosuch"]) {
  try {
    const [[, , , , [, p]]] = (await getaddrinfo("127.0.0.1", port, AF_INET, SOCK_STREAM)) as [
      [number, number, number, string, [string, number]],
    ];
    console.log(`port ${JSON.stringify(port).padEnd(9)} -> ${p}`);
  } catch (err) {
    console.log(
      `port ${JSON.stringify(port).padEnd(9)} -> ${(err as Error).name}: ${(err as Error).message}`,
    );
  }
}
console.log(`getservbyname("daytime", "tcp") = ${getservbyname("daytime", "tcp")}`);
console.log(`getservbyport(80, "tcp") = '${getservbyport(80, "tcp")}'`);
// #endregion ports

// #region kinds
// one name, two kinds of socket: type 0 asks for both
for (const [family, type, proto, , sockaddr] of await getaddrinfo("127.0.0.1", "daytime", AF_INET)) {
  const kind = type === SOCK_STREAM ? "SOCK_STREAM" : type === SOCK_DGRAM ? "SOCK_DGRAM" : `type ${type}`;
  console.log(`family ${family}, ${kind.padEnd(11)}, proto ${proto} -> ${JSON.stringify(sockaddr)}`);
}
const tcp = socket(AF_INET, SOCK_STREAM);
const udp = socket(AF_INET, SOCK_DGRAM);
console.log(
  `SO_TYPE: tcp ${String(tcp.getsockopt(SOL_SOCKET, SO_TYPE))}, udp ${String(udp.getsockopt(SOL_SOCKET, SO_TYPE))}`,
);
await tcp.close();
await udp.close();
// #endregion kinds

// #region order
// a port travels big-endian ("network byte order"); x86 and ARM hosts are little-endian
const port = 7013;
console.log(`htons(${port}) = ${htons(port)} (0x${port.toString(16)} -> 0x${htons(port).toString(16)})`);
const wire = Buffer.alloc(2);
wire.writeUInt16BE(port);
console.log(
  `on the wire: ${wire.toString("hex")}; inet_aton("127.0.0.1") = ${inet_aton("127.0.0.1").toString("hex")}`,
);
// #endregion order

// #region bind
// bind() with "" (every address), a name, a number as a string, IPv6; port 0 = "any free port"
for (const [family, host] of [
  [AF_INET, ""],
  [AF_INET, "localhost"],
  [AF_INET, "127.0.0.1"],
  [AF_INET6, "::1"],
] as const) {
  const s = socket(family, SOCK_STREAM);
  await s.bind([host, 0]);
  const [h, p] = s.getsockname();
  console.log(`bind(${JSON.stringify([host, 0])}) -> getsockname() = ('${h}', ${p > 0 ? "a free port" : p})`);
  await s.close();
}
// "<broadcast>" is 255.255.255.255: the kernel refuses it until SO_BROADCAST is set (chapter 4)
const u = socket(AF_INET, SOCK_DGRAM);
try {
  await u.sendto("hello", ["<broadcast>", 7013]);
} catch (err) {
  console.log(`sendto(["<broadcast>", 7013]) -> ${(err as Error).name}: ${(err as Error).message}`);
}
await u.close();
// #endregion bind
