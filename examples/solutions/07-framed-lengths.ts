/**
 * Solution to chapter 7, exercise 1: a server that reads length-prefixed frames with framed()
 * and answers each with a line saying its size; a frame past maxFrame makes the server's read()
 * throw FrameTooLargeError before the body is buffered, and the server closes the connection.
 *
 * Run:   npm run build && node build/examples/solutions/07-framed-lengths.js
 */
import { FrameTooLargeError, framed, lengthPrefixed, lines } from "sockit/codec";
import { dial, listen } from "sockit/net";

const frames = lengthPrefixed({ headerBytes: 4, endian: "big", maxFrame: 1024 });
const ln = await listen("tcp", "127.0.0.1:0");

const serving = (async () => {
  for await (const conn of ln) {
    void (async () => {
      const inbound = framed(conn, frames);
      const outbound = framed(conn, lines({ maxLine: 1024 }));
      try {
        for await (const body of inbound) await outbound.send(`got ${body.length} bytes`);
      } catch (err) {
        if (!(err instanceof FrameTooLargeError)) throw err;
        await outbound.send(`refused: ${err.code}`);
        console.log(`server: ${err.message}`);
      } finally {
        await conn.close();
      }
    })();
  }
})();

const conn = await dial("tcp", ln.address);
const replies = framed(conn, lines({ maxLine: 1024 }));
for (const size of [5, 1024]) {
  await conn.write(frames.encode(Buffer.alloc(size, 0x61)));
  console.log(`client: ${size} bytes sent: ${await replies.read()}`);
}
const head = Buffer.alloc(4);
head.writeUInt32BE(1 << 20); // announces 1 MiB, more than the server's maxFrame
await conn.write(head);
console.log(`client: a 1 MiB header sent: ${await replies.read()}`);
console.log(`client: then ${await replies.read()} (the server closed)`);
await conn.close();
await ln.close();
await serving;
