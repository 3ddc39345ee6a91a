/**
 * Chapter 7: the Go-style face. listen() and a `for await` over the listener, a task per
 * connection, lines framed by the `lines` codec, a read deadline that ends a silent client, and
 * the same echo over UDP with listenPacket().
 *
 * Run:   npm run build && node build/examples/07-go-face/go-echo.js
 */
import { framed, lines } from "sockit/codec";
import { type Conn, TimeoutError, dial, listen, listenPacket } from "sockit/net";

// #region server
const ln = await listen("tcp", "127.0.0.1:0"); // socket + bind + listen
console.log(`listening on ${ln.address}`);

async function serve(conn: Conn): Promise<void> {
  const f = framed(conn, lines({ maxLine: 1024 })); // frames are strings, without the newline
  try {
    for (;;) {
      conn.setReadDeadline(Date.now() + 300); // a client silent for 300 ms is let go
      const line = await f.read(); // undefined at EOF
      if (line === undefined) break;
      await f.send(line.toUpperCase());
    }
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    console.log(`server: ${conn.remoteAddress} silent: ${err.name} ${err.code}`);
  } finally {
    await conn.close();
  }
}

const serving = (async () => {
  for await (const conn of ln) void serve(conn); // accept(); ends when ln is closed
})();
// #endregion server

// #region client
const conn = await dial("tcp", ln.address, { timeout: 2000 }); // getaddrinfo + socket + connect
const f = framed(conn, lines({ maxLine: 1024 }));
for (const word of ["hello", "world"]) {
  await f.send(word);
  console.log(`client: ${word} -> ${await f.read()}`);
}
// then it says nothing: the server's deadline passes and it closes the connection
console.log(`client: after a silence, read() gives ${await f.read()} (EOF)`);
await conn.close();
// #endregion client

// #region udp
const pc = await listenPacket("udp", "127.0.0.1:0"); // socket(SOCK_DGRAM) + bind
const echoing = (async () => {
  for await (const p of pc) await pc.writeTo(p.data, p.endpoint); // recvfrom / sendto
})();
const client = await dial("udp", `127.0.0.1:${pc.port}`); // a PacketConn with a fixed peer
await client.write(Buffer.from("one datagram"));
console.log(`udp: ${JSON.stringify((await client.read(2048))?.toString())}`);
await client.close();
await pc.close();
await echoing;
// #endregion udp

await ln.close();
await serving;
