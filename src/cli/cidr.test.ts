import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { FC_SEED } from "../../test/support/addr-oracle.js";
import { runPython } from "../../test/support/python.js";
import { AccessPolicy, addressBytes, cidrContains, MAX_CIDR_LENGTH, parseCidr } from "./cidr.js";
import { UsageError } from "./exit.js";

test("parseCidr reads IPv4 and IPv6 blocks, bare addresses as single hosts, and clears host bits", () => {
  const table: Array<[string, string, 4 | 6, number]> = [
    ["127.0.0.1/32", "127.0.0.1/32", 4, 32],
    ["127.0.0.1", "127.0.0.1/32", 4, 32],
    ["10.1.2.3/8", "10.0.0.0/8", 4, 8],
    ["0.0.0.0/0", "0.0.0.0/0", 4, 0],
    ["192.168.1.255/23", "192.168.0.0/23", 4, 23],
    ["::1", "::1/128", 6, 128],
    ["::1/128", "::1/128", 6, 128],
    ["fe80::1/10", "fe80::/10", 6, 10],
    ["2001:DB8:0:0:1:0:0:1/64", "2001:db8::/64", 6, 64],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128", 6, 128],
    ["::/0", "::/0", 6, 0],
    ["::ffff:10.0.0.1/120", "::ffff:a00:0/120", 6, 120],
  ];
  for (const [input, text, family, prefix] of table) {
    const c = parseCidr(input);
    assert.equal(c.text, text, input);
    assert.equal(c.family, family, input);
    assert.equal(c.prefix, prefix, input);
  }
});

test("parseCidr rejects what is not a block with a UsageError naming the input", () => {
  for (const input of [
    "",
    "/",
    "/8",
    "10.0.0.0/",
    "10.0.0.0/33",
    "10.0.0.0/08",
    "10.0.0.0/+8",
    "10.0.0.0/8/8",
    "10.0.0.0/ 8",
    "10.0.0",
    "010.0.0.1",
    "localhost",
    "::1/129",
    "fe80::1%eth0/64",
    "1.2.3.4.5",
    "x".repeat(200),
  ]) {
    assert.throws(
      () => parseCidr(input),
      (e: unknown) => e instanceof UsageError && e.message.startsWith("bad CIDR"),
      input,
    );
  }
});

test("cidrContains matches IPv4 blocks against IPv4 and IPv4-mapped peers, never against ::1", () => {
  const lo4 = parseCidr("127.0.0.1/32");
  const net8 = parseCidr("127.0.0.0/8");
  const lo6 = parseCidr("::1/128");
  const table: Array<[ReturnType<typeof parseCidr>, string, boolean]> = [
    [lo4, "127.0.0.1", true],
    [lo4, "::ffff:127.0.0.1", true],
    [lo4, "127.0.0.2", false],
    [lo4, "::1", false],
    [net8, "127.255.0.9", true],
    [net8, "128.0.0.1", false],
    [lo6, "::1", true],
    [lo6, "127.0.0.1", false],
    [lo6, "", false],
    [lo6, "/tmp/x.sock", false],
    [parseCidr("fe80::/10"), "fe80::1%lo", true],
    [parseCidr("0.0.0.0/0"), "::1", false],
    [parseCidr("::/0"), "10.0.0.1", true],
  ];
  for (const [c, addr, want] of table) assert.equal(cidrContains(c, addr), want, `${c.text} ∋ ${addr}`);
});

