import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  ChatProtocolError,
  formatMessage,
  type IrcMessage,
  ircLower,
  isValidChannel,
  isValidNick,
  LineReader,
  MAX_LINE,
  parseLine,
} from "./protocol.js";

/** Any byte as a one-char binary string, with the IRC-significant ones often. */
const byteChar = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
  fc.constantFrom(" ", ":", "\r", "\n", "\0", "@", "!", "#", "\x01"),
);
const hostile = fc.array(byteChar, { maxLength: 700 }).map((a) => a.join(""));
const word = fc.stringMatching(/^[A-Za-z0-9#&!@.\-_[\]{}|^`\\]{1,20}$/);

describe("parseLine", () => {
  test("the parts of a line", () => {
    assert.deepEqual(parseLine(":alice!a@h PRIVMSG #lobby :hello there\r\n"), {
      prefix: "alice!a@h",
      command: "PRIVMSG",
      params: ["#lobby", "hello there"],
    });
    assert.deepEqual(parseLine("nick  bob"), { command: "NICK", params: ["bob"] });
    assert.deepEqual(parseLine("@time=x :s 001 bob :Welcome"), {
      prefix: "s",
      command: "001",
      params: ["bob", "Welcome"],
    });
    assert.deepEqual(parseLine("PRIVMSG #a ::-)"), { command: "PRIVMSG", params: ["#a", ":-)"] });
    assert.deepEqual(parseLine("TOPIC #a :"), { command: "TOPIC", params: ["#a", ""] });
    // the 15th parameter takes the rest of the line
    const many = parseLine(`X ${Array.from({ length: 20 }, (_, i) => `p${i}`).join(" ")}`);
    assert.equal(many.params.length, 15);
    assert.equal(many.params[14], "p14 p15 p16 p17 p18 p19");
  });

  test("typed errors", () => {
    const code = (l: string) => {
      try {
        parseLine(l);
        return "ok";
      } catch (e) {
        assert.ok(e instanceof ChatProtocolError);
        return e.code;
      }
    };
    assert.equal(code(""), "EEMPTY");
    assert.equal(code("   "), "EEMPTY");
    assert.equal(code(": NICK a"), "EBADPREFIX");
    assert.equal(code(":pfx"), "EBADCOMMAND");
    assert.equal(code("NI-CK a"), "EBADCOMMAND");
    assert.equal(code("12 a"), "EBADCOMMAND");
    assert.equal(code("PRIVMSG a :b\0c"), "EBADBYTE");
    assert.equal(code(`PRIVMSG a :${"x".repeat(500)}`), "ELINETOOLONG");
    assert.equal(code(`PRIVMSG a :${"x".repeat(MAX_LINE - 2 - 11)}`), "ok");
  });

  test("property: any bytes parse or fail with a ChatProtocolError", () => {
    fc.assert(
      fc.property(hostile, (l) => {
        try {
          const m = parseLine(l);
          assert.match(m.command, /^([A-Z]+|\d{3})$/);
          assert.ok(m.params.length <= 15);
          for (const p of m.params) assert.ok(!/[\r\n\0]/.test(p));
        } catch (e) {
          if (!(e instanceof ChatProtocolError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("formatMessage", () => {
  test("a last parameter after others, or one that needs it, gets ':'", () => {
    assert.equal(
      formatMessage({ prefix: "srv", command: "001", params: ["bob", "Welcome"] }),
      ":srv 001 bob :Welcome\r\n",
    );
    assert.equal(
      formatMessage({ command: "PRIVMSG", params: ["#a", "hi there"] }),
      "PRIVMSG #a :hi there\r\n",
    );
    assert.equal(formatMessage({ command: "TOPIC", params: ["#a", ""] }), "TOPIC #a :\r\n");
    assert.equal(formatMessage({ command: "PING", params: [] }), "PING\r\n");
    assert.equal(formatMessage({ command: "NICK", params: ["bob"] }), "NICK bob\r\n");
    assert.throws(() => formatMessage({ command: "PRIVMSG", params: ["a b", "x"] }), ChatProtocolError);
    assert.throws(() => formatMessage({ command: "PRIVMSG", params: ["a", "x\r\nQUIT"] }), ChatProtocolError);
  });

  test("property: never longer than 512 bytes; parse(format(m)) is m (the last parameter maybe cut)", () => {
    const msg = fc.record({
      prefix: fc.option(word, { nil: undefined }),
      command: fc.oneof(fc.stringMatching(/^[A-Z]{1,10}$/), fc.stringMatching(/^\d{3}$/)),
      middle: fc.array(
        word.filter((w) => !w.startsWith(":")),
        { maxLength: 10 },
      ),
      trailing: fc.option(
        fc.oneof(
          fc
            .array(
              byteChar.filter((c) => !/[\r\n\0]/.test(c)),
              { maxLength: 600 },
            )
            .map((a) => a.join("")),
          // long ones, often past the limit, with UTF-8 to cut around
          fc
            .tuple(fc.integer({ min: 0, max: 700 }), fc.constantFrom("x", " ", "\xc3\xa9", "\xe2\x82\xac"))
            .map(([n, c]) => c.repeat(Math.ceil(n / c.length))),
        ),
        { nil: undefined },
      ),
    });
    fc.assert(
      fc.property(msg, (r) => {
        const params = r.trailing === undefined ? r.middle : [...r.middle, r.trailing];
        const m: IrcMessage =
          r.prefix === undefined
            ? { command: r.command, params }
            : { prefix: r.prefix, command: r.command, params };
        const line = formatMessage(m);
        assert.ok(line.length <= MAX_LINE, `${line.length} bytes`);
        assert.ok(line.endsWith("\r\n"));
        const back = parseLine(line);
        assert.equal(back.command, m.command);
        assert.equal(back.prefix, m.prefix);
        assert.deepEqual(back.params.slice(0, r.middle.length), r.middle);
        if (r.trailing !== undefined && back.params.length > r.middle.length) {
          const got = back.params[r.middle.length]!;
          assert.ok(r.trailing.startsWith(got), "the last parameter is a prefix of what was given");
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("LineReader", () => {
  test("lines across chunks; CR LF or LF", () => {
    const r = new LineReader();
    assert.deepEqual(r.push(Buffer.from("NICK al")), []);
    assert.deepEqual(r.push(Buffer.from("ice\r\nUSER a 0 * :A\nPI")), [
      { line: "NICK alice" },
      { line: "USER a 0 * :A" },
    ]);
    assert.deepEqual(r.push(Buffer.from("NG x\r\n")), [{ line: "PING x" }]);
  });

  test("a line over 512 bytes is reported once and skipped to its newline", () => {
    const r = new LineReader();
    const out = [
      ...r.push(Buffer.from("x".repeat(600))),
      ...r.push(Buffer.from("y".repeat(5000))),
      ...r.push(Buffer.from("z\nok\n")),
    ];
    assert.deepEqual(out, [{ tooLong: true }, { line: "ok" }]);
    // exactly 510 bytes + CR LF is fine
    const full = "P".repeat(510);
    assert.deepEqual(new LineReader().push(Buffer.from(`${full}\r\n`)), [{ line: full }]);
  });

  test("end(): the last line without a newline, unless it was overlong; then empty", () => {
    const r = new LineReader();
    assert.deepEqual(r.push(Buffer.from("one\nlast\r")), [{ line: "one" }]);
    assert.deepEqual(r.end(), [{ line: "last" }]);
    assert.deepEqual(r.end(), []);
    const long = new LineReader();
    assert.deepEqual(long.push(Buffer.from("x".repeat(600))), [{ tooLong: true }]);
    assert.deepEqual(long.end(), []);
    assert.deepEqual(new LineReader().end(), []);
  });

  test("property: any chunking gives the same items; never more than 512 bytes held", () => {
    const chunk = fc.oneof(
      fc.uint8Array({ maxLength: 900 }),
      fc.integer({ min: 0, max: 1500 }).map((n) => Buffer.alloc(n, 0x61)), // no newline: must not be held
      fc.constantFrom(Buffer.from("\n"), Buffer.from("\r\n"), Buffer.from("a\r"), Buffer.from("\r")),
    );
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 12 }), (chunks) => {
        const whole = Buffer.concat(chunks);
        const one = new LineReader().push(whole);
        const r = new LineReader();
        const split: unknown[] = [];
        for (const c of chunks) {
          split.push(...r.push(c));
          assert.ok(r.buffered <= MAX_LINE);
        }
        assert.deepEqual(split, one);
      }),
      { numRuns: 500 },
    );
  });
});

describe("names", () => {
  test("rfc1459 casemapping", () => {
    assert.equal(ircLower("Nick[A]\\~"), "nick{a}|^");
    fc.assert(fc.property(fc.string(), (s) => ircLower(ircLower(s)) === ircLower(s)));
  });
  test("nicknames and channels", () => {
    for (const n of ["alice", "a", "[x]", "x-1", "`^_"]) assert.ok(isValidNick(n), n);
    for (const n of ["", "9lives", "-x", "a b", "a".repeat(17), "é"]) assert.ok(!isValidNick(n), n);
    for (const c of ["#a", "#lobby", "#a.b"]) assert.ok(isValidChannel(c), c);
    for (const c of ["#", "lobby", "#a b", "#a,b", `#${"a".repeat(50)}`]) assert.ok(!isValidChannel(c), c);
  });
});
