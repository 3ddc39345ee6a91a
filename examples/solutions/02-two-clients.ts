/**
 * Solution to chapter 2, exercise 2: one listening socket, two clients at once. Each accept()
 * returns a new socket — a new descriptor — while the listening one stays; each connection is
 * told apart by the client's endpoint.
 *
 * Run:   npm run build && node build/examples/solutions/02-two-clients.js
 */
import { AF_INET, SOCK_STREAM, socket } from "sockit/bsd";

const srv = socket(AF_INET, SOCK_STREAM);
await srv.bind(["127.0.0.1", 0]);
await srv.listen(5);
console.log(`listening socket: ${srv.fileno()}`);

const clients = [socket(AF_INET, SOCK_STREAM), socket(AF_INET, SOCK_STREAM)];
for (const c of clients) await c.connect(srv.getsockname()); // both wait in the accept queue
console.log(`client sockets: ${clients.map((c) => c.fileno()).join(" and ")}`);

const accepted = [await srv.accept(), await srv.accept()]; // both kept open: two descriptors
for (const [i, [conn, [host, port]]] of accepted.entries()) {
  const [, mine] = clients[i]!.getsockname();
  console.log(
    `accept() #${i + 1}: new socket ${conn.fileno()}, peer ('${host}', ${port}), client ${i + 1}'s end: ${port === mine}`,
  );
}
for (const [conn] of accepted) await conn.close();
for (const c of clients) await c.close();
await srv.close();
