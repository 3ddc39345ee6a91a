import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { batchProperty, charsOf, HEX, nodeIsIP, osErr, outcome } from "../../test/support/addr-oracle.js";
import { assertOSError } from "../../test/support/errors.js";
import { pythonOracle } from "../../test/support/python.js";
import { OSError } from "../errors/index.js";
import {
  htonl,
  htons,
  inet_aton,
  inet_ntoa,
  inet_ntop,
  inet_pton,
  intToIPv4,
  ipFamily,
  ipv4ToInt,
  isIPv4,
  isIPv6,
  ntohl,
  ntohs,
  parseIPv6,
} from "./inet.js";

const T = { timeout: 20_000 };

/**
 * Compares our outcomes with Python's: same value, or both raising (OSError when Python says so).
 * Returns the share of inputs Python accepted, so generators can be checked for balance.
 */
function compare(
  inputs: unknown[],
  ours: Array<ReturnType<typeof outcome>>,
  py: Array<{ ok?: unknown; err?: string }>,
  errMap: Record<string, string> = {},
): number {
  const bad: string[] = [];
  inputs.forEach((x, i) => {
    const o = ours[i]!;
    const p = py[i]!;
    if (p.err === undefined) {
      if (!("ok" in o) || o.ok !== p.ok)
        bad.push(
          `${JSON.stringify(x)}: python ${JSON.stringify(p.ok)}, ours ${"ok" in o ? JSON.stringify(o.ok) : o.err}`,
        );
    } else if ("ok" in o) {
      bad.push(`${JSON.stringify(x)}: python raised ${p.err}, ours returned ${JSON.stringify(o.ok)}`);
    } else {
      const want = errMap[p.err] ?? (p.err === "OSError" ? "OSError" : undefined);
      if (want !== undefined && o.err !== want)
        bad.push(`${JSON.stringify(x)}: python ${p.err}, ours ${o.err}`);
    }
  });
  assert.deepEqual(bad.slice(0, 10), [], `${bad.length} disagreements with Python`);
  return py.filter((p) => p.err === undefined).length / py.length;
}

/** Asserts a generated batch exercises both outcomes. */
function balanced(accepted: number): void {
  assert.ok(accepted > 0.1 && accepted < 0.9, `generator balance: ${accepted} accepted`);
}

const suffix = fc.constantFrom(
  "",
  "",
  "",
  "",
  " ",
  " junk",
  "\tx",
  ".",
  "..",
  "x",
  "\n",
  "\u00e9",
  " \u00e9",
  "\0",
);
const atonPart = fc.oneof(
  fc.nat(300).map(String),
  fc.nat().map(String),
  fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String),
  fc.nat().map((n) => `0x${n.toString(16)}`),
  fc.nat().map((n) => `0X${n.toString(16).toUpperCase()}`),
  fc.nat().map((n) => `0${n.toString(8)}`),
  charsOf("0123456789xX", 5),
  charsOf("0123456789abcdefxX", 10),
  fc.constant(""),
);
const atonArb = fc.oneof(
  {
    arbitrary: fc
      .tuple(fc.array(atonPart, { minLength: 1, maxLength: 6 }), suffix)
      .map(([p, s]) => p.join(".") + s),
    weight: 6,
  },
  { arbitrary: fc.string({ unit: "binary-ascii", maxLength: 20 }), weight: 1 },
  { arbitrary: charsOf("0123456789.xX \t", 20), weight: 2 },
);

