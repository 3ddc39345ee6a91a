/**
 * Solution to chapter 1, exercise 1: print every address getaddrinfo() gives for a host and a
 * port, with its family and socket type, as `getent ahosts` does.
 *
 * Run:   npm run build && node build/examples/solutions/01-resolve.js HOST PORT
 *        e.g. node build/examples/solutions/01-resolve.js localhost http
 */
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM, getaddrinfo, gaierror } from "sockit/bsd";

const [host = "localhost", port = "daytime"] = process.argv.slice(2);
const families: Record<number, string> = { [AF_INET]: "AF_INET", [AF_INET6]: "AF_INET6" };
const types: Record<number, string> = { [SOCK_STREAM]: "SOCK_STREAM", [SOCK_DGRAM]: "SOCK_DGRAM" };
try {
  for (const [family, type, proto, , sockaddr] of await getaddrinfo(host, port)) {
    const [addr, p] = sockaddr;
    console.log(`${families[family] ?? family} ${types[type] ?? type} proto ${proto}: ${addr} port ${p}`);
  }
} catch (err) {
  if (!(err instanceof gaierror)) throw err;
  console.error(`resolve: ${err.message}`);
  process.exitCode = 1;
}
