import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { fcParams } from "../../codec/codec.test-support.js";
import { PathRefused, virtualPath } from "./paths.js";
import {
  CommandSplitter,
  formatEprt,
  formatPort,
  formatReply,
  MAX_COMMAND_LINE,
  parseCommand,
  parseEprt,
  parseEpsvReply,
  parsePasvReply,
  parsePort,
  quotePath,
  ReplyReader,
  unquotePath,
} from "./protocol.js";

function readAll(text: string): { code: number; lines: readonly string[] }[] {
  const r = new ReplyReader();
  const out: { code: number; lines: readonly string[] }[] = [];
  for (const l of text.split("\r\n").slice(0, -1)) {
    const rep = r.feed(l);
    if (rep) out.push(rep);
  }
  return out;
}

/** Lines an attacker would send: real verbs or junk, then bytes rich in NUL, CR, LF, IAC, "../", "%". */
const hostileLine = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc
    .tuple(
      fc.oneof(
        fc.constantFrom("RETR", "STOR", "CWD", "PORT", "EPRT", "USER", "PASS", "ABOR"),
        fc.string({ maxLength: 10 }),
      ),
      fc.array(
        fc.oneof(
          fc.constantFrom(
            0x00,
            0x09,
            0x0a,
            0x0d,
            0x1b,
            0x7f,
            0xff,
            0xf4,
            0xf2,
            0x2e,
            0x2f,
            0x25,
            0x20,
            0xc3,
            0xa9,
          ),
          fc.integer({ min: 0x20, max: 0x7e }),
        ),
        { maxLength: 300 },
      ),
      fc.boolean(),
    )
    .map(([verb, arg, crlf]) =>
      Buffer.concat([Buffer.from(`${verb} `), Buffer.from(arg), Buffer.from(crlf ? "\r\n" : "")]),
    ),
);

describe("FTP command lines", () => {
  test("a verb is upper-cased and the argument kept as sent, spaces included", () => {
    assert.deepEqual(parseCommand("retr a  b.txt\r\n"), { ok: true, verb: "RETR", arg: "a  b.txt" });
    assert.deepEqual(parseCommand("XSHA256 x"), { ok: true, verb: "XSHA256", arg: "x" });
    assert.deepEqual(parseCommand("NOOP\n"), { ok: true, verb: "NOOP", arg: "" });
  });

  test("NUL, CR, LF and other control bytes in an argument are refused with 501", () => {
    for (const bad of ["RETR a\0b", "RETR a\rb", "CWD \x1b[2J", "DELE a\x7f"]) {
      const r = parseCommand(bad);
      assert.equal(r.ok, false, JSON.stringify(bad));
      assert.equal(!r.ok && r.code, 501);
    }
  });

  test("Telnet IAC sequences (IAC IP, IAC DM before ABOR) are dropped; IAC IAC is one 0xFF", () => {
    const line = Buffer.concat([Buffer.from([0xff, 0xf4, 0xff, 0xf2]), Buffer.from("ABOR\r\n")]);
    assert.deepEqual(parseCommand(line), { ok: true, verb: "ABOR", arg: "" });
  });

  test("hostile lines never throw: every result is a command with a clean argument or a 500/501 refusal", () => {
    fc.assert(
      fc.property(hostileLine, (bytes) => {
        const r = parseCommand(bytes);
        if (r.ok) {
          assert.match(r.verb, /^[A-Z][A-Z0-9]{0,7}$/);
          assert.doesNotMatch(r.arg, /[\x00-\x08\x0a-\x1f\x7f]/);
          // the reply built from it stays one reply
          assert.equal(readAll(formatReply(550, `${r.arg}: no such file`)).length, 1);
        } else assert.ok(r.code === 500 || r.code === 501);
      }),
      fcParams(2000),
    );
  });

  test("hostile text lines: the verb and argument round-trip exactly when accepted", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), (verb, arg) => {
        fc.pre(!verb.includes(" ")); // the first space ends the verb
        const r = parseCommand(`${verb} ${arg}\r\n`);
        if (r.ok) {
          assert.equal(r.verb, verb.toUpperCase());
          assert.equal(r.arg, arg);
        }
      }),
      fcParams(2000),
    );
  });

  test("a line longer than the limit is refused with 500", () => {
    const r = parseCommand(`RETR ${"a".repeat(MAX_COMMAND_LINE)}`);
    assert.equal(!r.ok && r.code, 500);
  });
});

