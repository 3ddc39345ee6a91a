/**
 * Chapter 3: half-close. The client sends its whole request and then shutdown(SHUT_WR): the
 * server's recv() returns b"" (EOF), so it knows the request is complete, and it can still send
 * the answer on the same connection, which the client reads until the server's EOF.
 *
 * Run:   npm run build && node build/examples/03-tcp/half-close.js
 */
import { AF_INET, SHUT_WR, SOCK_STREAM, socket } from "sockit/bsd";

const srv = socket(AF_INET, SOCK_STREAM);
await srv.bind(["127.0.0.1", 0]);
await srv.listen(1);

// #region server
const server = (async () => {
  const [conn] = await srv.accept();
  let total = 0;
  for (;;) {
    const data = await conn.recv(4096);
    if (data.length === 0) break; // EOF: the client will send nothing more
    total += data.length;
  }
  console.log(`server: EOF after ${total} bytes; answering`);
  await conn.sendall(Buffer.from(`you sent ${total} bytes\n`));
  await conn.close();
})();
// #endregion server

// #region client
const s = socket(AF_INET, SOCK_STREAM);
await s.connect(srv.getsockname());
for (const part of ["one ", "two ", "three"]) await s.sendall(Buffer.from(part));
s.shutdown(SHUT_WR); // "I have finished sending" — a FIN; receiving still works
console.log("client: request sent, write side shut down");
const answer: Buffer[] = [];
for (let data = await s.recv(4096); data.length > 0; data = await s.recv(4096)) answer.push(data);
console.log(`client: answer ${JSON.stringify(Buffer.concat(answer).toString())}`);
await s.close();
// #endregion client
await server;
await srv.close();
