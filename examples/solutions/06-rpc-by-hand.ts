/**
 * Solution to chapter 6, exercise 1: JSON-RPC 2.0 by hand. Each request is one JSON object on
 * one line (the ndjson codec frames them); the server answers each with an object carrying the
 * same id, and an unknown method with an error object instead of a result.
 *
 * Run:   npm run build && node build/examples/solutions/06-rpc-by-hand.js HOST PORT
 * Pair:  sockit serve rpc 127.0.0.1:7070
 */
import { framed, ndjson } from "sockit/codec";
import { dial } from "sockit/net";

const [host = "127.0.0.1", port = "7070"] = process.argv.slice(2);
const conn = await dial("tcp", `${host}:${port}`, { timeout: 5000 });
const rpc = framed(conn, ndjson({ maxFrame: 1 << 16 }));

const calls: Array<[string, unknown]> = [
  ["add", [1, 2]],
  ["subtract", { minuend: 42, subtrahend: 23 }],
  ["nope", []],
];
for (const [id, [method, params]] of calls.entries()) {
  const request = { jsonrpc: "2.0", id: id + 1, method, params };
  console.log(`--> ${JSON.stringify(request)}`);
  await rpc.send(request);
  console.log(`<-- ${JSON.stringify(await rpc.read())}`);
}
await conn.closeWrite(); // the textbook end: half-close, the server closes after its answers
console.log(`then: ${String(await rpc.read())} (the server closed)`);
await conn.close();