const v4Part = fc.oneof(
  { arbitrary: fc.nat(255).map(String), weight: 8 },
  fc.nat(300).map(String),
  fc.nat(99).map((n) => `0${n}`),
  fc.constant(""),
);
const v4Text = fc.oneof(
  fc.array(fc.nat(255), { minLength: 4, maxLength: 4 }).map((p) => p.join(".")),
  fc.array(v4Part, { minLength: 3, maxLength: 5 }).map((p) => p.join(".")),
);
const group = fc.oneof(
  { arbitrary: charsOf(HEX, 4, 1), weight: 8 },
  { arbitrary: charsOf(HEX, 6), weight: 1 },
);
const v6Text = fc
  .tuple(
    fc.array(group, { maxLength: 10 }),
    fc.option(fc.nat(10)),
    fc.option(v4Text, { freq: 4 }),
    fc.constantFrom("", "", "", "", ":", "%eth0", "%", " ", "\0"),
  )
  .map(([groups, gap, v4, tail]) => {
    const g = [...groups];
    if (gap !== null) g.splice(Math.min(gap, g.length), 0, "");
    let s = g.join(":");
    if (gap !== null && (s.startsWith(":") || s === "")) s = `:${s}`;
    if (gap !== null && (s.endsWith(":") || g.length === 1)) s = `${s}:`;
    if (v4 !== null) s = `${s}${s === "" || s.endsWith(":") ? "" : ":"}${v4}`;
    return s + tail;
  });
const words = fc.array(
  fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, fc.constant(0xffff), fc.nat(0xffff)),
  {
    minLength: 8,
    maxLength: 8,
  },
);
const bytes16 = fc.oneof(
  words.map((w) => {
    const b = Buffer.alloc(16);
    w.forEach((x, i) => {
      b.writeUInt16BE(x, i * 2);
    });
    return b;
  }),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((u) => Buffer.from(u)),
);
const ptonArb = fc.oneof(
  { arbitrary: v6Text, weight: 6 },
  { arbitrary: v4Text, weight: 2 },
  { arbitrary: bytes16.map((b) => inet_ntop(10, b)), weight: 2 },
  { arbitrary: bytes16.map((b) => inet_ntop(10, b).toUpperCase()), weight: 1 },
  { arbitrary: charsOf("0123456789abcdefABCDEF:.%x ", 40), weight: 2 },
  { arbitrary: fc.string({ unit: "binary-ascii", maxLength: 20 }), weight: 1 },
);

test("inet_aton accepts every C form: 1, 1.2, 1.2.3, 1.2.3.4, hex and octal parts, trailing blank", () => {
  const table: Array<[string, string]> = [
    ["1.2.3.4", "01020304"],
    ["127.1", "7f000001"],
    ["1.2.3", "01020003"],
    ["1", "00000001"],
    ["4294967295", "ffffffff"],
    ["0x7f.1", "7f000001"],
    ["0X7F.0.0.01", "7f000001"],
    ["010.0.0.1", "08000001"],
    ["1.2.3.4 junk", "01020304"],
    ["1.0xffffff", "01ffffff"],
  ];
  for (const [s, hex] of table) assert.equal(inet_aton(s).toString("hex"), hex, s);
});

test("inet_aton rejects junk with OSError EINVAL naming inet_aton", () => {
  for (const s of [
    "",
    "x",
    "256.1.1.1",
    "1.2.3.256",
    "4294967296",
    "0x",
    "08",
    "1..2",
    "1.2.3.4.5",
    " 1",
    "1.2.3.4x",
    "1\0",
  ]) {
    assert.throws(
      () => inet_aton(s),
      (e) => {
        assertOSError(e, OSError, "EINVAL", "inet_aton");
        assert.match(e.message, /illegal IP address string passed to inet_aton/);
        return true;
      },
      s,
    );
  }
  assert.throws(() => inet_aton(7 as unknown as string), TypeError);
});

test("inet_ntoa formats exactly 4 bytes and rejects other lengths with OSError", () => {
  assert.equal(inet_ntoa(Buffer.from([127, 0, 0, 1])), "127.0.0.1");
  assert.equal(inet_ntoa(new Uint8Array([255, 255, 255, 255]) as Buffer), "255.255.255.255");
  assert.throws(() => inet_ntoa(Buffer.alloc(3)), osErr(OSError, "EINVAL", "inet_ntoa"));
  assert.throws(() => inet_ntoa("1234" as unknown as Buffer), TypeError);
});

