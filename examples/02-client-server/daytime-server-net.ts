/**
 * The daytime lab, server side, with the Go-style face (`sockit/net`): the same calls as
 * daytime-server.ts — listen() is socket + bind + listen, iterating the listener is accept().
 *
 * Run:   npm run build && node build/examples/02-client-server/daytime-server-net.js [ADDRESS]
 *        (default 127.0.0.1:7013; 127.0.0.1:0 picks a free port)
 * Pair:  node build/examples/02-client-server/daytime-client-net.js 127.0.0.1:7013
 *        (or the Berkeley client: the wire is the same)
 */
import { listen } from "sockit/net";

const ln = await listen("tcp", process.argv[2] ?? "127.0.0.1:7013");
process.once("SIGINT", () => void ln.close());
process.once("SIGTERM", () => void ln.close());
console.log(`daytime server listening on ${ln.address}`);

for await (const conn of ln) {
  // one task per client, as in the Berkeley version
  void (async () => {
    try {
      conn.setDeadline(Date.now() + 10_000); // an absolute time: 10 s for the whole exchange
      await conn.write(`${new Date().toString()}\r\n`);
      const ack = await conn.read(1024); // null: the client closed without a word
      console.log(`from ${conn.remoteAddress}: ${ack?.toString().trim() || "(no acknowledgement)"}`);
    } catch (err) {
      console.error(`client ${conn.remoteAddress}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      await conn.close();
    }
  })();
}
