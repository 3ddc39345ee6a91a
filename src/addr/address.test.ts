import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { charsOf, FC_SEED, osErr, outcome } from "../../test/support/addr-oracle.js";
import { assertOSError } from "../../test/support/errors.js";
import { pythonOracle } from "../../test/support/python.js";
import { gaierror, OSError } from "../errors/index.js";
import { formatAddress, formatHostPort, normalizeHost, normalizePort, parseHostPort } from "./address.js";
import { AF_INET, AF_INET6, MAX_ADDRESS_LENGTH } from "./constants.js";
import { inet_ntop } from "./inet.js";
import { systemServices } from "./services.js";

test('normalizeHost maps "" to the wildcard, "<broadcast>" and integers to dotted quads', () => {
  assert.equal(normalizeHost("", AF_INET), "0.0.0.0");
  assert.equal(normalizeHost("", AF_INET6), "::");
  assert.equal(normalizeHost("<broadcast>", AF_INET), "255.255.255.255");
  assert.equal(normalizeHost(0x7f000001, AF_INET), "127.0.0.1");
  assert.equal(normalizeHost(0, AF_INET), "0.0.0.0");
  assert.equal(normalizeHost(0xffffffff, AF_INET), "255.255.255.255");
  assert.equal(normalizeHost("localhost", AF_INET6), "localhost");
  assert.equal(normalizeHost("::1", AF_INET6), "::1");
});

test("normalizeHost rejects bad hosts with typed errors naming host", () => {
  assert.throws(() => normalizeHost("<broadcast>", AF_INET6), osErr(OSError, "EAFNOSUPPORT"));
  assert.throws(() => normalizeHost(-1, AF_INET), /host must be 0\.\.4294967295/);
  assert.throws(() => normalizeHost(2 ** 32, AF_INET), RangeError);
  assert.throws(() => normalizeHost(1.5, AF_INET), TypeError);
  assert.throws(() => normalizeHost(1, AF_INET6), /host must be a string/);
  for (const h of [null, undefined, {}, [], 1n, Buffer.from("x")])
    assert.throws(() => normalizeHost(h, AF_INET), TypeError);
  assert.throws(() => normalizeHost("a\0b", AF_INET), RangeError);
  assert.throws(() => normalizeHost("a".repeat(MAX_ADDRESS_LENGTH + 1), AF_INET), /at most 1024/);
  assert.throws(() => normalizeHost("", 99 as 2), RangeError);
});

test("normalizePort accepts integers, numeric strings and service names", () => {
  const table: Array<[unknown, number]> = [
    [0, 0],
    [80, 80],
    [65535, 65535],
    ["8000", 8000],
    ["080", 80],
    ["http", 80],
    ["www", 80],
    ["ssh", 22],
  ];
  for (const [p, want] of table) assert.equal(normalizePort(p), want, String(p));
  assert.equal(normalizePort("domain", "udp"), 53);
  assert.equal(normalizePort("ntp", "udp"), 123);
});

test("normalizePort rejects out-of-range, wrong types and unknown names (gaierror EAI_SERVICE)", () => {
  for (const p of [-1, 65536, "65536", "99999999999999999999"])
    assert.throws(() => normalizePort(p), RangeError, String(p));
  for (const p of [1.5, Number.NaN, null, undefined, {}, 80n])
    assert.throws(() => normalizePort(p), TypeError, String(p));
  for (const p of ["nosuch", "", " 80", "ntp"]) {
    assert.throws(
      () => normalizePort(p),
      (e) => {
        assertOSError(e, gaierror, "EAI_SERVICE");
        assert.equal(e.errno, -8);
        assert.match(e.message, /Servname not supported for ai_socktype/i);
        return true;
      },
      p,
    );
  }
});

test(
  "normalizePort agrees with Python's getaddrinfo on numbers, numeric strings and /etc/services names",
  {
    timeout: 10_000,
  },
  async () => {
    const names = systemServices().map((e) => e.name);
    const inputs: Array<[string | number, "tcp" | "udp"]> = [];
    for (const proto of ["tcp", "udp"] as const) {
      for (const p of [0, 1, 80, 443, 8000, 65535, "0", "80", "0080", "65535", "nosuch", "Http", ...names])
        inputs.push([p, proto]);
    }
    const py = await pythonOracle(
      "import socket\ndef port(p, proto):\n    t = socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM\n    try:\n        return socket.getaddrinfo('127.0.0.1', p, socket.AF_INET, t)[0][4][1]\n    except socket.gaierror as e:\n        return e.errno",
      "port(x[0], x[1])",
      inputs,
    );
    inputs.forEach(([p, proto], i) => {
      const r = outcome(() => normalizePort(p, proto));
      const ours = "ok" in r ? r.ok : (r.error as OSError).errno;
      assert.equal(ours, py[i]?.ok, `${p}/${proto}`);
    });
  },
);

