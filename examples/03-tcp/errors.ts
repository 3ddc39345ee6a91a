/**
 * Chapter 3: the four errors every student meets, provoked on purpose, with their class, errno
 * and message: connection refused, connection reset, timeout, address already in use.
 *
 * Run:   npm run build && node build/examples/03-tcp/errors.js
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { AF_INET, OSError, SOCK_STREAM, socket } from "sockit/bsd";

if (process.argv[2] === "--silent-server") {
  // the server of case 2: accepts, prints its port, never reads, waits to be killed
  const srv = socket(AF_INET, SOCK_STREAM);
  await srv.bind(["127.0.0.1", 0]);
  await srv.listen(1);
  process.stdout.write(String(srv.getsockname()[1]));
  await srv.accept();
  await new Promise(() => setInterval(() => {}, 1000));
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function show(what: string, err: unknown): void {
  if (!(err instanceof OSError)) throw err;
  console.log(`${what}\n  ${err.name} errno ${err.errno} ${err.code}: ${err.message}`);
}

// #region refused
// 1. refused: a port where nothing listens (it was free a moment ago: port 0 found it)
const probe = socket(AF_INET, SOCK_STREAM);
await probe.bind(["127.0.0.1", 0]);
const free = probe.getsockname();
await probe.close();
const c1 = socket(AF_INET, SOCK_STREAM);
try {
  await c1.connect(free);
} catch (err) {
  show("connect to a port where nothing listens:", err);
}
await c1.close();
// #endregion refused

// #region reset
// 2. reset: a server in another process crashes (kill -9) while 1 MiB it never read waits in its
// kernel's receive queue; the kernel, closing for it, answers with RST instead of FIN
const server = spawn(process.execPath, [fileURLToPath(import.meta.url), "--silent-server"]);
const [port] = (await once(server.stdout, "data")) as [Buffer];
const c2 = socket(AF_INET, SOCK_STREAM);
await c2.connect(["127.0.0.1", Number(port.toString())]);
await c2.sendall(Buffer.alloc(1024 * 1024, "x")); // a request the server never reads
await pause(200);
server.kill("SIGKILL");
await once(server, "exit");
try {
  await c2.recv(1024);
} catch (err) {
  show("recv after the server crashed with unread data:", err);
}
await c2.close();
// #endregion reset

// #region timeout
// 3. timeout: the server accepts but never answers; settimeout bounds the wait
const srv = socket(AF_INET, SOCK_STREAM);
await srv.bind(["127.0.0.1", 0]);
await srv.listen(1);
const c3 = socket(AF_INET, SOCK_STREAM);
await c3.connect(srv.getsockname());
const [silent] = await srv.accept();
c3.settimeout(0.3);
try {
  await c3.recv(1024);
} catch (err) {
  show("recv from a server that says nothing, with settimeout(0.3):", err);
}
await c3.close();
await silent.close();
// #endregion timeout

// #region inuse
// 4. address in use: a second socket binds the port the listener has
const second = socket(AF_INET, SOCK_STREAM);
try {
  await second.bind(srv.getsockname());
} catch (err) {
  show("bind to the port of a listening socket:", err);
}
await second.close();
await srv.close();
// #endregion inuse