test("AccessPolicy: deny wins over allow; allow lists restrict; no lists allow everyone", () => {
  const p = (allow: string[], deny: string[]) => new AccessPolicy(allow.map(parseCidr), deny.map(parseCidr));
  assert.deepEqual(p([], []).check("10.0.0.1"), { ok: true });
  assert.equal(p([], []).open, true);
  assert.deepEqual(p(["127.0.0.1/32"], ["127.0.0.1/32"]).check("127.0.0.1"), {
    ok: false,
    why: "matches --deny 127.0.0.1/32",
  });
  assert.deepEqual(p(["127.0.0.1/32"], []).check("::1"), { ok: false, why: "not in --allow 127.0.0.1/32" });
  assert.deepEqual(p(["127.0.0.1/32"], []).check("::ffff:127.0.0.1"), { ok: true });
  assert.deepEqual(p([], ["::1"]).check("::1"), { ok: false, why: "matches --deny ::1/128" });
  assert.deepEqual(p([], ["::1"]).check("127.0.0.1"), { ok: true });
  assert.deepEqual(p(["0.0.0.0/0"], ["10.0.0.0/8"]).check("10.9.9.9").ok, false);
  assert.deepEqual(p(["0.0.0.0/0"], ["10.0.0.0/8"]).check("11.9.9.9").ok, true);
});

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join("."));
const v6 = fc
  .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
  .map((g) => g.map((x) => x.toString(16)).join(":"));

function bigOf(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

test("property: a block contains exactly the addresses sharing its first PREFIX bits", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.tuple(v4, fc.nat(32), v4).map(([a, p, b]) => ({ a, p, b, bits: p + 96 })),
        fc.tuple(v6, fc.nat(128), v6).map(([a, p, b]) => ({ a, p, b, bits: p })),
      ),
      fc.boolean(),
      ({ a, p, b, bits }, sameNet) => {
        const c = parseCidr(`${a}/${p}`);
        assert.ok(cidrContains(c, a), `${a}/${p} contains ${a}`);
        const probe = sameNet ? a : b;
        const shift = BigInt(128 - bits);
        const want = bigOf(addressBytes(probe)!) >> shift === bigOf(addressBytes(a)!) >> shift;
        assert.equal(cidrContains(c, probe), want, `${a}/${p} ∋ ${probe}`);
      },
    ),
    { seed: FC_SEED, numRuns: 2000 },
  );
});

test("property: canonical text parses back to the same block; IPv4 blocks match mapped peers alike", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        v4.chain((a) => fc.nat(32).map((p) => `${a}/${p}`)),
        v6,
      ),
      v4,
      (s, peer) => {
        const c = parseCidr(s);
        const again = parseCidr(c.text);
        assert.deepEqual(again, c);
        if (c.family === 4) assert.equal(cidrContains(c, peer), cidrContains(c, `::ffff:${peer}`));
      },
    ),
    { seed: FC_SEED, numRuns: 1000 },
  );
});

test("property: hostile input either parses or throws UsageError, quickly, never anything else", () => {
  const arb = fc.oneof(
    fc.string({ unit: fc.constantFrom(..."0123456789abcdef:./%[] x-"), maxLength: 48 }),
    fc.string({ unit: "binary", maxLength: 80 }),
    fc.string({ maxLength: 300 }),
  );
  fc.assert(
    fc.property(arb, (s) => {
      try {
        const c = parseCidr(s);
        assert.ok(s.length <= MAX_CIDR_LENGTH);
        assert.equal(parseCidr(c.text).text, c.text);
      } catch (e) {
        assert.ok(e instanceof UsageError, `${JSON.stringify(s)} threw ${String(e)}`);
      }
    }),
    { seed: FC_SEED, numRuns: 3000 },
  );
});

test("membership agrees with Python's ipaddress module on generated blocks and peers", async () => {
  const cases = fc.sample(
    fc.oneof(
      fc.tuple(v4, fc.nat(32), v4).map(([a, p, b]) => [`${a}/${p}`, b] as const),
      fc.tuple(v6, fc.nat(128), v6).map(([a, p, b]) => [`${a}/${p}`, b] as const),
    ),
    { seed: FC_SEED, numRuns: 400 },
  );
  const code = `
import ipaddress, json, sys
out = []
for net, peer in json.load(sys.stdin):
    out.append(ipaddress.ip_address(peer) in ipaddress.ip_network(net, strict=False))
json.dump(out, sys.stdout)
`;
  const r = await runPython(code, [], JSON.stringify(cases));
  assert.equal(r.code, 0, r.stderr);
  const want = JSON.parse(r.stdout) as boolean[];
  cases.forEach(([net, peer], i) => {
    assert.equal(cidrContains(parseCidr(net), peer), want[i], `${net} ∋ ${peer}`);
  });
});
