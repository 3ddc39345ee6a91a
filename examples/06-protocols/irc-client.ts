/**
 * Chapter 6: a tiny IRC client by hand with the lines codec (RFC 2812: one command per line,
 * ended by CRLF, at most 512 bytes). It registers (NICK, USER), waits for the welcome (001),
 * joins #lobby, greets the next person who joins, prints what they answer and quits.
 *
 * Run:   npm run build && node build/examples/06-protocols/irc-client.js HOST PORT
 * Pair:  sockit serve chat      (127.0.0.1:6667), then `nc 127.0.0.1 6667` and type a line
 */
import { framed, lines } from "sockit/codec";
import { dial } from "sockit/net";

const [host = "127.0.0.1", port = "6667"] = process.argv.slice(2);
const conn = await dial("tcp", `${host}:${port}`, { timeout: 5000 });
const irc = framed(conn, lines({ maxLine: 510, eol: "\r\n" })); // 512 bytes with the CRLF

// #region parse
/** One message: `:prefix COMMAND arg arg :trailing arg`; the nick is the prefix up to "!". */
function parse(line: string): { nick: string; command: string; args: string[] } {
  let rest = line;
  let prefix = "";
  if (rest.startsWith(":"))
    [prefix, rest] = [rest.slice(1, rest.indexOf(" ")), rest.slice(rest.indexOf(" ") + 1)];
  const colon = rest.indexOf(" :");
  const args = (colon < 0 ? rest : rest.slice(0, colon)).split(" ");
  if (colon >= 0) args.push(rest.slice(colon + 2));
  return { nick: prefix.split("!")[0]!, command: args.shift()!, args };
}

/** Reads messages until one is one of `commands` (answering the server's PINGs on the way). */
async function until(...commands: string[]): Promise<{ nick: string; command: string; args: string[] }> {
  for (;;) {
    const line = await irc.read();
    if (line === undefined) throw new Error(`the server closed the connection before ${commands.join("/")}`);
    const msg = parse(line);
    if (msg.command === "PING") await irc.send(`PONG :${msg.args[0]}`);
    if (commands.includes(msg.command)) return msg;
  }
}

async function send(line: string): Promise<void> {
  console.log(`C: ${line}`);
  await irc.send(line);
}
// #endregion parse

// #region session
await send("NICK ada");
await send("USER ada 0 * :Ada Lovelace");
const welcome = await until("001"); // registered
console.log(`S: 001 ${welcome.args.at(-1)}`);
await send("JOIN #lobby");
const names = await until("353"); // the names in the room, sent after a JOIN
console.log(`S: 353 in ${names.args[2]}: ${names.args[3]}`);
const joined = await until("JOIN"); // wait for someone else to come in
console.log(`S: ${joined.nick} joined ${joined.args[0]}`);
await send(`PRIVMSG #lobby :hello, ${joined.nick}`);
let who = joined.nick;
for (;;) {
  const msg = await until("NICK", "PRIVMSG"); // a new name, or what they say
  if (msg.nick !== who) continue;
  if (msg.command === "NICK") {
    console.log(`S: ${who} is now ${msg.args[0]}`);
    who = msg.args[0]!;
  } else {
    console.log(`S: <${who}> ${msg.args[1]}`);
    break;
  }
}
await send("QUIT :bye");
const error = await until("ERROR"); // the server's last word, then it closes
console.log(`S: ERROR ${error.args[0]}`);
// #endregion session
await conn.close();
