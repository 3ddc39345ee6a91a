/**
 * Solution to chapter 3, exercise 2: half-close.ts without the shutdown(SHUT_WR). The server
 * waits for an EOF that does not come, the client for an answer that does not come: deadlock,
 * until the client's timeout. Closing the client then gives the server its EOF — too late, the
 * answer goes to a socket nobody reads.
 *
 * Run:   npm run build && node build/examples/solutions/03-no-half-close.js
 */
import { AF_INET, SOCK_STREAM, TimeoutError, socket } from "sockit/bsd";

const srv = socket(AF_INET, SOCK_STREAM);
await srv.bind(["127.0.0.1", 0]);
await srv.listen(1);
const server = (async () => {
  const [conn] = await srv.accept();
  let total = 0;
  for (let data = await conn.recv(4096); data.length > 0; data = await conn.recv(4096)) total += data.length;
  console.log(`server: EOF after ${total} bytes, only once the client closed`);
  await conn.close();
})();

const s = socket(AF_INET, SOCK_STREAM);
await s.connect(srv.getsockname());
await s.sendall(Buffer.from("one two three")); // no shutdown(SHUT_WR): the server cannot know it is all
s.settimeout(1);
try {
  await s.recv(4096);
} catch (err) {
  if (!(err instanceof TimeoutError)) throw err;
  console.log(`client: no answer — ${err.name} (${err.code}); both sides were waiting for the other`);
}
await s.close();
await server;
await srv.close();
