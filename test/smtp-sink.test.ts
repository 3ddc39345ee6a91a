/**
 * `sockit serve smtp` end to end, as a child process, with clients nobody here wrote: Python's
 * smtplib (plain, SMTPUTF8, and PIPELINING over a raw socket), swaks and curl smtp://. Every
 * message lands in the Maildir's new/ whole, with one summary line on stdout; over-long lines and
 * messages are refused with 500 5.5.6 and 552 5.3.4; a client that disconnects mid-DATA leaves
 * nothing; a full disk (a 1 MB tmpfs) answers 452 and leaves nothing, in new/ or tmp/.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { dial } from "../src/net/index.js";
import { needs, peerPath } from "./support/peers.js";
import { runPython } from "./support/python.js";
import { SOCKIT, sockit } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";

const run = promisify(execFile);

interface Sink {
  readonly child: Child;
  readonly host: string;
  readonly port: number;
  readonly maildir: string;
}

async function startSink(maildir: string, args: string[] = [], serveFlags: string[] = []): Promise<Sink> {
  const child = start(process.execPath, [
    SOCKIT,
    "serve",
    ...serveFlags,
    "smtp",
    "127.0.0.1:0",
    "--json",
    "--maildir",
    maildir,
    ...args,
  ]);
  try {
    const [line] = await child.line(/^\{"listening".*\}$/m, 10_000);
    const at = (JSON.parse(line) as { listening: string }).listening;
    const i = at.lastIndexOf(":");
    return { child, host: at.slice(0, i), port: Number(at.slice(i + 1)), maildir };
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
}

async function stopSink(s: Sink): Promise<void> {
  s.child.kill("SIGTERM");
  assert.equal(await s.child.exit(10_000), 0, s.child.stderr());
}

const files = (dir: string): string[] => readdirSync(dir).sort();

/** The summary lines the sink printed so far. */
const summaries = (s: Sink) =>
  s.child
    .stdout()
    .split("\n")
    .filter((l) => l.startsWith('{"message"'))
    .map(
      (l) =>
        (
          JSON.parse(l) as {
            message: { from: string; to: string[]; subject: string; size: number; id: string };
          }
        ).message,
    );

