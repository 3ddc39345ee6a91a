/**
 * The SMTP reader and session, sans I/O: the 1000-byte line limit at its exact edge, the message
 * size limit at its exact edge, dot-unstuffing, DATA entered mid-buffer (pipelining), and
 * properties over arbitrary input with fast-check — any chunking gives the same items, hostile
 * bytes never make it throw or hold more than its limits, every reply is well-formed SMTP, and
 * the client's dot-stuffing is undone exactly by the server's reader.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { dataText } from "./client.js";
import { SMTP_LINE_LIMIT, type SmtpInput, SmtpReader } from "./parser.js";
import { SmtpSession } from "./session.js";

function drain(r: SmtpReader, onCommand?: (line: string) => boolean): SmtpInput[] {
  const out: SmtpInput[] = [];
  for (let i = r.next(); i !== undefined; i = r.next()) {
    out.push(i);
    if (i.kind === "command" && onCommand?.(i.line.toString("latin1"))) r.startData();
  }
  return out;
}

/** Feeds `bytes` cut at `cuts`, starting DATA after every "DATA" command. */
function feed(bytes: Buffer, cuts: number[], maxMessage = 1 << 20): SmtpInput[] {
  const r = new SmtpReader({ maxMessage });
  const out: SmtpInput[] = [];
  let pos = 0;
  for (const c of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    r.push(bytes.subarray(pos, c));
    pos = c;
    out.push(...drain(r, (l) => l === "DATA"));
    assert.ok(r.buffered <= SMTP_LINE_LIMIT + maxMessage + bytes.length, `held ${r.buffered}`);
  }
  return out;
}

const show = (items: SmtpInput[]) =>
  items.map((i) =>
    i.kind === "command"
      ? `C:${i.line.toString("latin1")}`
      : i.kind === "message"
        ? `M:${i.data.toString("latin1")}`
        : i.kind === "refused-message"
          ? `R:${i.reason}`
          : "TOO-LONG",
  );

