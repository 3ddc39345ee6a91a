/**
 * Chapter 6: a tiny SMTP client with the lines codec. Each command is a line; each reply is one
 * or more lines whose first three characters are the code ("250-" continues, "250 " ends).
 *
 * Run:   npm run build && node build/examples/06-protocols/smtp-client.js HOST PORT
 * Pair:  sockit serve smtp 127.0.0.1:2525    (a mail sink: stores, never relays)
 */
import { framed, lines } from "sockit/codec";
import { dial } from "sockit/net";

const [host = "127.0.0.1", port = "2525"] = process.argv.slice(2);
const conn = await dial("tcp", `${host}:${port}`, { timeout: 5000 });
const smtp = framed(conn, lines({ maxLine: 998, eol: "\r\n" })); // RFC 5321: 998 + CRLF

// #region reply
/** Reads one reply (all its lines); throws unless its code is `want`. */
async function reply(want: number): Promise<void> {
  for (;;) {
    const line = await smtp.read();
    if (line === undefined) throw new Error("the server closed the connection");
    console.log(`S: ${line}`);
    if (line[3] !== "-") {
      if (Number(line.slice(0, 3)) !== want) throw new Error(`expected ${want}: ${line}`);
      return;
    }
  }
}

async function command(text: string, want: number): Promise<void> {
  console.log(`C: ${text}`);
  await smtp.send(text);
  await reply(want);
}
// #endregion reply

// #region session
await reply(220); // the greeting
await command("EHLO client.example.org", 250);
await command("MAIL FROM:<me@example.org>", 250);
await command("RCPT TO:<you@example.org>", 250);
await command("DATA", 354);
for (const line of ["Subject: hi", "", "Hello over SMTP."]) await smtp.send(line);
await command(".", 250); // a line with a single dot ends the message
await command("QUIT", 221);
// #endregion session
await conn.close();
