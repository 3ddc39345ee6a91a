/**
 * Chapter 3: the three ways a socket call can wait. Blocking (the default): recv() waits as long
 * as it takes. With a timeout (settimeout(0.5)): it waits at most 0.5 s, then raises TimeoutError
 * and the socket stays usable. Non-blocking (setblocking(false)): it never waits; when there is
 * nothing yet it raises BlockingIOError (EAGAIN), and select() tells when to try again.
 *
 * Run:   npm run build && node build/examples/03-tcp/timeouts-nonblocking.js
 */
import { AF_INET, BlockingIOError, SOCK_STREAM, TimeoutError, select, socket } from "sockit/bsd";

const srv = socket(AF_INET, SOCK_STREAM);
await srv.bind(["127.0.0.1", 0]);
await srv.listen(1);
const s = socket(AF_INET, SOCK_STREAM);
await s.connect(srv.getsockname());
const [conn] = await srv.accept(); // the server side: it says nothing until told to

// #region timeout
s.settimeout(0.5);
console.log(`gettimeout() = ${s.gettimeout()}`);
try {
  await s.recv(1024); // the server is silent
} catch (err) {
  if (!(err instanceof TimeoutError)) throw err;
  console.log(`recv: ${err.name}: ${err.message}`);
}
await conn.sendall(Buffer.from("late reply"));
console.log(`recv after the timeout: ${JSON.stringify((await s.recv(1024)).toString())}`);
// #endregion timeout

// #region nonblocking
s.setblocking(false); // the same as settimeout(0)
console.log(`getblocking() = ${s.getblocking()}, gettimeout() = ${s.gettimeout()}`);
try {
  await s.recv(1024);
} catch (err) {
  if (!(err instanceof BlockingIOError)) throw err;
  console.log(`recv: ${err.name} (${err.code}): ${err.message}`);
}
setTimeout(() => void conn.sendall(Buffer.from("ready now")), 200);
const [readable] = await select([s], [], [], 2); // wait until recv() will not block, 2 s at most
console.log(`select: ${readable.length} socket(s) readable`);
console.log(`recv: ${JSON.stringify((await s.recv(1024)).toString())}`);
// #endregion nonblocking

await conn.close();
await s.close();
await srv.close();
