/**
 * The one address parser of the command line: every form by table, every mistake a UsageError
 * in the one format (`WHAT must be WANTED, got GIVEN (WHY)`), and hostile text (fast-check)
 * never anything else.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { UsageError } from "../exit.js";
import {
  checkFamily,
  MAX_HOST_LENGTH,
  parseHost,
  parseHostPort,
  parsePort,
  parsePortNumber,
  parseUnixPath,
} from "./address.js";

/** fast-check parameters: fixed seed (FC_SEED overrides; fast-check prints the failing seed). */
const fcParams = (numRuns: number) => ({ seed: Number(process.env.FC_SEED ?? 42), numRuns });

/** The one message format. */
const FORMAT = /^.+ must be .+, got .+( \(.+\))?$/s;

function rejects(f: () => unknown, re: RegExp, label: string): void {
  assert.throws(
    f,
    (e: unknown) => e instanceof UsageError && FORMAT.test(e.message) && re.test(e.message),
    `${label} should fail with ${re} in the one message format`,
  );
}

test("parsePort: numbers 1..65535 (0 when listening), service names; each mistake says what and why", () => {
  assert.equal(parsePort("1"), 1);
  assert.equal(parsePort("65535"), 65535);
  assert.equal(parsePort("0080"), 80);
  assert.equal(parsePort("0", true), 0);
  assert.equal(parsePort("http"), "http");
  assert.equal(parsePort("sql-net"), "sql-net");
  assert.equal(parsePortNumber("22"), 22);
  const bad: Array<[() => unknown, RegExp]> = [
    [
      () => parsePort("0"),
      /^PORT must be 1\.\.65535, got 0 \(out of range; port 0 can only be used to listen/,
    ],
    [
      () => parsePort("65536", true),
      /^PORT must be 0\.\.65535, got 65536 \(out of range: ports are 0\.\.65535\)$/,
    ],
    [() => parsePort("123456"), /^PORT must be a port number or a service name, got "123456" \(bad port\)$/],
    [() => parsePort(""), /got nothing \(bad port: missing port\)$/],
    [() => parsePort("-1"), /bad port/],
    [() => parsePort(" 80"), /bad port/],
    [() => parsePort("8O"), /bad port/],
    [() => parsePort("x".repeat(40)), /bad port/],
    [() => parsePort("0", false, "-p PORT"), /^-p PORT must be 1\.\.65535, got 0/],
    [() => parsePortNumber("http"), /^PORT must be an integer 1\.\.65535, got "http" \(bad port\)$/],
    [() => parsePortNumber("70000", true, "--port"), /^--port must be an integer 0\.\.65535, got 70000/],
  ];
  for (const [f, re] of bad) rejects(f, re, String(f));
});

test("parseHost: names, IPv4, IPv6 with or without brackets and zones; rejects what no resolver takes", () => {
  assert.equal(parseHost("example.test"), "example.test");
  assert.equal(parseHost("10.0.0.1"), "10.0.0.1");
  assert.equal(parseHost("::1"), "::1");
  assert.equal(parseHost("[::1]"), "::1");
  assert.equal(parseHost("[fe80::1%lo]"), "fe80::1%lo");
  assert.equal(parseHost("h".repeat(MAX_HOST_LENGTH)).length, MAX_HOST_LENGTH);
  const bad: Array<[string, RegExp]> = [
    ["", /^HOST must be a host name or an address, got nothing \(no host\)$/],
    ["[]", /no host/],
    ["a b", /got "a b" \(bad host: no blanks/],
    ["a/b", /bad host/],
    ["a\0b", /bad host/],
    ["[::1", /bad host/],
    ["eth0%x", /a %zone needs an IPv6 address/],
    ["h".repeat(MAX_HOST_LENGTH + 1), /longer than 255/],
  ];
  for (const [text, re] of bad) rejects(() => parseHost(text), re, JSON.stringify(text));
});

test("parseHostPort: HOST:PORT, [IPv6]:PORT, PORT alone when listening, HOST alone with a default port", () => {
  const good: Array<[string, Parameters<typeof parseHostPort>[1], { host: string; port: number | string }]> =
    [
      ["127.0.0.1:80", {}, { host: "127.0.0.1", port: 80 }],
      ["[::1]:80", {}, { host: "::1", port: 80 }],
      ["[fe80::1%eth0]:22", {}, { host: "fe80::1%eth0", port: 22 }],
      ["example.test:http", {}, { host: "example.test", port: "http" }],
      ["8080", { hostOptional: true }, { host: "", port: 8080 }],
      ["0", { hostOptional: true, zero: true }, { host: "", port: 0 }],
      [":9000", { hostOptional: true }, { host: "", port: 9000 }],
      ["localhost", { defaultPort: 7 }, { host: "localhost", port: 7 }],
      ["::1", { defaultPort: 13 }, { host: "::1", port: 13 }],
      ["[::1]", { defaultPort: 13 }, { host: "::1", port: 13 }],
      ["[::1]:7007", { defaultPort: 13 }, { host: "::1", port: 7007 }],
      ["h:0", { zero: true }, { host: "h", port: 0 }],
    ];
  for (const [text, rules, want] of good) assert.deepEqual(parseHostPort(text, rules), want, text);
  const bad: Array<[string, Parameters<typeof parseHostPort>[1], RegExp]> = [
    [
      "127.0.0.1",
      {},
      /^HOST:PORT must be a host and a port, got "127\.0\.0\.1" \(expected HOST:PORT; IPv6 in brackets/,
    ],
    ["", {}, /expected HOST:PORT/],
    ["::1:80", {}, /expected HOST:PORT/],
    ["[::1:80", {}, /expected HOST:PORT/],
    ["[::1]x:80", {}, /expected HOST:PORT/],
    [":80", {}, /missing host/],
    ["h:", {}, /^port must be a port number or a service name, got nothing \(bad port: missing port\)$/],
    ["h:0", {}, /^port must be 1\.\.65535, got 0/],
    ["h o:1", {}, /^host must be a host name or an address, got "h o" \(bad host/],
    ["", { hostOptional: true }, /missing port/],
    ["", { defaultPort: 7 }, /no host/],
    [":7", { defaultPort: 7 }, /no host/],
    ["h:7 7", { defaultPort: 7 }, /bad port/],
  ];
  for (const [text, rules, re] of bad) rejects(() => parseHostPort(text, rules), re, JSON.stringify(text));
});

test("parseUnixPath: any non-empty path up to 107 bytes without NUL", () => {
  assert.equal(parseUnixPath("/tmp/s.sock"), "/tmp/s.sock");
  assert.equal(parseUnixPath(`/${"x".repeat(106)}`).length, 107);
  rejects(() => parseUnixPath(""), /^PATH must be a socket path, got nothing \(missing socket path/, "empty");
  rejects(() => parseUnixPath("/a\0b"), /cannot contain NUL/, "NUL");
  rejects(() => parseUnixPath(`/${"é".repeat(60)}`), /at most 107 bytes/, "multi-byte, too long");
});

test("checkFamily: -4/-6 must agree with a literal address", () => {
  checkFamily("127.0.0.1", true, false);
  checkFamily("::1", false, true);
  checkFamily("example.test", true, false);
  assert.throws(() => checkFamily("::1", true, false), /is an IPv6 address but -4 was given/);
  assert.throws(() => checkFamily("10.0.0.1", false, true), /is an IPv4 address but -6 was given/);
  assert.throws(() => checkFamily("h", true, true), /exclude each other/);
});

/** Only UsageError in the one format, never anything else, and fast. */
function onlyUsageErrors(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (e) {
    return e instanceof UsageError && FORMAT.test(e.message) && e.message.length < 400;
  }
}

test("property: hostile text parses or raises a UsageError in the one format, never anything else", () => {
  const hostile = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: "binary", maxLength: 300 }),
    fc.stringMatching(/^[[\]:%0-9a-f.\s/]{0,40}$/),
    fc.constantFrom(
      "[",
      "]",
      "[]",
      ":",
      "::",
      "[::]:",
      "\0",
      "%",
      "[%]:1",
      "a:b:c",
      "99999",
      "0".repeat(300),
    ),
  );
  fc.assert(
    fc.property(hostile, fc.boolean(), fc.boolean(), (text, zero, optional) => {
      const t0 = performance.now();
      const ok =
        onlyUsageErrors(() => parsePort(text, zero)) &&
        onlyUsageErrors(() => parsePortNumber(text, zero)) &&
        onlyUsageErrors(() => parseHost(text)) &&
        onlyUsageErrors(() => parseUnixPath(text)) &&
        onlyUsageErrors(() => parseHostPort(text, { zero, hostOptional: optional })) &&
        onlyUsageErrors(() => parseHostPort(text, { defaultPort: 7 }));
      // no input may make a parser crawl (catastrophic backtracking takes seconds); the bound is
      // loose because CI machines are loaded: speed itself is for benchmarks
      return ok && performance.now() - t0 < 1000;
    }),
    fcParams(3000),
  );
});

test("property: what parseHostPort accepts names a port in range and a host the host parser accepts", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (text) => {
      let hp: { host: string; port: number | string };
      try {
        hp = parseHostPort(text);
      } catch {
        return true;
      }
      assert.equal(parseHost(hp.host), hp.host);
      if (typeof hp.port === "number") assert.ok(hp.port >= 1 && hp.port <= 65535);
      else assert.match(hp.port, /^[A-Za-z]/);
      return true;
    }),
    fcParams(3000),
  );
});
