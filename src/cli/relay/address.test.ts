/**
 * The relay address parser: every form by table, every mistake a UsageError, and hostile strings
 * (fast-check) never crash it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { UsageError } from "../exit.js";
import { formatRelayAddress, parseRelayAddress, planRelay, type RelayAddress } from "./address.js";

/** fast-check parameters: fixed seed (FC_SEED overrides; fast-check prints the failing seed). */
const fcParams = (numRuns: number) => ({ seed: Number(process.env.FC_SEED ?? 42), numRuns });

const GOOD: Array<[string, RelayAddress]> = [
  ["tcp:127.0.0.1:80", { kind: "tcp", network: "tcp", host: "127.0.0.1", port: "80" }],
  ["tcp:localhost:http", { kind: "tcp", network: "tcp", host: "localhost", port: "http" }],
  ["TCP:example.test:8080", { kind: "tcp", network: "tcp", host: "example.test", port: "8080" }],
  ["tcp:[::1]:80", { kind: "tcp", network: "tcp", host: "::1", port: "80" }],
  ["tcp6:[fe80::1%eth0]:22", { kind: "tcp", network: "tcp6", host: "fe80::1%eth0", port: "22" }],
  ["tcp4:10.0.0.1:0080", { kind: "tcp", network: "tcp4", host: "10.0.0.1", port: "80" }],
  ["tcp-listen:8080", { kind: "tcp-listen", network: "tcp", host: "", port: "8080", fork: false }],
  ["tcp-listen:0,fork", { kind: "tcp-listen", network: "tcp", host: "", port: "0", fork: true }],
  ["TCP-LISTEN:0,FORK", { kind: "tcp-listen", network: "tcp", host: "", port: "0", fork: true }],
  [
    "tcp-listen:127.0.0.1:0,fork",
    { kind: "tcp-listen", network: "tcp", host: "127.0.0.1", port: "0", fork: true },
  ],
  ["tcp-listen:[::1]:9000", { kind: "tcp-listen", network: "tcp", host: "::1", port: "9000", fork: false }],
  ["tcp-listen::9000", { kind: "tcp-listen", network: "tcp", host: "", port: "9000", fork: false }],
  ["tcp6-listen:0", { kind: "tcp-listen", network: "tcp6", host: "", port: "0", fork: false }],
  ["udp:127.0.0.1:53", { kind: "udp", network: "udp", host: "127.0.0.1", port: "53" }],
  ["udp6:[::1]:53", { kind: "udp", network: "udp6", host: "::1", port: "53" }],
  ["udp-listen:5353", { kind: "udp-listen", network: "udp", host: "", port: "5353" }],
  ["udp-listen:127.0.0.1:0", { kind: "udp-listen", network: "udp", host: "127.0.0.1", port: "0" }],
  ["unix:/tmp/s.sock", { kind: "unix", path: "/tmp/s.sock" }],
  ["unix-connect:rel/s.sock", { kind: "unix", path: "rel/s.sock" }],
  ["unix-listen:/tmp/s.sock", { kind: "unix-listen", path: "/tmp/s.sock", fork: false }],
  ["unix-listen:/tmp/s.sock,fork", { kind: "unix-listen", path: "/tmp/s.sock", fork: true }],
  ["stdio", { kind: "stdio" }],
  ["STDIO", { kind: "stdio" }],
  ["-", { kind: "stdio" }],
  ["exec:cat", { kind: "exec", command: "cat", argv: ["cat"] }],
  ["exec:tr a-z A-Z", { kind: "exec", command: "tr a-z A-Z", argv: ["tr", "a-z", "A-Z"] }],
  [
    `exec:sh -c 'echo "a, b"; cat'`,
    { kind: "exec", command: `sh -c 'echo "a, b"; cat'`, argv: ["sh", "-c", 'echo "a, b"; cat'] },
  ],
  ["exec:awk -F, {print}", { kind: "exec", command: "awk -F, {print}", argv: ["awk", "-F,", "{print}"] }],
];

test("parseRelayAddress accepts every documented form", () => {
  for (const [text, want] of GOOD) assert.deepEqual(parseRelayAddress(text), want, text);
});

test("formatRelayAddress gives text that parses back to the same address", () => {
  for (const [text, want] of GOOD) assert.deepEqual(parseRelayAddress(formatRelayAddress(want)), want, text);
});