test("parseHostPort splits host:port forms as Go's net.SplitHostPort", () => {
  const ok: Array<[string, string, string]> = [
    ["127.0.0.1:80", "127.0.0.1", "80"],
    ["[::1]:8080", "::1", "8080"],
    [":http", "", "http"],
    ["localhost:0", "localhost", "0"],
    ["[fe80::1%eth0]:80", "fe80::1%eth0", "80"],
    ["[localhost%lo0]:80", "localhost%lo0", "80"],
    ["www.google.com:", "www.google.com", ""],
    ["google.com:https%foo", "google.com", "https%foo"],
    [":", "", ""],
  ];
  for (const [s, host, port] of ok) assert.deepEqual(parseHostPort(s), { host, port }, s);
});

test("parseHostPort rejects malformed addresses with OSError EINVAL and Go's reasons", () => {
  const bad: Array<[string, string]> = [
    ["www.google.com", "missing port in address"],
    ["127.0.0.1", "missing port in address"],
    ["[::1]", "missing port in address"],
    ["[fe80::1%lo0]", "missing port in address"],
    ["localhost%lo0", "missing port in address"],
    ["::1", "too many colons in address"],
    ["fe80::1%lo0:80", "too many colons in address"],
    ["[foo:bar]", "missing port in address"],
    ["[foo:bar]baz", "missing port in address"],
    ["[foo]bar:baz", "missing port in address"],
    ["[foo]:[bar]:baz", "too many colons in address"],
    ["[foo]:[bar]baz", "unexpected '[' in address"],
    ["foo[bar]:baz", "unexpected '[' in address"],
    ["foo]bar:baz", "unexpected ']' in address"],
    ["[foo:80", "missing ']' in address"],
    [`${"a".repeat(MAX_ADDRESS_LENGTH)}:80`, "address longer than 1024 characters"],
  ];
  for (const [s, why] of bad) {
    assert.throws(
      () => parseHostPort(s),
      (e) => {
        assertOSError(e, OSError, "EINVAL", "parse");
        assert.ok(e.message.includes(why), e.message);
        assert.ok(e.message.includes("[ipv6]:port"), e.message);
        return true;
      },
      s,
    );
  }
  assert.throws(() => parseHostPort(80 as unknown as string), TypeError);
});

test("formatHostPort brackets hosts with colons; formatAddress prints every address form", () => {
  assert.equal(formatHostPort("127.0.0.1", 80), "127.0.0.1:80");
  assert.equal(formatHostPort("::1", "http"), "[::1]:http");
  assert.equal(formatHostPort("", 0), ":0");
  assert.equal(formatAddress(["127.0.0.1", 80]), "127.0.0.1:80");
  assert.equal(formatAddress(["::1", 80, 0, 0]), "[::1]:80");
  assert.equal(formatAddress(["fe80::1", 80, 0, 2]), "[fe80::1%2]:80");
  assert.equal(formatAddress(["fe80::1%eth0", 80, 0, 2]), "[fe80::1%eth0]:80");
  assert.equal(formatAddress("/tmp/x.sock"), "/tmp/x.sock");
  assert.equal(formatAddress("\0abstract"), "@abstract");
  assert.equal(formatAddress(Buffer.from("\0abs")), "@abs");
  assert.equal(formatAddress(""), "");
  for (const a of [null, 5, ["x"], ["x", "80"], ["x", 1, 2]]) {
    assert.throws(() => formatAddress(a as unknown as string), TypeError, JSON.stringify(a));
  }
});

const hostArb = fc.oneof(
  fc.array(fc.nat(255), { minLength: 4, maxLength: 4 }).map((p) => p.join(".")),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => inet_ntop(10, Buffer.from(b))),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => `${inet_ntop(10, Buffer.from(b))}%eth0`),
  charsOf("abcdefghijklmnopqrstuvwxyz0123456789.-", 30),
  fc.constant(""),
);
const portArb = fc.oneof(fc.nat(65535).map(String), fc.constantFrom("http", "ssh", "domain", ""));

test("property: parseHostPort(formatHostPort(host, port)) gives back host and port", () => {
  fc.assert(
    fc.property(hostArb, portArb, (host, port) => {
      assert.deepEqual(parseHostPort(formatHostPort(host, port)), { host, port });
    }),
    { seed: FC_SEED, numRuns: 1000 },
  );
});

test("property: hostile address strings parse or raise OSError EINVAL, and parsed ones round-trip", () => {
  const arb = fc.oneof(
    charsOf("[]:%a1. ", 12),
    fc.string({ unit: "binary", maxLength: 30 }),
    fc.string({ maxLength: 2000 }),
  );
  fc.assert(
    fc.property(arb, (s) => {
      const r = outcome(() => parseHostPort(s), s);
      if ("ok" in r) assert.deepEqual(parseHostPort(formatHostPort(r.ok.host, r.ok.port)), r.ok);
      else assertOSError(r.error, OSError, "EINVAL", "parse");
    }),
    { seed: FC_SEED, numRuns: 2000 },
  );
});

test("property: normalizeHost and normalizePort raise only typed errors on hostile values", () => {
  const anything = fc.oneof(
    fc.anything(),
    fc.string({ unit: "binary", maxLength: 30 }),
    fc.double(),
    fc.integer(),
  );
  fc.assert(
    fc.property(anything, fc.constantFrom(AF_INET, AF_INET6), (v, fam) => {
      outcome(() => normalizeHost(v, fam), v);
      outcome(() => normalizePort(v), v);
    }),
    { seed: FC_SEED, numRuns: 2000 },
  );
});