/** Runs a Python smtplib script with the sink's host and port as argv[1], argv[2]. */
async function py(s: Sink, code: string, input?: string): Promise<string> {
  const r = await runPython(
    `import smtplib, socket, sys\nhost, port = sys.argv[1], int(sys.argv[2])\n${code}`,
    [s.host, String(s.port)],
    input,
    30_000,
  );
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

describe("sockit serve smtp with real clients", () => {
  let dir: string;
  let sink: Sink;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sockit-smtp-"));
    sink = await startSink(join(dir, "mail"), ["--max-message", "100000"]);
  });
  after(async () => {
    await stopSink(sink);
    rmSync(dir, { recursive: true, force: true });
  });

  test("smtplib: the message is stored whole in new/ (dot-unstuffed), nothing stays in tmp/, one summary line", async () => {
    const before = files(join(sink.maildir, "new")).length;
    const out = await py(
      sink,
      `from email.message import EmailMessage
m = EmailMessage(); m["From"] = "alice@example.org"; m["To"] = "bob@example.org"; m["Subject"] = "Grüße from smtplib"
m.set_content("first line\\n.a line with a leading dot\\n.\\nlast\\n")
with smtplib.SMTP(host, port) as s:
    s.ehlo()
    print(sorted(s.esmtp_features))
    print(s.send_message(m))`,
    );
    assert.match(out, /'8bitmime', 'enhancedstatuscodes', 'help', 'pipelining', 'size', 'smtputf8'/);
    const now = files(join(sink.maildir, "new"));
    assert.equal(now.length, before + 1);
    assert.deepEqual(files(join(sink.maildir, "tmp")), []);
    const text = readFileSync(join(sink.maildir, "new", now.at(-1)!), "utf8");
    assert.match(text, /^Return-Path: <alice@example\.org>\n/);
    assert.match(text, /\n\nfirst line\n\.a line with a leading dot\n\.\nlast\n$/);
    const line = summaries(sink).at(-1)!;
    assert.deepEqual(
      { from: line.from, to: line.to, subject: line.subject, id: line.id },
      { from: "alice@example.org", to: ["bob@example.org"], subject: "Grüße from smtplib", id: now.at(-1) },
    );
    assert.match(line.id, /,S=\d+$/);
    assert.equal(line.size, Number(/,S=(\d+)$/.exec(line.id)![1]));
  });

  test("smtplib with SMTPUTF8: non-ASCII addresses are taken (and refused without SMTPUTF8)", async () => {
    const out = await py(
      sink,
      `from email.message import EmailMessage
m = EmailMessage(); m["From"] = "jörg@exämple.org"; m["To"] = "zoë@exämple.org"; m["Subject"] = "utf8"
m.set_content("hallo")
with smtplib.SMTP(host, port) as s:
    print(s.send_message(m, mail_options=["SMTPUTF8"]))
    print(s.mail("jörg@exämple.org".encode().decode("latin1")))`,
    );
    assert.match(out, /^\{\}\n\(553, b'5\.6\.7 /);
    const line = summaries(sink).at(-1)!;
    assert.deepEqual([line.from, line.to], ["jörg@exämple.org", ["zoë@exämple.org"]]);
  });

  test("PIPELINING: MAIL, RCPT, RCPT, DATA in one write are answered in order", async () => {
    const out = await py(
      sink,
      `c = socket.create_connection((host, port)); f = c.makefile("rb")
def reply():
    lines = []
    while True:
        l = f.readline().decode(); lines.append(l.strip())
        if l[3] == " ": return lines
reply(); c.sendall(b"EHLO pipe\\r\\n"); reply()
c.sendall(b"MAIL FROM:<p@example.org>\\r\\nRCPT TO:<q@example.org>\\r\\nRCPT TO:<bad>\\r\\nRCPT TO:<r@example.org>\\r\\nDATA\\r\\n")
for _ in range(5): print(reply()[0])
c.sendall(b"Subject: pipelined\\r\\n\\r\\nhi\\r\\n.\\r\\nQUIT\\r\\n")
print(reply()[0]); print(reply()[0])`,
    );
    assert.match(
      out,
      /^250 2\.1\.0 .*\n250 2\.1\.5 .*\n501 5\.1\.3 .*\n250 2\.1\.5 .*\n354 .*\n250 2\.0\.0 OK: stored as .*\n221 /,
    );
    const line = summaries(sink).at(-1)!;
    assert.deepEqual([line.subject, line.to], ["pipelined", ["q@example.org", "r@example.org"]]);
  });

  test("a line past 1000 bytes is 500 5.5.6 (command or text); a message past --max-message 552 5.3.4; none stored", async () => {
    const before = files(join(sink.maildir, "new"));
    const out = await py(
      sink,
      `with smtplib.SMTP(host, port) as s:
    print(s.docmd("NOOP " + "x" * 994))
    print(s.docmd("NOOP " + "x" * 993))
    try: s.sendmail("a@example.org", ["b@example.org"], "Subject: big\\r\\n\\r\\n" + ("y" * 70 + "\\r\\n") * 2000)
    except smtplib.SMTPSenderRefused as e: print(e.smtp_code, e.smtp_error)
    s.ehlo_resp = None; s.esmtp_features = {}; s.does_esmtp = False
    s.helo()
    try: s.sendmail("a@example.org", ["b@example.org"], "Subject: big\\r\\n\\r\\n" + ("y" * 70 + "\\r\\n") * 2000)
    except smtplib.SMTPDataError as e: print(e.smtp_code, e.smtp_error)
    try: s.sendmail("a@example.org", ["b@example.org"], "Subject: wide\\r\\n\\r\\n" + "z" * 1200 + "\\r\\n")
    except smtplib.SMTPDataError as e: print(e.smtp_code, e.smtp_error)
    print(s.noop())`,
    );
    const lines = out.trim().split("\n");
    assert.match(lines[0]!, /^\(500, b'5\.5\.6 Line too long/); // 999 bytes + CRLF
    assert.match(lines[1]!, /^\(250, /); // 998 bytes + CRLF: the limit itself
    assert.match(lines[2]!, /^552 b'5\.3\.4 Message too big \(SIZE=\d+/);
    assert.match(lines[3]!, /^552 b'5\.3\.4 Message too big/); // without SIZE: after the data
    assert.match(lines[4]!, /^500 b'5\.5\.6 Line too long in the message/);
    assert.match(lines[5]!, /^\(250, /);
    assert.deepEqual(files(join(sink.maildir, "new")), before);
    assert.deepEqual(files(join(sink.maildir, "tmp")), []);
  });

  test("hostile input: a megabyte without a line feed is one 500 5.5.6; binary junk and 20 bad commands end in 421 4.7.0", async () => {
    const out = await py(
      sink,
      `c = socket.create_connection((host, port)); f = c.makefile("rb"); f.readline()
c.sendall(b"A" * 1000000 + b"\\r\\nNOOP\\r\\n")
print(f.readline().decode().strip()); print(f.readline().decode().strip())
c.sendall(bytes(range(256)) * 4 + b"\\r\\n" + b"BOGUS\\r\\n" * 30)
replies = []
while True:
    l = f.readline()
    if not l: break
    replies.append(l.decode("latin1").strip()[:3])
print(len(replies), replies[-1], replies.count("421"))`,
    );
    const lines = out.trim().split("\n");
    assert.match(lines[0]!, /^500 5\.5\.6 Line too long/);
    assert.match(lines[1]!, /^250 2\.0\.0 OK$/);
    // 1 earlier error + 19 more, the 20th answered 421 and the connection closed
    assert.equal(lines[2], "19 421 1");
  });

  test("a client that disconnects mid-DATA leaves nothing in new/ or tmp/; the next one is served", async () => {
    const before = files(join(sink.maildir, "new"));
    await py(
      sink,
      `c = socket.create_connection((host, port)); f = c.makefile("rb")
f.readline(); c.sendall(b"HELO x\\r\\nMAIL FROM:<a@example.org>\\r\\nRCPT TO:<b@example.org>\\r\\nDATA\\r\\n")
for _ in range(4): f.readline()
c.sendall(b"Subject: cut\\r\\n\\r\\n" + b"half a message\\r\\n" * 500)
c.close()`,
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(files(join(sink.maildir, "new")), before);
    assert.deepEqual(files(join(sink.maildir, "tmp")), []);
    assert.ok(!summaries(sink).some((m) => m.subject === "cut"));
    await py(
      sink,
      `smtplib.SMTP(host, port).sendmail("a@example.org", ["b@example.org"], "Subject: after\\r\\n\\r\\nok\\r\\n")`,
    );
    assert.equal(files(join(sink.maildir, "new")).length, before.length + 1);
  });

  test(
    "swaks (with --pipeline) delivers; the summary names its subject",
    { skip: needs(["swaks"]) },
    async () => {
      const r = await run(
        peerPath("swaks"),
        [
          "--server",
          sink.host,
          "--port",
          String(sink.port),
          "--from",
          "swaks@example.org",
          "--to",
          "inbox@example.org",
          "--header",
          "Subject: from swaks",
          "--body",
          "line one\n.dotted\n",
          "--pipeline",
        ],
        { timeout: 20_000 },
      );
      assert.match(r.stdout, /<- {1,2}250 2\.0\.0 OK: stored as /);
      const line = summaries(sink).at(-1)!;
      assert.deepEqual(
        [line.from, line.to, line.subject],
        ["swaks@example.org", ["inbox@example.org"], "from swaks"],
      );
      const text = readFileSync(join(sink.maildir, "new", line.id), "utf8");
      assert.match(text, /\nline one\n\.dotted\n/);
    },
  );

  test("curl smtp:// uploads a message file", { skip: needs(["curl"]) }, async () => {
    const file = join(dir, "curl.eml");
    writeFileSync(
      file,
      "From: c@example.org\r\nTo: d@example.org\r\nSubject: from curl\r\n\r\n.leading dot\r\nbye\r\n",
    );
    await run(
      peerPath("curl"),
      [
        "-sS",
        `smtp://${sink.host}:${sink.port}`,
        "--mail-from",
        "c@example.org",
        "--mail-rcpt",
        "d@example.org",
        "--mail-rcpt",
        "e@example.org",
        "--upload-file",
        file,
      ],
      { timeout: 20_000 },
    );
    const line = summaries(sink).at(-1)!;
    assert.deepEqual(
      [line.from, line.to, line.subject],
      ["c@example.org", ["d@example.org", "e@example.org"], "from curl"],
    );
    assert.match(readFileSync(join(sink.maildir, "new", line.id), "utf8"), /\n\n\.leading dot\nbye\n$/);
  });
});

describe("sockit serve smtp on a full disk", () => {
  const root = process.getuid?.() === 0;
  let dir: string;
  let mounted = false;
  let sink: Sink | undefined;
  before(async () => {
    if (!root) return;
    dir = mkdtempSync(join(tmpdir(), "sockit-smtp-full-"));
    await run("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]);
    mounted = true;
    sink = await startSink(join(dir, "mail"), ["--max-message", "4000000"]);
  });
  after(async () => {
    if (sink) await stopSink(sink);
    if (mounted) await run("umount", [dir]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test(
    "a message larger than the space left is answered 452 4.3.1; nothing in new/ or tmp/; a small one still fits",
    { skip: root ? false : "needs root (mount tmpfs)" },
    async () => {
      const s = sink!;
      const out = await py(
        s,
        `with smtplib.SMTP(host, port) as s:
    try: s.sendmail("a@example.org", ["b@example.org"], "Subject: huge\\r\\n\\r\\n" + ("w" * 70 + "\\r\\n") * 30000)
    except smtplib.SMTPDataError as e: print(e.smtp_code, e.smtp_error.decode())
    print(s.sendmail("a@example.org", ["b@example.org"], "Subject: small\\r\\n\\r\\nfits\\r\\n"))`,
      );
      assert.match(out, /^452 4\.3\.1 Insufficient system storage/);
      assert.match(out, /\n\{\}\n$/);
      assert.deepEqual(files(join(s.maildir, "tmp")), []);
      const stored = files(join(s.maildir, "new"));
      assert.equal(stored.length, 1);
      assert.match(readFileSync(join(s.maildir, "new", stored[0]!), "utf8"), /Subject: small\n\nfits\n$/);
      assert.match(s.child.stderr(), /store-failed: .*ENOSPC/);
    },
  );
});

describe("sockit serve smtp: connection limits, idle clients, shutdown", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "sockit-smtp-limits-"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test("serve's --max-per-source and --idle apply: a third client from one address gets 421 4.3.2, a silent one 421 4.4.2", async () => {
    const sink = await startSink(join(dir, "a"), [], ["--max-per-source", "2", "--idle", "1"]);
    try {
      const out = await py(
        sink,
        `import time
c1 = socket.create_connection((host, port)); f1 = c1.makefile("rb"); print(f1.readline().decode().strip()[:3])
c2 = socket.create_connection((host, port)); f2 = c2.makefile("rb"); print(f2.readline().decode().strip()[:3])
c3 = socket.create_connection((host, port)); f3 = c3.makefile("rb"); print(f3.readline().decode().strip()); print(f3.readline() == b"")
c1.settimeout(5); t0 = time.monotonic(); print(f1.readline().decode().strip()); print(0.8 < time.monotonic() - t0 < 3)
print(f1.readline() == b"")`,
      );
      const lines = out.trim().split("\n");
      assert.deepEqual(lines.slice(0, 2), ["220", "220"]);
      assert.match(
        lines[2]!,
        /^421 4\.3\.2 .*too many connections from 127\.0\.0\.1 \(limit 2\); try again later$/,
      );
      assert.deepEqual([lines[3], lines[5], lines[6]], ["True", "True", "True"]);
      assert.match(lines[4]!, /^421 4\.4\.2 .*idle too long; closing$/);
    } finally {
      await stopSink(sink);
    }
  });

  test("at SIGTERM a client between commands is told 421 and the sink exits without waiting out the grace period", async () => {
    const sink = await startSink(join(dir, "b"));
    const conn = await dial("tcp", `${sink.host}:${sink.port}`);
    try {
      assert.match((await conn.readLine())!.toString(), /^220 /);
      await conn.write("EHLO idle\r\n");
      for (let l = ""; !l.startsWith("250 ");) l = (await conn.readLine())!.toString();
      const t0 = Date.now();
      sink.child.kill("SIGTERM");
      conn.setReadDeadline(Date.now() + 4000);
      assert.match((await conn.readLine())!.toString(), /^421 4\.3\.2 .*shutting down/);
      assert.equal(await conn.readLine(), null);
      assert.equal(await sink.child.exit(10_000), 0, sink.child.stderr());
      assert.ok(Date.now() - t0 < 2500, `exited after ${Date.now() - t0} ms`);
    } finally {
      await conn.close();
    }
  });

  test("the RFC services' other flags are refused, not ignored", async () => {
    const r = await sockit(["serve", "--port-base", "9000", "smtp", "127.0.0.1:0"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /--port-base is an option of the RFC services, not of serve smtp/);
  });
});
