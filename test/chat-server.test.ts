/**
 * `serveChat` on loopback with real clients: raw IRC lines (sockit's dial and Python's `socket`),
 * plain users at `nc`, IRC and plain users in one room, the error numerics clients hit.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { type ChatServer, serveChat } from "../src/services/chat/index.js";
import { LineClient } from "./support/chat.js";
import { needs, peerPath } from "./support/peers.js";
import { runPython } from "./support/python.js";

describe("chat server: IRC", () => {
  let server: ChatServer;
  const open: LineClient[] = [];
  const client = async () => {
    const c = await LineClient.connect(server.address);
    open.push(c);
    return c;
  };
  before(async () => {
    server = await serveChat({ port: 0, motd: ["Welcome to the test.", "Second line."] });
  });
  after(async () => {
    for (const c of open) await c.close();
    await server.close();
  });

  test("registration: CAP LS/END, NICK, USER → 001–005 with ISUPPORT, MOTD 375/372/376", async () => {
    const a = await client();
    await a.wait(/NOTICE \* :/);
    await a.send("CAP LS 302", "NICK alice", "USER alice 0 * :Alice A");
    await a.wait(/CAP \* LS :/);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(!a.lines.some((l) => / 001 /.test(l)), "no welcome during CAP negotiation");
    await a.send("CAP END");
    await a.wait(/^:sockit 001 alice :Welcome .* alice!alice@127\.0\.0\.1$/);
    for (const n of ["002", "003", "004"]) await a.wait(new RegExp(`^:sockit ${n} alice `));
    const isupport = await a.wait(/^:sockit 005 alice /);
    for (const tok of ["CHANTYPES=#", "NICKLEN=16", "CHANNELLEN=50", "PREFIX=(o)@", "CASEMAPPING=rfc1459"])
      assert.ok(isupport.includes(tok), `${tok} in ${isupport}`);
    await a.wait(/ 375 alice /);
    await a.wait(/ 372 alice :- Welcome to the test\.$/);
    await a.wait(/ 372 alice :- Second line\.$/);
    await a.wait(/ 376 alice /);
    await a.send("QUIT :bye");
    await a.wait(/^ERROR :Closing Link: 127\.0\.0\.1 \(Quit: bye\)$/);
    await a.waitClosed();
  });

  test("join, names, privmsg, notice, topic, part, quit between two clients", async () => {
    const a = await client();
    const b = await client();
    await a.register("Ann");
    await b.register("bob");
    await a.send("JOIN #Room");
    await a.wait(/^:Ann!Ann@127\.0\.0\.1 JOIN #Room$/);
    await a.wait(/ 353 Ann = #Room :@Ann$/);
    await a.wait(/ 366 Ann #Room :End of \/NAMES list$/);
    await a.send("TOPIC #room :all about tests");
    await a.wait(/^:Ann!\S+ TOPIC #Room :all about tests$/);
    await b.send("JOIN #ROOM"); // rfc1459: the same channel
    await b.wait(/^:bob!\S+ JOIN #Room$/);
    await b.wait(/ 332 bob #Room :all about tests$/);
    await b.wait(/ 353 bob = #Room :@Ann bob$/);
    await a.wait(/^:bob!bob@127\.0\.0\.1 JOIN #Room$/);
    await b.send("PRIVMSG #room :hello, Ann");
    await a.wait(/^:bob!bob@127\.0\.0\.1 PRIVMSG #Room :hello, Ann$/);
    assert.ok(!b.lines.some((l) => /PRIVMSG #Room :hello, Ann/.test(l)), "no echo to the sender");
    await a.send("PRIVMSG BOB :just you", "NOTICE #room :a notice");
    await b.wait(/^:Ann!\S+ PRIVMSG bob :just you$/);
    await b.wait(/^:Ann!\S+ NOTICE #Room :a notice$/);
    await a.send("NICK ann2");
    await b.wait(/^:Ann!Ann@127\.0\.0\.1 NICK :?ann2$/);
    await a.send("NAMES #room", "LIST", "WHO #room", "WHOIS bob", "MODE #room", "MODE ann2");
    await a.wait(/ 353 ann2 = #Room :@ann2 bob$/);
    await a.wait(/ 322 ann2 #Room 2 :all about tests$/);
    await a.wait(/ 323 ann2 /);
    await a.wait(/ 352 ann2 #Room bob 127\.0\.0\.1 sockit bob H :0 bob test$/);
    await a.wait(/ 315 ann2 #room /);
    await a.wait(/ 311 ann2 bob bob 127\.0\.0\.1 \* :bob test$/);
    await a.wait(/ 319 ann2 bob :#Room$/);
    await a.wait(/ 318 ann2 bob /);
    await a.wait(/ 324 ann2 #Room :?\+n$/);
    await a.wait(/ 221 ann2 :?\+$/);
    await b.send("AWAY :lunch");
    await b.wait(/ 306 bob /);
    await a.send("PRIVMSG bob :you there?");
    await a.wait(/ 301 ann2 bob :lunch$/);
    await b.send("PART #room :gone");
    await a.wait(/^:bob!\S+ PART #Room :gone$/);
    await b.send("JOIN #room");
    await a.wait(/^:bob!\S+ JOIN #Room$/, 5000, a.lines.length - 1);
    await b.send("QUIT :later");
    await a.wait(/^:bob!bob@127\.0\.0\.1 QUIT :Quit: later$/);
    await b.waitClosed();
    await a.send("NAMES #room");
    await a.wait(/ 353 ann2 = #Room :@ann2$/);
  });

  test("error numerics: 401 403 404 411 412 421 431 432 433 442 451 461 462", async () => {
    const a = await client();
    await a.send("NICK");
    await a.wait(/ 431 \* /);
    await a.send("JOIN #x");
    await a.wait(/ 451 \* :You have not registered$/);
    await a.send("NICK 9bad");
    await a.wait(/ 432 \* 9bad /);
    const b = await client();
    await b.register("taken");
    await a.send("NICK TAKEN");
    await a.wait(/ 433 \* TAKEN /);
    await a.register("errs");
    await a.send("USER x 0 * :x");
    await a.wait(/ 462 errs /);
    await a.send("PRIVMSG nobody :hi");
    await a.wait(/ 401 errs nobody /);
    await a.send("PRIVMSG #nowhere :hi");
    await a.wait(/ 403 errs #nowhere /);
    await b.send("JOIN #closed");
    await b.wait(/ 366 taken #closed /);
    await a.send("PRIVMSG #closed :let me in");
    await a.wait(/ 404 errs #closed /);
    await a.send("PRIVMSG");
    await a.wait(/ 411 errs /);
    await a.send("PRIVMSG taken");
    await a.wait(/ 412 errs /);
    await a.send("FROBNICATE x");
    await a.wait(/ 421 errs FROBNICATE /);
    await a.send("PART #closed");
    await a.wait(/ 442 errs #closed /);
    await a.send("JOIN");
    await a.wait(/ 461 errs JOIN /);
    await a.send("PING :tok");
    await a.wait(/^:sockit PONG sockit :?tok$/);
    assert.ok(!b.lines.some((l) => l.includes("let me in")));
  });

  test("a line over 512 bytes gets 417 and the connection goes on", async () => {
    const a = await client();
    await a.register("longline");
    await a.send(`PRIVMSG longline :${"x".repeat(600)}`);
    await a.wait(/ 417 longline :Input line was too long$/);
    await a.raw("y".repeat(100_000)); // no newline at all: never buffered
    await a.send("", "PING :still-here");
    await a.wait(/PONG sockit :?still-here$/);
  });

  test("Python's socket drives raw IRC lines", async () => {
    const b = await client();
    await b.register("pywatch");
    await b.send("JOIN #py");
    await b.wait(/ 366 pywatch #py /);
    const [host, port] = [server.address.split(":")[0]!, server.port];
    const py = await runPython(
      `
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
f = s.makefile("rb")
s.sendall(b"NICK py\\r\\nUSER py 0 * :Python\\r\\n")
got = []
for raw in f:
    line = raw.decode().rstrip("\\r\\n")
    got.append(line)
    if " 422 " in line or " 376 " in line:
        s.sendall(b"JOIN #py\\r\\nPRIVMSG #py :from python\\r\\nQUIT :done\\r\\n")
    if line.startswith("ERROR"):
        break
print("\\n".join(got))
`,
      [host, String(port)],
      undefined,
      15_000,
    );
    assert.equal(py.code, 0, py.stderr);
    assert.match(py.stdout, /^:sockit 001 py /m);
    assert.match(py.stdout, /^:py!py@127\.0\.0\.1 JOIN #py$/m);
    assert.match(py.stdout, / 353 py = #py :@pywatch py$/m);
    assert.match(py.stdout, /^ERROR :Closing Link: 127\.0\.0\.1 \(Quit: done\)$/m);
    await b.wait(/^:py!py@127\.0\.0\.1 PRIVMSG #py :from python$/);
    await b.wait(/^:py!\S+ QUIT :Quit: done$/);
  });
});

describe("chat server: plain users (nc) and IRC users in one room", () => {
  let server: ChatServer;
  const open: LineClient[] = [];
  before(async () => {
    server = await serveChat({ port: 0, history: 3 });
  });
  after(async () => {
    for (const c of open) await c.close();
    await server.close();
  });

  test("a plain user gets a guest name and #lobby; /nick, /me, /msg, /who, /join; IRC sees it", async () => {
    const irc = await LineClient.connect(server.address);
    open.push(irc);
    await irc.register("ircer");
    await irc.send("JOIN #lobby");
    await irc.wait(/ 366 ircer #lobby /);
    const p = await LineClient.connect(server.address);
    open.push(p);
    await p.send("hello everyone");
    const greet = await p.wait(/^\*\*\* welcome to sockit chat, you are (guest\d+)\./);
    const guest = /you are (guest\d+)/.exec(greet)![1]!;
    await p.wait(/^\*\*\* in #lobby: ircer$/);
    await irc.wait(new RegExp(`^:${guest}!plain@127\\.0\\.0\\.1 JOIN #lobby$`));
    await irc.wait(new RegExp(`^:${guest}!plain@\\S+ PRIVMSG #lobby :hello everyone$`));
    await p.send("/nick Carol");
    await p.wait(/^\*\*\* you are now Carol$/);
    await irc.wait(new RegExp(`^:${guest}!plain@\\S+ NICK :?Carol$`));
    await irc.send("PRIVMSG #lobby :hi Carol \x1b[2J\x07", "PRIVMSG carol :psst");
    // control bytes from one user never reach a plain user's terminal raw
    await p.wait(/^<ircer> hi Carol \\x1b\[2J\\x07$/);
    await p.wait(/^\*ircer\* psst$/);
    await p.send("/me waves", "/msg ircer private", "//slash", "/who");
    await irc.wait(/^:Carol!plain@\S+ PRIVMSG #lobby :\x01ACTION waves\x01$/);
    await irc.wait(/^:Carol!plain@\S+ PRIVMSG ircer :private$/);
    await irc.wait(/^:Carol!plain@\S+ PRIVMSG #lobby :\/slash$/);
    await p.wait(/^\*\*\* in #lobby: (ircer, Carol \(you\)|Carol \(you\), ircer)$/);
    await irc.send("NAMES #lobby");
    await irc.wait(/ 353 ircer = #lobby :@ircer Carol$/);
    await p.send("/join #other");
    await irc.wait(/^:Carol!plain@\S+ PART #lobby$/);
    await p.wait(/^\*\*\* in #other: nobody else$/);
    await p.send("/quit");
    await p.wait(/^\*\*\* Closing Link: 127\.0\.0\.1 \(Quit\)$/);
    await p.waitClosed();
  });

  test("--history: the last N messages are replayed to a plain user who joins", async () => {
    const irc = await LineClient.connect(server.address);
    open.push(irc);
    await irc.register("talker");
    await irc.send("JOIN #hist");
    for (let i = 1; i <= 5; i++) await irc.send(`PRIVMSG #hist :message ${i}`);
    await irc.send("PING :sync");
    await irc.wait(/PONG .*sync/);
    const p = await LineClient.connect(server.address);
    open.push(p);
    await p.send("/join #hist");
    await p.wait(/^\[\d\d:\d\d\] <talker> message 5$/);
    const replay = p.lines.filter((l) => /^\[\d\d:\d\d\] <talker>/.test(l)).map((l) => l.slice(8));
    assert.deepEqual(replay, ["<talker> message 3", "<talker> message 4", "<talker> message 5"]);
    await p.close();
  });

  test("nc as a plain user", { skip: needs(["nc"]) }, async () => {
    const watcher = await LineClient.connect(server.address);
    open.push(watcher);
    await watcher.register("watcher");
    await watcher.send("JOIN #lobby");
    await watcher.wait(/ 366 watcher #lobby /);
    const nc = spawn(peerPath("nc"), ["-q", "2", "127.0.0.1", String(server.port)], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    nc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => nc.once("exit", (code) => r(code)));
    nc.stdin.write("/nick ncuser\nhi from nc\n");
    await watcher.wait(/^:ncuser!plain@127\.0\.0\.1 PRIVMSG #lobby :hi from nc$/);
    await watcher.send("PRIVMSG #lobby :hello nc");
    const until = Date.now() + 5000;
    while (!out.includes("<watcher> hello nc") && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    nc.stdin.end("/quit\n");
    const timer = setTimeout(() => nc.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
    assert.match(out, /\*\*\* welcome to sockit chat, you are guest\d+/);
    assert.match(out, /<watcher> hello nc/);
    await watcher.wait(/^:ncuser!\S+ QUIT :?Quit$/);
  });
});