test("inet_pton parses strict IPv4 and every IPv6 form, and rejects zones and leading zeros", () => {
  assert.equal(inet_pton(2, "1.2.3.4").toString("hex"), "01020304");
  assert.equal(inet_pton(10, "::ffff:1.2.3.4").toString("hex"), "00000000000000000000ffff01020304");
  assert.equal(inet_pton(10, "1:2:3:4:5:6:7::").toString("hex"), "00010002000300040005000600070000");
  assert.equal(inet_pton(10, "::").toString("hex"), "0".repeat(32));
  for (const s of ["01.2.3.4", "1.2.3", "1.2.3.4.", "::1"]) assert.throws(() => inet_pton(2, s), OSError, s);
  for (const s of [
    "fe80::1%eth0",
    ":::",
    "1::2::3",
    "00000::1",
    "::01.2.3.4",
    "1:2:3:4:5:6:7:8:9",
    "1.2.3.4",
    "1:",
  ]) {
    assert.throws(() => inet_pton(10, s), osErr(OSError, "EINVAL", "inet_pton"), s);
  }
  assert.throws(() => inet_pton(99, "1.2.3.4"), osErr(OSError, "EAFNOSUPPORT", "inet_pton"));
  assert.throws(() => inet_pton("2" as unknown as number, "1.2.3.4"), TypeError);
  assert.throws(() => inet_pton(2, 5 as unknown as string), TypeError);
});

