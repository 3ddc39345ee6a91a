/**
 * Chapter 3: TCP is a stream of bytes, not of messages. One send() can arrive in several recv()
 * results, two send() calls can arrive in one; so a receiver needs framing, and a sender needs
 * sendall(). The server here writes a message in three pieces with pauses (as a slow network
 * would deliver it), then two messages at once; the client shows what recv() returns each time,
 * then reads two length-prefixed frames with recv_exactly().
 *
 * Run:   npm run build && node build/examples/03-tcp/partial-reads.js
 */
import { AF_INET, SOCK_STREAM, socket } from "sockit/bsd";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const srv = socket(AF_INET, SOCK_STREAM);
await srv.bind(["127.0.0.1", 0]);
await srv.listen(1);

const server = (async () => {
  const [conn] = await srv.accept();
  // #region split
  // one message, "HELLO, WORLD\n", written in three pieces
  for (const piece of ["HEL", "LO, WO", "RLD\n"]) {
    await conn.sendall(Buffer.from(piece));
    await pause(250); // long enough for the reader to take each piece alone, even on a busy machine
  }
  // #endregion split
  // #region framing
  // two messages in one write: a 4-byte big-endian length before each ("framing")
  const frame = (text: string) => {
    const body = Buffer.from(text);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    return Buffer.concat([head, body]);
  };
  await conn.sendall(Buffer.concat([frame("first message"), frame("second, longer message")]));
  // #endregion framing
  await conn.close();
})();

const s = socket(AF_INET, SOCK_STREAM);
await s.connect(srv.getsockname());
// #region naive
// a naive reader: "one recv() is one message" — it gets a piece
const first = await s.recv(1024);
console.log(`first recv(1024): ${JSON.stringify(first.toString())} (${first.length} bytes)`);
// the right way for a line protocol: read until the end marker is in
let line = first;
while (!line.includes(0x0a)) {
  const more = await s.recv(1024);
  if (more.length === 0) break; // EOF before the end of the message
  console.log(`next recv(1024):  ${JSON.stringify(more.toString())} (${more.length} bytes)`);
  line = Buffer.concat([line, more]);
}
console.log(`whole message:    ${JSON.stringify(line.toString())}`);
// #endregion naive
// #region frames
await pause(100); // both frames are in the receive buffer now
for (let i = 0; i < 2; i++) {
  const length = (await s.recv_exactly(4)).readUInt32BE(0);
  const body = await s.recv_exactly(length);
  console.log(`frame ${i + 1}: length ${length}, ${JSON.stringify(body.toString())}`);
}
console.log(`then recv(1024) = ${(await s.recv(1024)).length} bytes: EOF, the server closed`);
// #endregion frames
await s.close();
await server;
await srv.close();
