/**
 * `sockit mail send` against Debian's aiosmtpd (`python3 -m aiosmtpd -n`, a server nobody here
 * wrote; its Debugging handler prints every message it gets): the message arrives with its
 * line endings made CRLF and its dots unstuffed back to what was written, -v shows the
 * dialogue, SMTPUTF8 is used for non-ASCII addresses; a refusal — aiosmtpd's 500 for a line past
 * 1000 bytes, sockit's own sink refusing a recipient — exits 8 with the server's reply on stderr.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { dial, listen } from "../src/net/index.js";
import { waitFor } from "./support/kit.js";
import { needs, peerPath } from "./support/peers.js";
import { SOCKIT, sockit } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";

async function freePort(): Promise<number> {
  const ln = await listen("tcp", "127.0.0.1:0");
  const port = Number(ln.address.slice(ln.address.lastIndexOf(":") + 1));
  await ln.close();
  return port;
}

async function accepting(address: string): Promise<boolean> {
  try {
    const c = await dial("tcp", address, { timeout: 500 });
    await c.close();
    return true;
  } catch {
    return false;
  }
}

/** The messages aiosmtpd's Debugging handler printed. */
function received(c: Child): string[] {
  return [...c.stdout().matchAll(/-{10} MESSAGE FOLLOWS -{10}\n([\s\S]*?)-{12} END MESSAGE -{12}/g)].map(
    (m) => m[1]!,
  );
}

describe("sockit mail send to aiosmtpd", { skip: needs(["aiosmtpd"]) }, () => {
  let dir: string;
  let aio: Child;
  let address: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sockit-mail-send-"));
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    aio = start(peerPath("aiosmtpd"), ["-m", "aiosmtpd", "-n", "-u", "-l", address], {
      ...process.env,
      PYTHONUNBUFFERED: "1",
    });
    await waitFor(() => accepting(address), 10_000, "aiosmtpd to listen");
  });
  after(async () => {
    aio.kill("SIGTERM");
    await aio.exit(10_000).catch(() => aio.kill("SIGKILL"));
    rmSync(dir, { recursive: true, force: true });
  });

  test("a text file becomes a message: LF and CR endings sent as CRLF, dots stuffed and unstuffed; -v shows the dialogue", async () => {
    const file = join(dir, "body.txt");
    writeFileSync(file, "first\n.leading dot\n..two dots\nold mac\rline\n.\nça va\nlast");
    const r = await sockit([
      "-v",
      "mail",
      "send",
      "--from",
      "a@example.org",
      "--to",
      "b@example.org",
      "--to",
      "c@example.org",
      "--subject",
      "Grüße",
      file,
      address,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^250 /);
    for (const re of [
      /^<- 220 /m,
      /^-> EHLO localhost$/m,
      /^-> MAIL FROM:<a@example\.org> BODY=8BITMIME$/m,
      /^-> RCPT TO:<c@example\.org>$/m,
      /^<- 354 /m,
      /^-> QUIT$/m,
      /^<- 221 /m,
    ])
      assert.match(r.stderr, re);
    await waitFor(() => received(aio).length >= 1, 5000, "aiosmtpd to print the message");
    const m = received(aio).at(-1)!;
    assert.match(m, /^Subject: =\?UTF-8\?B\?R3LDvMOfZQ==\?=$/m);
    assert.match(m, /^To: b@example\.org, c@example\.org$/m);
    assert.match(m, /^Content-Transfer-Encoding: 8bit$/m);
    assert.match(m, /\n\nfirst\n\.leading dot\n\.\.two dots\nold mac\nline\n\.\nça va\nlast\n$/);
  });

  test("a whole message on stdin is sent as it is; non-ASCII addresses go with SMTPUTF8", async () => {
    const c = start(process.execPath, [
      SOCKIT,
      "-v",
      "mail",
      "send",
      "--from",
      "jörg@exämple.org",
      "--to",
      "zoë@exämple.org",
      "-",
      address,
    ]);
    c.proc.stdin!.end("From: Jörg <jörg@exämple.org>\r\nSubject: as is\r\nX-Test: 1\r\n\r\nbody\r\n");
    assert.equal(await c.exit(15_000), 0, c.stderr());
    assert.match(c.stderr(), /^-> MAIL FROM:<jörg@exämple\.org> BODY=8BITMIME SMTPUTF8$/m);
    await waitFor(
      () => received(aio).some((m) => m.includes("X-Test: 1")),
      5000,
      "aiosmtpd to print the message",
    );
    const m = received(aio).find((x) => x.includes("X-Test: 1"))!;
    assert.match(
      m,
      /^mail options: \['BODY=8BITMIME', 'SMTPUTF8'\]\n\nFrom: Jörg <jörg@exämple\.org>\nSubject: as is\nX-Test: 1\n/,
    );
    assert.doesNotMatch(m, /^Date: /m); // nothing added
  });

  test("aiosmtpd refusing a line past 1000 bytes: exit 8, its reply on stderr", async () => {
    const file = join(dir, "wide.txt");
    writeFileSync(file, `${"x".repeat(1500)}\n`);
    const r = await sockit([
      "mail",
      "send",
      "--from",
      "a@example.org",
      "--to",
      "b@example.org",
      file,
      address,
    ]);
    assert.equal(r.code, 8, r.stderr);
    assert.match(r.stderr, /^sockit: mail send: the server refused the message: 500 Line too long/m);
    assert.equal(r.stdout, "");
  });
});

