import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { batchProperty, charsOf, osErr, outcome } from "../../test/support/addr-oracle.js";
import { pythonOracle } from "../../test/support/python.js";
import { gaierror } from "../errors/index.js";
import { inet_ntop } from "./inet.js";
import { ifIndexToName, ifNameToIndex, isScopedIPv6, parseNumericHost } from "./numeric.js";

test("ifNameToIndex and ifIndexToName map interface names and indexes, refusing path tricks", () => {
  assert.equal(ifNameToIndex("lo"), 1);
  assert.equal(ifIndexToName(1), "lo");
  for (const n of ["nosuch", "", "..", ".", "../lo", "lo/x", "a".repeat(16)])
    assert.equal(ifNameToIndex(n), 0, n);
  for (const i of [0, -1, 1.5, 2 ** 40]) assert.equal(ifIndexToName(i), undefined);
});

test("isScopedIPv6 is true for link-local unicast and node/link-local multicast only", () => {
  const b = (s: string) => Buffer.from(s.replace(/ /g, ""), "hex");
  assert.equal(isScopedIPv6(b("fe80 0000 0000 0000 0000 0000 0000 0001")), true);
  assert.equal(isScopedIPv6(b("febf 0000 0000 0000 0000 0000 0000 0001")), true);
  assert.equal(isScopedIPv6(b("ff02 0000 0000 0000 0000 0000 0000 0001")), true);
  assert.equal(isScopedIPv6(b("ff01 0000 0000 0000 0000 0000 0000 0001")), true);
  assert.equal(isScopedIPv6(b("ff01 0000 0000 0000 0000 0000 0000 0001"), false), false);
  assert.equal(isScopedIPv6(b("ff12 0000 0000 0000 0000 0000 0000 0001"), false), true);
  assert.equal(isScopedIPv6(b("ff05 0000 0000 0000 0000 0000 0000 0001")), false);
  assert.equal(isScopedIPv6(b("fec0 0000 0000 0000 0000 0000 0000 0001")), false);
  assert.equal(isScopedIPv6(b("0000 0000 0000 0000 0000 0000 0000 0001")), false);
});

test("parseNumericHost reads inet_aton IPv4 forms and IPv6 with scopes; names are undefined", () => {
  assert.deepEqual(parseNumericHost("127.1")?.address, "127.0.0.1");
  assert.deepEqual(parseNumericHost("0x7f.1")?.family, 4);
  assert.equal(parseNumericHost("1.2.3.4 "), undefined);
  assert.equal(parseNumericHost("localhost"), undefined);
  assert.equal(parseNumericHost("[::1]"), undefined);
  const v6 = parseNumericHost("FE80:0::1%lo");
  assert.equal(v6?.address, "fe80::1");
  assert.equal(v6?.scopeId, 1);
  assert.equal(parseNumericHost("::1%7")?.scopeId, 7);
  assert.equal(parseNumericHost("fe80::1%4294967295")?.scopeId, 4294967295);
  for (const h of ["::1%lo", "fe80::1%nosuch", "fe80::1%", "fe80::1%4294967296"]) {
    assert.throws(() => parseNumericHost(h), osErr(gaierror, "EAI_NONAME", "getaddrinfo"), h);
  }
});

test(
  "property: parseNumericHost agrees with Python's getaddrinfo(AI_NUMERICHOST)",
  {
    timeout: 15_000,
  },
  async () => {
    const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => inet_ntop(10, Buffer.from(b)));
    const arb = fc.oneof(
      fc
        .array(
          fc.oneof(
            fc.nat(300).map(String),
            fc.nat().map((n) => `0x${n.toString(16)}`),
          ),
          { minLength: 1, maxLength: 5 },
        )
        .map((p) => p.join(".")),
      v6,
      fc
        .tuple(
          fc.constantFrom("fe80::", "ff02::", "::", "fd00::"),
          fc.nat(0xffff),
          fc.constantFrom("lo", "eth0", "1", "01", "x", "", "99"),
        )
        .map(([p, n, z]) => `${p}${n.toString(16)}%${z}`),
      charsOf("0123456789abcdef:.%x ", 20),
    );
    await batchProperty(arb, 400, 2, async (xs) => {
      const py = await pythonOracle(
        "import socket\ndef num(h):\n    try:\n        r = socket.getaddrinfo(h, None, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)[0][4]\n        return [r[0], r[3] if len(r) == 4 else 0]\n    except socket.gaierror as e:\n        return e.errno",
        "num(x)",
        xs,
      );
      const bad: string[] = [];
      xs.forEach((x, i) => {
        const r = outcome(() => parseNumericHost(x), x);
        const ours =
          "ok" in r ? (r.ok === undefined ? -2 : [r.ok.address, r.ok.scopeId]) : (r.error as gaierror).errno;
        // Python's idna codec rejects some names (empty labels) before glibc sees them: still names.
        const want = py[i]?.err === "UnicodeError" ? -2 : py[i]?.ok;
        if (JSON.stringify(ours) !== JSON.stringify(want))
          bad.push(`${JSON.stringify(x)}: ours ${JSON.stringify(ours)}, python ${JSON.stringify(py[i])}`);
      });
      assert.deepEqual(bad.slice(0, 10), []);
    });
  },
);
