/**
 * The classic daytime lab, server side, with the Berkeley face.
 *
 * Run:   npm run build && node build/examples/02-client-server/daytime-server.js [PORT] [HOST]
 *        (defaults: port 7013, host 127.0.0.1; `npm start` runs this)
 * Pair:  node build/examples/02-client-server/daytime-client.js 127.0.0.1 7013
 *
 * For each client: accept, send the current date and time, receive the acknowledgement and print
 * it with the client's address, close. Ctrl-C stops the server.
 */
import { AF_INET, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET, socket } from "sockit/bsd";

const port = Number(process.argv[2] ?? 7013);
const host = process.argv[3] ?? "127.0.0.1";

const srv = socket(AF_INET, SOCK_STREAM);
// signal handlers first: a signal that comes right after "listening" must find them
const stop = async () => {
  await srv.close();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
await srv.bind([host, port]);
await srv.listen(5);
const [h, p] = srv.getsockname(); // [string, number]: an AF_INET socket
console.log(`daytime server listening on ${h}:${p}`);
console.log(`try: node build/examples/02-client-server/daytime-client.js ${h} ${p}   (or: nc ${h} ${p})`);

for (;;) {
  let accepted;
  try {
    accepted = await srv.accept();
  } catch (err) {
    if (srv.fileno() === -1) break; // closed by a signal
    throw err;
  }
  const [conn, addr] = accepted;
  // one task per client, so a slow client does not hold up the others
  void (async () => {
    try {
      conn.settimeout(10);
      await conn.sendall(Buffer.from(`${new Date().toString()}\r\n`));
      const ack = await conn.recv(1024);
      const [ch, cp] = addr;
      console.log(`from ('${ch}', ${cp}): ${ack.toString().trim() || "(no acknowledgement)"}`);
    } catch (err) {
      console.error(`client ${String(addr)}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      await conn.close();
    }
  })();
}