const BAD: Array<[string, RegExp]> = [
  ["", /expected TYPE/],
  ["localhost", /expected TYPE/],
  ["ftp:host:21", /unknown type "ftp"/],
  ["tcp:", /expected HOST:PORT/],
  ["tcp:127.0.0.1", /expected HOST:PORT/],
  ["tcp::80", /missing host/],
  ["tcp:host:", /missing port/],
  ["tcp:host:0", /port 0 can only be used to listen/],
  ["tcp:host:65536", /0\.\.65535/],
  ["tcp:host:99999999", /bad port/],
  ["tcp:::1:80", /expected HOST:PORT/],
  ["tcp:[::1:80", /expected HOST:PORT/],
  ["tcp4:[::1]:80", /tcp4 needs an IPv4 host/],
  ["tcp:host:80,fork", /fork is only for tcp-listen and unix-listen/],
  ["tcp-listen:80,reuseaddr", /unknown option "reuseaddr"/],
  ["tcp-listen:80,", /unknown option ""/],
  ["tcp-listen:", /missing port/],
  ["tcp-listen:-1", /bad port/],
  ["tcp-listen:h o:80", /bad host/],
  ["udp-listen:53,fork", /fork is only for/],
  ["unix:", /missing socket path/],
  ["unix-listen:,fork", /missing socket path/],
  [`unix:/${"x".repeat(200)}`, /at most 107 bytes/],
  ["unix:/tmp/a\0b", /NUL/],
  ["exec:", /exec needs a command/],
  ["exec:   ", /exec needs a command/],
  ["exec:''", /exec needs a command/],
  ["exec:echo 'oops", /unterminated single quote/],
  [`tcp:${"a".repeat(5000)}:1`, /longer than 4096/],
];

test("parseRelayAddress rejects mistakes with a UsageError saying what is wrong", () => {
  for (const [text, re] of BAD) {
    assert.throws(
      () => parseRelayAddress(text),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
      `${JSON.stringify(text.slice(0, 40))} should fail with ${re}`,
    );
  }
});

test("planRelay: fork on one side, the other opened per connection", () => {
  assert.equal(planRelay("tcp-listen:0,fork", "tcp:127.0.0.1:7").forkSide, 0);
  assert.equal(planRelay("exec:cat", "unix-listen:/tmp/x,fork").forkSide, 1);
  assert.equal(planRelay("tcp-listen:0", "tcp-listen:0").forkSide, undefined);
  assert.equal(planRelay("-", "tcp:h:1").forkSide, undefined);
  const bad: Array<[string, string, RegExp]> = [
    ["tcp-listen:0,fork", "unix-listen:/x,fork", /only one relay address may have ,fork/],
    ["tcp-listen:0,fork", "tcp-listen:1", /cannot listen/],
    ["udp-listen:0", "unix-listen:/x,fork", /cannot listen/],
    ["tcp-listen:0,fork", "-", /stdio exists only once/],
    ["-", "stdio", /stdio to stdio/],
  ];
  for (const [a, b, re] of bad) {
    assert.throws(
      () => planRelay(a, b),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
      `${a} ${b}`,
    );
  }
});

test("property: hostile address strings parse or raise UsageError, never anything else", () => {
  const piece = fc.constantFrom(
    "tcp",
    "tcp-listen",
    "udp",
    "udp-listen",
    "unix",
    "unix-listen",
    "exec",
    "stdio",
    "-",
    ":",
    ",",
    "fork",
    "[",
    "]",
    "::1",
    "'",
    '"',
    "\\",
    "0",
    "65536",
    "%",
    " ",
    "\0",
  );
  const arb = fc.oneof(
    fc.array(piece, { maxLength: 12 }).map((p) => p.join("")),
    fc.string({ unit: "binary", maxLength: 60 }),
    fc.string({ maxLength: 5000 }),
    fc.tuple(piece, fc.string({ unit: "grapheme", maxLength: 40 })).map(([t, s]) => `${t}:${s}`),
  );
  fc.assert(
    fc.property(arb, (s) => {
      let parsed: RelayAddress;
      try {
        parsed = parseRelayAddress(s);
      } catch (e) {
        assert.ok(e instanceof UsageError, `${JSON.stringify(s)} threw ${String(e)}`);
        return;
      }
      // whatever parses formats back to text with the same meaning
      assert.deepEqual(parseRelayAddress(formatRelayAddress(parsed)), parsed);
    }),
    fcParams(3000),
  );
});

test("tls: and tls-listen: (socat's OPENSSL forms) parse their options; tls-listen needs cert and key", () => {
  assert.deepEqual(parseRelayAddress("tls:localhost:443,cafile=ca.pem,servername=x.test"), {
    kind: "tcp",
    network: "tcp",
    host: "localhost",
    port: "443",
    tls: { verify: true, cafile: "ca.pem", servername: "x.test" },
  });
  assert.deepEqual(parseRelayAddress("tls-listen:8443,cert=c.pem,key=k.pem,fork"), {
    kind: "tcp-listen",
    network: "tcp",
    host: "",
    port: "8443",
    fork: true,
    tls: { verify: false, cert: "c.pem", key: "k.pem" },
  });
  assert.equal(formatRelayAddress(parseRelayAddress("openssl:[::1]:443,verify=0")), "tls:[::1]:443");
  assert.throws(() => parseRelayAddress("tls-listen:8443"), /needs cert=FILE,key=FILE/);
  assert.throws(() => parseRelayAddress("tls:h:1,bogus=1"), /unknown or incomplete option/);
});
