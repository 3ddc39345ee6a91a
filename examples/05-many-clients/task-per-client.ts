/**
 * Chapter 5: a task per connection. The accept loop takes each connection and starts an async
 * function for it without waiting for it, so a silent client holds up nobody; at most
 * MAX_CLIENTS tasks run at once and a connection beyond that is told "busy" and closed. The
 * program then connects MAX_CLIENTS clients to itself and prints what they cost: two
 * descriptors each (the client's end and the server's, both in this one process) and some heap.
 *
 * Run:   npm run build && node build/examples/05-many-clients/task-per-client.js
 */
import { readdirSync } from "node:fs";
import { AF_INET, SOCK_STREAM, type Socket, socket } from "sockit/bsd";

const MAX_CLIENTS = 200;
let active = 0;

const srv = socket(AF_INET, SOCK_STREAM);
await srv.bind(["127.0.0.1", 0]);
await srv.listen(128);

// #region handle
/** One client's task: an upper-case echo until the client closes its end. */
async function handle(conn: Socket): Promise<void> {
  try {
    for (;;) {
      const data = await conn.recv(1024); // waits for this client only
      if (data.length === 0) break; // EOF: the client left
      await conn.sendall(Buffer.from(data.toString().toUpperCase()));
    }
  } catch (err) {
    console.log(`a client failed: ${(err as Error).message}`); // the others go on
  } finally {
    await conn.close();
    active--;
  }
}
// #endregion handle

// #region accept-loop
let stopping = false;
async function acceptLoop(): Promise<void> {
  for (;;) {
    let conn: Socket;
    try {
      [conn] = await srv.accept();
    } catch (err) {
      if (stopping) return; // srv.close() ends the pending accept()
      throw err;
    }
    if (active >= MAX_CLIENTS) {
      await conn.sendall(Buffer.from("busy: try again later\n"));
      await conn.close();
      continue;
    }
    active++;
    void handle(conn); // not awaited: the loop is back in accept() at once
  }
}
const loop = acceptLoop();
// #endregion accept-loop

/** A client connected to the server. */
async function client(): Promise<Socket> {
  const s = socket(AF_INET, SOCK_STREAM);
  await s.connect(srv.getsockname());
  return s;
}

/** Waits (at most 5 s) until `cond()` holds. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error("not within 5 s");
}

// #region silent
// two clients connect and say nothing; a third is served all the same
const silent = [await client(), await client()];
const third = await client();
await third.sendall(Buffer.from("hello\n"));
console.log(`third client got ${JSON.stringify((await third.recv(1024)).toString())}`);
console.log(`while the first two were connected and silent (tasks running: ${active})`);
// #endregion silent
for (const s of [...silent, third]) await s.close();
await until(() => active === 0);

// #region cost
const fds = () => readdirSync("/proc/self/fd").length; // this process's open descriptors
const heap = () => process.memoryUsage().heapUsed;
const [fds0, heap0] = [fds(), heap()];
const many: Socket[] = [];
for (let i = 0; i < MAX_CLIENTS; i++) many.push(await client());
for (const s of many) await s.sendall(Buffer.from("x")); // every task has run once
for (const s of many) await s.recv(1);
const [fdsN, heapN] = [fds(), heap()];
console.log(`${MAX_CLIENTS} clients connected, ${active} tasks running`);
console.log(
  `descriptors: +${fdsN - fds0} (${(fdsN - fds0) / MAX_CLIENTS} per client: its end and the server's)`,
);
const kib = (heapN - heap0) / 1024;
console.log(`heap: +${Math.round(kib)} KiB (about ${(kib / MAX_CLIENTS).toFixed(1)} KiB per client)`);
// #endregion cost

// #region busy
const extra = await client();
console.log(`client ${MAX_CLIENTS + 1} got ${JSON.stringify((await extra.recv(1024)).toString())}`);
await extra.close();
// #endregion busy

for (const s of many) await s.close();
await until(() => active === 0);
console.log(`all closed: descriptors +${fds() - fds0}, tasks running: ${active}`);
stopping = true;
await srv.close();
await loop;
