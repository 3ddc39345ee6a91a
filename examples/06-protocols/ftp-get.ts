/**
 * Chapter 6: a tiny passive-mode FTP client by hand (RFC 959, EPSV from RFC 2428). Commands and
 * replies go over the control connection, one line each; the file comes over a second, data
 * connection that the client opens to the port the server names in its EPSV reply.
 *
 * Run:   npm run build && node build/examples/06-protocols/ftp-get.js HOST PORT FILE
 * Pair:  sockit serve ftp DIR     (127.0.0.1:2121, anonymous read-only)
 */
import { framed, lines } from "sockit/codec";
import { dial } from "sockit/net";

const [host = "127.0.0.1", port = "2121", file = "hello.txt"] = process.argv.slice(2);
const control = await dial("tcp", `${host}:${port}`, { timeout: 5000 });
const ftp = framed(control, lines({ maxLine: 4096, eol: "\r\n" }));

// #region reply
/** Reads one reply ("229-" continues, "229 " ends it); its last line, if its code is `want`. */
async function reply(want: number): Promise<string> {
  for (;;) {
    const line = await ftp.read();
    if (line === undefined) throw new Error("the server closed the control connection");
    console.log(`S: ${line}`);
    if (line[3] !== "-") {
      if (Number(line.slice(0, 3)) !== want) throw new Error(`expected ${want}: ${line}`);
      return line;
    }
  }
}

async function command(text: string, want: number): Promise<string> {
  console.log(`C: ${text}`);
  await ftp.send(text);
  return reply(want);
}
// #endregion reply

// #region session
await reply(220); // the greeting
await command("USER anonymous", 331); // 331: now the password
await command("PASS guest@example.org", 230); // 230: logged in
await command("TYPE I", 200); // binary: the bytes as they are
const epsv = await command("EPSV", 229); // "229 Entering Extended Passive Mode (|||PORT|)"
const dataPort = /\(\|\|\|(\d+)\|\)/.exec(epsv)?.[1];
if (dataPort === undefined) throw new Error(`no port in ${epsv}`);
const data = await dial("tcp", `${host}:${dataPort}`, { timeout: 5000 }); // same host, new port
console.log(`(data connection to ${host}:${dataPort})`);
await command(`RETR ${file}`, 150); // 150: the transfer starts on the data connection
const chunks: Buffer[] = [];
for await (const chunk of data) chunks.push(chunk); // the server closes it after the file
await data.close();
const body = Buffer.concat(chunks);
console.log(`(data connection: ${body.length} bytes, then EOF) ${JSON.stringify(body.toString())}`);
await reply(226); // 226: transfer complete, on the control connection
await command("QUIT", 221);
// #endregion session
await control.close();
