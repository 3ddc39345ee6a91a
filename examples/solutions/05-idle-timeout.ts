/**
 * Solution to chapter 5, exercise 1: the task-per-client server with an idle timeout. A client
 * that sends nothing for IDLE seconds is told so and closed, which frees its slot: with
 * MAX_CLIENTS = 2, two silent clients fill the server, and a third is served once they are gone.
 *
 * Run:   npm run build && node build/examples/solutions/05-idle-timeout.js
 */
import { AF_INET, SHUT_WR, SOCK_STREAM, type Socket, TimeoutError, socket } from "sockit/bsd";

const MAX_CLIENTS = 2;
const IDLE = 0.5; // seconds
let active = 0;

const srv = socket(AF_INET, SOCK_STREAM);
await srv.bind(["127.0.0.1", 0]);
await srv.listen(16);

async function handle(conn: Socket): Promise<void> {
  conn.settimeout(IDLE); // each recv() waits at most IDLE seconds
  try {
    for (;;) {
      const data = await conn.recv(1024);
      if (data.length === 0) break;
      await conn.sendall(Buffer.from(data.toString().toUpperCase()));
    }
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    await conn.sendall(Buffer.from(`idle for ${IDLE} s: bye\n`));
  } finally {
    await conn.close();
    active--;
  }
}

let stopping = false;
const loop = (async () => {
  for (;;) {
    let conn: Socket;
    try {
      [conn] = await srv.accept();
    } catch (err) {
      if (stopping) return;
      throw err;
    }
    if (active >= MAX_CLIENTS) {
      await conn.sendall(Buffer.from("busy: try again later\n"));
      await conn.close();
      continue;
    }
    active++;
    void handle(conn);
  }
})();

async function client(): Promise<Socket> {
  const s = socket(AF_INET, SOCK_STREAM);
  await s.connect(srv.getsockname());
  return s;
}
/** What the server sends until it closes the connection. */
async function text(s: Socket): Promise<string> {
  const got: Buffer[] = [];
  for (let d = await s.recv(1024); d.length > 0; d = await s.recv(1024)) got.push(d);
  return JSON.stringify(Buffer.concat(got).toString());
}

const silent = [await client(), await client()];
const early = await client();
console.log(`a third client at once: ${await text(early)}`);
await early.close();
for (const [i, s] of silent.entries()) console.log(`silent client ${i + 1}: ${await text(s)}`);
for (const s of silent) await s.close();
const late = await client();
await late.sendall(Buffer.from("hello\n"));
late.shutdown(SHUT_WR); // its task answers, reads EOF and closes: text() reads to the end
console.log(`a third client now: ${await text(late)}`);
await late.close();
stopping = true;
await srv.close();
await loop;