describe("SmtpReader", () => {
  test("a command line of 1000 bytes with CRLF is read; 1001 is too long, and the next line is read", () => {
    const ok = "NOOP " + "x".repeat(SMTP_LINE_LIMIT - 2 - 5);
    const long = ok + "y";
    const items = show(feed(Buffer.from(`${ok}\r\n${long}\r\nQUIT\r\n`), []));
    assert.deepEqual(items, [`C:${ok}`, "TOO-LONG", "C:QUIT"]);
    // the same when the long line arrives byte by byte: skipped without holding it
    const r = new SmtpReader({ maxMessage: 100 });
    const out: SmtpInput[] = [];
    for (const b of Buffer.from(`${long}${"z".repeat(5000)}\r\nQUIT\r\n`)) {
      r.push(Buffer.of(b));
      out.push(...drain(r));
      assert.ok(r.buffered <= SMTP_LINE_LIMIT, `held ${r.buffered} bytes`);
    }
    assert.deepEqual(show(out), ["TOO-LONG", "C:QUIT"]);
  });

  test("DATA: dot-unstuffing, CRLF endings, the final dot; bytes after it are commands again", () => {
    const items = show(feed(Buffer.from("DATA\r\nSubject: x\r\n\r\n..a\r\n..\r\nb\n.\r\nQUIT\r\n"), []));
    assert.deepEqual(items, ["C:DATA", "M:Subject: x\r\n\r\n.a\r\n.\r\nb\r\n", "C:QUIT"]);
  });

  test("a message of exactly the maximum is kept; one byte more is refused as too big, and read to its end", () => {
    const body = "x".repeat(98); // 98 + CRLF = 100 bytes
    assert.deepEqual(show(feed(Buffer.from(`DATA\r\n${body}\r\n.\r\n`), [], 100)), [
      "C:DATA",
      `M:${body}\r\n`,
    ]);
    assert.deepEqual(show(feed(Buffer.from(`DATA\r\n${body}y\r\n.\r\nNOOP\r\n`), [], 100)), [
      "C:DATA",
      "R:size",
      "C:NOOP",
    ]);
  });

  test("a text line past 1000 bytes refuses the message (after its end), not the connection", () => {
    const items = show(
      feed(Buffer.from(`DATA\r\nok\r\n${"x".repeat(1200)}\r\nok\r\n.\r\nNOOP\r\n`), [7, 500, 1100]),
    );
    assert.deepEqual(items, ["C:DATA", "R:line", "C:NOOP"]);
  });

  test("property: however the bytes are cut, the same commands and messages come out", () => {
    const line = fc.stringMatching(/^[ -~]{0,120}$/).filter((s) => s !== "DATA" && s !== ".");
    const msgLine = fc.oneof(fc.stringMatching(/^[ -~]{0,80}$/), fc.stringMatching(/^\.[ -~]{0,10}$/));
    const script = fc.array(
      fc.oneof(
        line.map((l) => ({ cmd: l })),
        fc.array(msgLine, { maxLength: 8 }).map((lines) => ({ msg: lines })),
      ),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(script, fc.array(fc.nat(4000), { maxLength: 20 }), (steps, cuts) => {
        let wire = "";
        const want: string[] = [];
        for (const s of steps) {
          if ("cmd" in s) {
            wire += `${s.cmd}\r\n`;
            want.push(`C:${s.cmd}`);
          } else {
            const text = s.msg.map((l) => `${l}\r\n`).join("");
            wire += `DATA\r\n${dataText(Buffer.from(text)).toString("latin1")}`;
            want.push("C:DATA", `M:${text}`);
          }
        }
        assert.deepEqual(show(feed(Buffer.from(wire, "latin1"), cuts)), want);
      }),
      { numRuns: 300 },
    );
  });

  test("property: hostile bytes never throw, never yield a line past the limit, never make it hold more than the limits", () => {
    const chunk = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.constantFrom(Buffer.from("DATA\r\n"), Buffer.from("\r\n.\r\n"), Buffer.from("\n"), Buffer.from(".")),
      fc.nat(5000).map((n) => Buffer.alloc(n, 0x41)),
    );
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 40 }), fc.boolean(), (chunks, startData) => {
        const r = new SmtpReader({ maxMessage: 2000 });
        if (startData) r.startData();
        for (const c of chunks) {
          r.push(c);
          for (let i = r.next(); i !== undefined; i = r.next()) {
            if (i.kind === "command") {
              assert.ok(i.line.length <= SMTP_LINE_LIMIT - 1);
              if (i.line.toString("latin1") === "DATA") r.startData();
            }
            if (i.kind === "message") assert.ok(i.data.length <= 2000);
          }
          // unread input is at most one partial line; the message at most its maximum
          assert.ok(r.buffered <= SMTP_LINE_LIMIT + 2000 + c.length, `held ${r.buffered}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("SmtpSession", () => {
  const session = () =>
    new SmtpSession({ hostname: "sink.test", maxMessage: 1000, maxRecipients: 2, peer: "127.0.0.1:1" });
  const say = (s: SmtpSession, line: string) => {
    const step = s.handle({ kind: "command", line: Buffer.from(line) });
    return "reply" in step ? step.reply : "(store)";
  };

  test("the order of a transaction is enforced with 503 5.5.1; SIZE, recipients and addresses are checked", () => {
    const s = session();
    assert.match(say(s, "MAIL FROM:<a@x.org>"), /^503 5\.5\.1 /);
    assert.match(say(s, "EHLO client"), /^250-sink\.test greets client\r\n(250-.*\r\n)*250 HELP\r\n$/);
    assert.match(say(s, "EHLO client"), /250-SIZE 1000\r\n/);
    assert.match(say(s, "RCPT TO:<b@x.org>"), /^503 5\.5\.1 /);
    assert.match(say(s, "MAIL FROM:<a@x.org> SIZE=1001"), /^552 5\.3\.4 /);
    assert.match(say(s, "MAIL FROM:<a@x.org> FOO=1"), /^555 5\.5\.4 /);
    assert.match(say(s, "MAIL FROM:<ä@x.org>"), /^553 5\.6\.7 /);
    assert.match(say(s, "MAIL FROM:<a@x.org> SIZE=1000 BODY=8BITMIME"), /^250 2\.1\.0 /);
    assert.match(say(s, "MAIL FROM:<a@x.org>"), /^503 5\.5\.1 .*nested/);
    assert.match(say(s, "DATA"), /^503 5\.5\.1 .*RCPT/);
    assert.match(say(s, "RCPT TO:<nobody>"), /^501 5\.1\.3 /);
    assert.match(say(s, "RCPT TO:<b@x.org>"), /^250 2\.1\.5 /);
    assert.match(say(s, "RCPT TO:<postmaster>"), /^250 2\.1\.5 /);
    assert.match(say(s, "RCPT TO:<c@x.org>"), /^452 4\.5\.3 /);
    assert.match(say(s, "VRFY b"), /^252 /);
    assert.match(say(s, "DATA"), /^354 /);
    const stored = s.handle({ kind: "message", data: Buffer.from("x\r\n") });
    assert.equal(stored.action, "store");
    assert.deepEqual("envelope" in stored ? stored.envelope.to : [], ["b@x.org", "postmaster"]);
    assert.match(s.stored({ error: Object.assign(new Error("full"), { code: "ENOSPC" }) }), /^452 4\.3\.1 /);
    assert.match(s.stored({ error: new Error("other") }), /^451 4\.3\.0 /);
    assert.match(say(s, "RCPT TO:<b@x.org>"), /^503 5\.5\.1 /); // the transaction was reset
    assert.match(say(s, "QUIT"), /^221 2\.0\.0 /);
  });

  const verb = fc.constantFrom(
    "",
    "EHLO ",
    "MAIL FROM:<a@b> ",
    "MAIL FROM:",
    "RCPT TO:<c@d> ",
    "RCPT TO:",
    "DATA",
    "VRFY ",
    "X",
  );

  test("property: any command line gets one well-formed reply, and errors end in 421 after 20", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(verb, fc.uint8Array({ maxLength: 200 })), { maxLength: 30 }), (lines) => {
        const s = session();
        for (const [v, rest] of lines) {
          const l = Buffer.concat([Buffer.from(v), rest]);
          const step = s.handle({ kind: "command", line: Buffer.from(l) });
          if (!("reply" in step)) continue;
          assert.match(step.reply, /^(\d{3}-[^\r\n]*\r\n)*\d{3} [^\r\n]*\r\n$/);
          if (step.action === "close") {
            assert.match(step.reply, /^(221|421) /);
            break;
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
