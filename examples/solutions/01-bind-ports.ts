/**
 * Solution to chapter 1, exercise 3: port 0 gives each socket its own free port; binding a
 * third socket to the port of the first, while the first listens there, fails EADDRINUSE.
 *
 * Run:   npm run build && node build/examples/solutions/01-bind-ports.js
 */
import { AF_INET, OSError, SOCK_STREAM, socket } from "sockit/bsd";

const first = socket(AF_INET, SOCK_STREAM);
const second = socket(AF_INET, SOCK_STREAM);
await first.bind(["127.0.0.1", 0]);
await second.bind(["127.0.0.1", 0]);
await first.listen(1);
const [, p1] = first.getsockname();
const [, p2] = second.getsockname();
console.log(`first: ('127.0.0.1', ${p1}), second: ('127.0.0.1', ${p2}), different: ${p1 !== p2}`);
const third = socket(AF_INET, SOCK_STREAM);
try {
  await third.bind(["127.0.0.1", p1]);
} catch (err) {
  if (!(err instanceof OSError)) throw err;
  console.log(`third bind to the first's port: ${err.code} (errno ${err.errno})`);
}
for (const s of [first, second, third]) await s.close();
