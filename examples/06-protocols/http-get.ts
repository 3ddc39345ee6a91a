/**
 * Chapter 6: an HTTP/1.0 GET by hand. One request, written as text; the server answers with a
 * status line, headers, an empty line and the body, and closes the connection (HTTP/1.0), so
 * the response is everything read until EOF.
 *
 * Run:   npm run build && node build/examples/06-protocols/http-get.js HOST PORT PATH
 * Pair:  sockit serve http DIR --port 8080    (or any web server)
 */
import { dial } from "sockit/net";

const [host = "127.0.0.1", port = "8080", path = "/"] = process.argv.slice(2);

// #region request
const conn = await dial("tcp", `${host}:${port}`, { timeout: 5000 });
await conn.write(`GET ${path} HTTP/1.0\r\nHost: ${host}:${port}\r\n\r\n`);
const chunks: Buffer[] = [];
for await (const chunk of conn) chunks.push(chunk); // HTTP/1.0: the server closes after the body
await conn.close();
const response = Buffer.concat(chunks).toString("latin1");
const end = response.indexOf("\r\n\r\n"); // the head ends at the first empty line
const [status, ...headers] = response.slice(0, end).split("\r\n");
// #endregion request
console.log(status);
for (const h of headers) if (/^(content-type|content-length):/i.test(h)) console.log(h);
console.log(`body: ${JSON.stringify(response.slice(end + 4))}`);
