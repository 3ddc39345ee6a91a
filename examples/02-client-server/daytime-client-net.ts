/**
 * The daytime lab, client side, with the Go-style face (`sockit/net`): dial() is getaddrinfo +
 * socket + connect; readLine() does the "read until the line is complete" loop.
 *
 * Run:   npm run build && node build/examples/02-client-server/daytime-client-net.js [ADDRESS]
 *        (default 127.0.0.1:7013)
 * Pair:  node build/examples/02-client-server/daytime-server-net.js   (or daytime-server.js)
 */
import { dial } from "sockit/net";

try {
  const conn = await dial("tcp", process.argv[2] ?? "127.0.0.1:7013", { timeout: 10_000 });
  try {
    console.log(`client address: ${conn.localAddress}`);
    const line = await conn.readLine(); // up to and including "\n", or null at EOF
    console.log(`server time: ${line?.toString().trim() ?? "(none)"}`);
    await conn.write("acknowledgement received from the server");
  } finally {
    await conn.close();
  }
} catch (err) {
  console.error(`daytime-client-net: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