describe("command line splitting", () => {
  test("LF, CRLF and a lone CR (urgent-data ABOR) end a line, at every split offset; empty lines dropped", () => {
    const wire = Buffer.from("USER a\r\nNOOP\n\r\n\xff\xf4\xff\xf2ABOR\rSTAT\r\n", "latin1");
    const want = ["USER a", "NOOP", "\xff\xf4\xff\xf2ABOR", "STAT"];
    for (let cut = 0; cut <= wire.length; cut++) {
      const s = new CommandSplitter(100);
      const a = s.push(wire.subarray(0, cut));
      const b = s.push(wire.subarray(cut));
      assert.ok(a !== "too-long" && b !== "too-long");
      assert.deepEqual(
        [...a, ...b].map((l) => l.toString("latin1")),
        want,
        `cut at ${cut}`,
      );
    }
  });

  test("a line over the limit, ended or not, is too long", () => {
    assert.equal(new CommandSplitter(8).push(Buffer.from("123456789")), "too-long");
    assert.equal(new CommandSplitter(8).push(Buffer.from("123456789\r\n")), "too-long");
    assert.deepEqual(new CommandSplitter(8).push(Buffer.from("12345678\r\n")), [Buffer.from("12345678")]);
  });
});

describe("FTP replies", () => {
  test("a multi-line reply reads back as one reply, whatever its lines contain", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }),
        fc.array(fc.string({ maxLength: 40 }), { minLength: 1, maxLength: 8 }),
        (code, lines) => {
          const replies = readAll(formatReply(code, lines));
          assert.equal(replies.length, 1);
          assert.equal(replies[0]!.code, code);
        },
      ),
      fcParams(1000),
    );
  });

  test("FEAT-style reply: first line, indented middle lines, end line", () => {
    assert.equal(formatReply(211, ["Features:", "SIZE", "End"]), "211-Features:\r\n SIZE\r\n211 End\r\n");
    assert.deepEqual(readAll("211-Features:\r\n SIZE\r\n211 End\r\n")[0]!.lines, [
      "Features:",
      " SIZE",
      "End",
    ]);
  });
});

describe("FTP addresses", () => {
  test("PORT/PASV numbers round-trip and malformed ones are refused", () => {
    assert.deepEqual(parsePort(formatPort("127.0.0.1", 50001)), { host: "127.0.0.1", port: 50001 });
    assert.deepEqual(parsePasvReply("Entering Passive Mode (10,0,0,1,4,1)."), {
      host: "10.0.0.1",
      port: 1025,
    });
    for (const bad of ["1,2,3,4,5", "256,0,0,1,1,1", "a,b,c,d,e,f", "1,2,3,4,5,6,7"])
      assert.equal(parsePort(bad), undefined, bad);
  });

  test("EPRT/EPSV forms (RFC 2428), IPv4 and IPv6", () => {
    assert.deepEqual(parseEprt(formatEprt("::1", 5282)), { family: 2, host: "::1", port: 5282 });
    assert.deepEqual(parseEprt("!1!132.235.1.2!6275!"), { family: 1, host: "132.235.1.2", port: 6275 });
    assert.equal(parseEprt("|3|::1|5|"), undefined);
    assert.equal(parseEprt("|1|1.2.3.4|70000|"), undefined);
    assert.equal(parseEpsvReply("Entering Extended Passive Mode (|||6446|)"), 6446);
  });

  test("257 paths: quotes doubled and undone", () => {
    assert.equal(unquotePath(`${quotePath('/a"b')} created.`), '/a"b');
  });
});

describe("virtual paths", () => {
  test("'..' above the root and NUL are refused; absolute paths start at the root", () => {
    assert.equal(virtualPath("/pub", "../a.txt"), "/a.txt");
    assert.equal(virtualPath("/pub", "/etc/passwd"), "/etc/passwd");
    assert.throws(() => virtualPath("/", "../etc/passwd"), PathRefused);
    assert.throws(() => virtualPath("/pub", "a/../../.."), PathRefused);
    assert.throws(() => virtualPath("/", "a\0b"), PathRefused);
    fc.assert(
      fc.property(fc.array(fc.constantFrom("..", ".", "a", "b", ""), { maxLength: 12 }), (parts) => {
        try {
          const v = virtualPath("/", parts.join("/"));
          assert.ok(v.startsWith("/") && !v.split("/").includes(".."));
        } catch (err) {
          assert.ok(err instanceof PathRefused);
        }
      }),
      fcParams(1000),
    );
  });
});
