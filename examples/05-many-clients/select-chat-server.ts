/**
 * The classic select()-based chat server: one process, one loop, no task per client.
 *
 * Run:   npm run build && node build/examples/05-many-clients/select-chat-server.js [PORT] [HOST]
 *        (defaults: port 7070, host 127.0.0.1; port 0 picks a free port)
 * Pair:  nc 127.0.0.1 7070     (in several terminals; type lines, see the others' lines)
 *
 * The loop waits in `select([listener, ...clients])`. A readable listener means a connection is
 * pending: accept it. A readable client means `recv()` will not wait: empty = the client left;
 * otherwise its bytes are split into lines and each whole line goes, prefixed with the sender's
 * address (`[127.0.0.1:54321] hello`), to every other client with a non-blocking `send()`.
 * A client whose send would block is dropped, so one slow reader cannot stall the room; so is a
 * client sending a line longer than MAX_LINE bytes. Ctrl-C (or SIGTERM) closes everything.
 */
import {
  AF_INET,
  BlockingIOError,
  SO_REUSEADDR,
  SOCK_STREAM,
  SOL_SOCKET,
  type Socket,
  select,
  socket,
} from "sockit/bsd";

/** Longest line a client may send (bytes, without the newline). */
const MAX_LINE = 4096;

const port = Number(process.argv[2] ?? 7070);
const host = process.argv[3] ?? "127.0.0.1";

interface Client {
  readonly sock: Socket;
  /** "127.0.0.1:54321": the prefix of its lines. */
  readonly name: string;
  /** Bytes after the last newline seen: a line still being typed. */
  partial: Buffer;
}

const srv = socket(AF_INET, SOCK_STREAM);
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
await srv.bind([host, port]);
await srv.listen(16);
srv.setblocking(false);
// handlers before the "listening" line: whoever reads it may signal us at once
let stopping = false;
const stop = () => {
  stopping = true;
  void srv.close(); // the pending select() now rejects EBADF and the loop ends
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
const [h, p] = srv.getsockname(); // [string, number]: an AF_INET socket
console.log(`chat server listening on ${h}:${p}`);
console.log(`try: nc ${h} ${p}   (in several terminals)`);

const clients = new Map<Socket, Client>();

// #region broadcast
/** Sends `text` to every client but `except`, without waiting; drops those that would block. */
async function broadcast(text: string, except?: Client): Promise<void> {
  const data = Buffer.from(text);
  const failed: Array<[Client, string]> = [];
  for (const c of [...clients.values()]) {
    if (c === except) continue;
    try {
      await c.sock.send(data);
    } catch (err) {
      failed.push([c, err instanceof BlockingIOError ? "dropped (too slow)" : "left"]);
    }
  }
  for (const [c, why] of failed) await drop(c, why);
}
// #endregion broadcast

/** Forgets a client, closes it and tells the room. */
async function drop(c: Client, why: string, notice?: string): Promise<void> {
  if (!clients.delete(c.sock)) return;
  if (notice !== undefined) await c.sock.send(Buffer.from(notice)).catch(() => {});
  await c.sock.close();
  console.log(`* ${c.name} ${why}`);
  await broadcast(`* ${c.name} ${why}\n`);
}

async function join(): Promise<void> {
  let accepted;
  try {
    accepted = await srv.accept();
  } catch (err) {
    if (err instanceof BlockingIOError) return; // the connection went away before we took it
    throw err;
  }
  const [sock, [ch, cp]] = accepted;
  sock.setblocking(false);
  const c: Client = { sock, name: `${ch}:${cp}`, partial: Buffer.alloc(0) };
  const others = clients.size;
  clients.set(sock, c);
  console.log(`* ${c.name} joined`);
  await broadcast(`* ${c.name} joined\n`, c);
  try {
    await sock.send(Buffer.from(`* welcome ${c.name}; ${others} other(s) here\n`));
  } catch {
    await drop(c, "left");
  }
}

async function receive(c: Client): Promise<void> {
  let data: Buffer;
  try {
    data = await c.sock.recv(4096); // readable: does not wait
  } catch (err) {
    if (err instanceof BlockingIOError) return;
    await drop(c, "left");
    return;
  }
  if (data.length === 0) {
    await drop(c, "left"); // an unfinished line is discarded with its sender
    return;
  }
  let buf = c.partial.length === 0 ? data : Buffer.concat([c.partial, data]);
  for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a)) {
    let line = buf.subarray(0, nl);
    buf = buf.subarray(nl + 1);
    if (line.length > MAX_LINE) {
      await drop(c, "dropped (line too long)", `* lines are limited to ${MAX_LINE} bytes; bye\n`);
      return;
    }
    if (line.at(-1) === 0x0d) line = line.subarray(0, -1); // nc -C, telnet: CRLF
    if (line.length === 0) continue;
    await broadcast(`[${c.name}] ${line.toString()}\n`, c);
    if (!clients.has(c.sock)) return; // dropped while broadcasting (its own send failed)
  }
  if (buf.length > MAX_LINE) {
    await drop(c, "dropped (line too long)", `* lines are limited to ${MAX_LINE} bytes; bye\n`);
    return;
  }
  c.partial = Buffer.from(buf); // a copy: keep only the unfinished line, not the whole chunk
}

// #region loop
for (;;) {
  let readable: Socket[];
  try {
    [readable] = await select([srv, ...clients.keys()], [], [], null);
  } catch (err) {
    if (stopping) break;
    throw err;
  }
  for (const s of readable) {
    if (stopping) break;
    if (s === srv) await join();
    else {
      const c = clients.get(s);
      if (c) await receive(c); // skip a client dropped earlier in this round
    }
  }
  if (stopping) break;
}
// #endregion loop

console.log(`* shutting down (${clients.size} client(s))`);
await broadcast("* server shutting down\n");
for (const c of clients.values()) await c.sock.close();
clients.clear();
await srv.close();
process.exit(0);