test("inet_ntop prints as glibc: longest zero run, first on ties, mapped and compatible IPv4", () => {
  const table: Array<[string, string]> = [
    ["::1", "::1"],
    ["::0.0.0.2", "::2"],
    ["::ffff:0:1", "::ffff:0.0.0.1"],
    ["0:0:0:0:0:0:1:0", "::0.1.0.0"],
    ["0:0:0:0:0:0:0:ffff", "::ffff"],
    ["1:0:0:2:0:0:3:4", "1::2:0:0:3:4"],
    ["1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"],
    ["FE80:0:0:0:0:0:0:1", "fe80::1"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
  ];
  for (const [s, want] of table) assert.equal(inet_ntop(10, inet_pton(10, s)), want, s);
  assert.equal(inet_ntop(2, Buffer.from([10, 0, 0, 1])), "10.0.0.1");
  assert.throws(() => inet_ntop(10, Buffer.alloc(4)), RangeError);
  assert.throws(() => inet_ntop(2, Buffer.alloc(16)), RangeError);
  assert.throws(() => inet_ntop(99, Buffer.alloc(4)), RangeError);
  assert.throws(() => inet_ntop(2, "1234" as unknown as Buffer), TypeError);
});

test("htons/ntohs and htonl/ntohl swap bytes, return unsigned, and reject out-of-range values", () => {
  assert.equal(htons(0x1234), 0x3412);
  assert.equal(ntohs(htons(8000)), 8000);
  assert.equal(htonl(1), 0x01000000);
  assert.equal(htonl(0x000000ff), 0xff000000);
  assert.equal(ntohl(htonl(0xdeadbeef)), 0xdeadbeef);
  assert.throws(() => htons(65536), RangeError);
  assert.throws(() => htons(-1), RangeError);
  assert.throws(() => htonl(2 ** 32), RangeError);
  assert.throws(() => htons(1.5), TypeError);
});

test("isIPv4/isIPv6/ipFamily accept strict forms (zones allowed for IPv6, as Node)", () => {
  assert.equal(isIPv4("127.0.0.1"), true);
  assert.equal(isIPv4("127.1"), false);
  assert.equal(isIPv4("01.2.3.4"), false);
  assert.equal(isIPv6("fe80::1%eth0"), true);
  assert.equal(isIPv6("fe80::1%"), false);
  assert.equal(isIPv6("::1%a b"), false);
  assert.equal(ipFamily("::ffff:1.2.3.4"), 6);
  assert.equal(ipFamily("localhost"), 0);
  assert.equal(ipFamily(42), 0);
});

test("ipv4ToInt and intToIPv4 convert between dotted quads and unsigned integers", () => {
  assert.equal(ipv4ToInt("127.0.0.1"), 0x7f000001);
  assert.equal(ipv4ToInt("255.255.255.255"), 0xffffffff);
  assert.equal(intToIPv4(0x7f000001), "127.0.0.1");
  assert.equal(intToIPv4(0), "0.0.0.0");
  assert.throws(() => ipv4ToInt("127.1"), OSError);
  assert.throws(() => intToIPv4(2 ** 32), RangeError);
  assert.equal(parseIPv6("nope"), undefined);
});

test("property: inet_aton agrees with Python on hostile strings (accept/reject and bytes)", T, async () => {
  await batchProperty(atonArb, 600, 2, async (xs) => {
    const py = await pythonOracle("import socket", "socket.inet_aton(x).hex()", xs);
    balanced(
      compare(
        xs,
        xs.map((x) => outcome(() => inet_aton(x).toString("hex"), x)),
        py,
      ),
    );
  });
});

test("property: inet_pton agrees with Python for both families (accept/reject and bytes)", T, async () => {
  await batchProperty(ptonArb, 600, 2, async (xs) => {
    for (const fam of [2, 10]) {
      const py = await pythonOracle("import socket", `socket.inet_pton(${fam}, x).hex()`, xs);
      const accepted = compare(
        xs,
        xs.map((x) => outcome(() => inet_pton(fam, x).toString("hex"), x)),
        py,
      );
      if (fam === 10) balanced(accepted);
      else assert.ok(accepted > 0.03, `IPv4 share ${accepted}`);
    }
  });
});

test(
  "property: inet_ntop output matches Python byte for byte and round-trips through inet_pton",
  T,
  async () => {
    await batchProperty(bytes16, 800, 2, async (bs) => {
      const hex = bs.map((b) => b.toString("hex"));
      const py = await pythonOracle(
        "import socket",
        "socket.inet_ntop(socket.AF_INET6, bytes.fromhex(x))",
        hex,
      );
      compare(
        hex,
        bs.map((b) => outcome(() => inet_ntop(10, b), b)),
        py,
      );
      for (const b of bs) assert.deepEqual(inet_pton(10, inet_ntop(10, b)), b);
    });
    await batchProperty(fc.uint8Array({ minLength: 0, maxLength: 6 }), 300, 1, async (us) => {
      const hex = us.map((u) => Buffer.from(u).toString("hex"));
      const py = await pythonOracle(
        "import socket",
        "socket.inet_ntop(socket.AF_INET, bytes.fromhex(x))",
        hex,
      );
      compare(
        hex,
        us.map((u) => outcome(() => inet_ntop(2, Buffer.from(u)), u)),
        py,
        { ValueError: "RangeError" },
      );
    });
  },
);

test("property: htons and htonl agree with Python, OverflowError as RangeError", T, async () => {
  const ints = fc.oneof(
    fc.nat(0xffff),
    fc.integer({ min: -10, max: 0x1ffff }),
    fc.nat(0xffffffff),
    fc.double({ min: -1e10, max: 1e10, noNaN: true }),
    fc.constantFrom(0, 0xffff, 0x10000, 0xffffffff, 2 ** 32, -1, 0.5),
  );
  const map = { OverflowError: "RangeError", TypeError: "TypeError" };
  await batchProperty(ints, 500, 1, async (xs) => {
    compare(
      xs,
      xs.map((x) => outcome(() => htons(x), x)),
      await pythonOracle("import socket", "socket.htons(x)", xs),
      map,
    );
    compare(
      xs,
      xs.map((x) => outcome(() => htonl(x), x)),
      await pythonOracle("import socket", "socket.htonl(x)", xs),
      map,
    );
  });
});

test("property: ipFamily agrees with Node's net.isIP on generated and random text", T, async () => {
  const arb = fc.oneof(
    ptonArb,
    ptonArb.map((s) => `${s}%${s.slice(0, 3)}`),
    v4Text,
  );
  await batchProperty(arb, 3000, 2, async (xs) => {
    const bad = xs.filter((x) => ipFamily(x) !== nodeIsIP(x));
    assert.deepEqual(bad.slice(0, 10), []);
  });
});
