/**
 * Solution to chapter 6, exercise 3: list a directory over FTP, then fetch every file it
 * lists. Each transfer (the listing too) needs its own data connection: EPSV, connect, the
 * command, read to EOF, then the 226 on the control connection.
 *
 * Run:   npm run build && node build/examples/solutions/06-ftp-list.js HOST PORT
 * Pair:  sockit serve ftp DIR     (127.0.0.1:2121, anonymous read-only)
 */
import { framed, lines } from "sockit/codec";
import { dial } from "sockit/net";

const [host = "127.0.0.1", port = "2121"] = process.argv.slice(2);
const control = await dial("tcp", `${host}:${port}`, { timeout: 5000 });
const ftp = framed(control, lines({ maxLine: 4096, eol: "\r\n" }));

/** Reads one reply; its last line, if its code is `want` (printed when `show`). */
async function reply(want: number, show = false): Promise<string> {
  for (;;) {
    const line = await ftp.read();
    if (line === undefined) throw new Error("the server closed the control connection");
    if (line[3] !== "-") {
      if (Number(line.slice(0, 3)) !== want) throw new Error(`expected ${want}: ${line}`);
      if (show) console.log(`S: ${line}`);
      return line;
    }
  }
}

async function command(text: string, want: number, show = false): Promise<string> {
  if (show) console.log(`C: ${text}`);
  await ftp.send(text);
  return reply(want, show);
}

/** One transfer: a new passive data connection, `text` on the control one, the bytes until EOF. */
async function transfer(text: string): Promise<Buffer> {
  const epsv = await command("EPSV", 229);
  const dataPort = /\(\|\|\|(\d+)\|\)/.exec(epsv)?.[1];
  if (dataPort === undefined) throw new Error(`no port in ${epsv}`);
  const data = await dial("tcp", `${host}:${dataPort}`, { timeout: 5000 });
  console.log(`(a new data connection, to ${host}:${dataPort})`);
  await command(text, 150, true);
  const chunks: Buffer[] = [];
  for await (const chunk of data) chunks.push(chunk);
  await data.close();
  await reply(226, true);
  return Buffer.concat(chunks);
}

await reply(220);
await command("USER anonymous", 331);
await command("PASS guest@example.org", 230);
await command("TYPE I", 200);
const names = (await transfer("NLST")).toString().split("\r\n").filter(Boolean).sort();
console.log(`listed: ${names.join(", ")}`);
for (const name of names) {
  const body = await transfer(`RETR ${name}`);
  console.log(`${name}: ${body.length} bytes ${JSON.stringify(body.toString())}`);
}
await command("QUIT", 221);
await control.close();