describe("sockit mail send to sockit serve smtp", () => {
  test("a refused recipient exits 8 and names the command, code and enhanced code; nothing is stored", async () => {
    const sink = start(process.execPath, [SOCKIT, "serve", "smtp", "127.0.0.1:0", "--json"]);
    try {
      const [line] = await sink.line(/^\{"listening".*\}$/m, 10_000);
      const at = (JSON.parse(line) as { listening: string }).listening;
      const r = await sockit([
        "mail",
        "send",
        "--from",
        "a@example.org",
        "--to",
        "b@example.org",
        "--to",
        "nobody",
        at,
      ]);
      assert.equal(r.code, 8, r.stderr);
      assert.match(r.stderr, /the server refused RCPT TO:<nobody>: 501 5\.1\.3 Bad recipient address/);
      const ok = await sockit(["mail", "send", "--from", "a@example.org", "--to", "b@example.org", at]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^250 2\.0\.0 OK: stored as /);
      await sink.line(/^\{"message".*"subject":"test"/m, 5000);
      assert.equal(sink.stdout().match(/^\{"message"/gm)?.length, 1);
    } finally {
      sink.kill("SIGTERM");
      assert.equal(await sink.exit(10_000), 0, sink.stderr());
    }
  });

  test("a server that never greets: -t SECONDS gives up with exit 4", async () => {
    const ln = await listen("tcp", "127.0.0.1:0"); // the kernel completes the handshake; nobody answers
    try {
      const t0 = Date.now();
      const r = await sockit([
        "mail",
        "send",
        "-t",
        "0.5",
        "--from",
        "a@example.org",
        "--to",
        "b@example.org",
        ln.address,
      ]);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /timed out/);
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      await ln.close();
    }
  });

  test("usage: --from and --to are required, the address is HOST[:PORT]", async () => {
    for (const [args, re] of [
      [["--to", "b@x.org", "127.0.0.1:1"], /--from ADDRESS is required/],
      [["--from", "a@x.org", "127.0.0.1:1"], /--to ADDRESS is required/],
      [["--from", "a@x.org", "--to", "b@x.org", "a", "b", "c"], /takes \[FILE\|-\] HOST\[:PORT\]/],
    ] as const) {
      const r = await sockit(["mail", "send", ...args]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, re);
    }
  });
});
