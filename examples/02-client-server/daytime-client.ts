/**
 * The classic daytime lab, client side, with the Berkeley face.
 *
 * Run:   npm run build && node build/examples/02-client-server/daytime-client.js [HOST] [PORT]
 *        (defaults: 127.0.0.1 7013)
 * Pair:  node build/examples/02-client-server/daytime-server.js   (or `npm start`)
 *
 * Connects, prints its own address (getsockname), receives the date and time, sends
 * "acknowledgement received from the server", closes.
 */
import { AF_INET, SOCK_STREAM, socket } from "sockit/bsd";

const host = process.argv[2] ?? "127.0.0.1";
const port = Number(process.argv[3] ?? 7013);

const s = socket(AF_INET, SOCK_STREAM);
s.settimeout(10);
try {
  await s.connect([host, port]);
  const [myHost, myPort] = s.getsockname(); // [string, number]: an AF_INET socket
  console.log(`client address: ('${myHost}', ${myPort})`);
  const chunks: Buffer[] = [];
  // the server sends one line; read until it is complete (TCP may deliver it in pieces)
  while (!Buffer.concat(chunks).includes(0x0a)) {
    const data = await s.recv(1024);
    if (data.length === 0) break;
    chunks.push(data);
  }
  console.log(`server time: ${Buffer.concat(chunks).toString().trim()}`);
  await s.sendall(Buffer.from("acknowledgement received from the server"));
} catch (err) {
  console.error(`daytime-client: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await s.close();
}
