import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { AF_INET6, inet_ntop } from "../../addr/index.js";
import { sourceKey } from "./source.js";

const fcParams = (numRuns: number) => ({ seed: Number(process.env.FC_SEED ?? 42), numRuns });

describe("sourceKey", () => {
  test("an IPv4 address is its own source", () => {
    assert.equal(sourceKey("127.0.0.1"), "127.0.0.1");
    assert.notEqual(sourceKey("192.0.2.1"), sourceKey("192.0.2.2"));
  });

  test("IPv6 addresses count per /64, named by the prefix", () => {
    assert.equal(sourceKey("2001:db8::1"), "2001:db8::/64");
    assert.equal(sourceKey("2001:db8::ffff:ffff:ffff:ffff"), "2001:db8::/64");
    assert.equal(sourceKey("2001:0db8:0000:0000:1:2:3:4"), "2001:db8::/64");
    assert.equal(sourceKey("2001:db8:0:1::1"), "2001:db8:0:1::/64");
    assert.equal(sourceKey("2001:db8:1::1"), "2001:db8:1::/64");
    assert.equal(sourceKey("::1"), "::/64");
    assert.equal(sourceKey("fe80::1%lo"), "fe80::/64");
    assert.notEqual(sourceKey("2001:db8::1"), sourceKey("2001:db8:0:1::1"));
  });

  test("an IPv4-mapped address counts as its IPv4 address", () => {
    assert.equal(sourceKey("::ffff:127.0.0.1"), "127.0.0.1");
    assert.equal(sourceKey("::ffff:7f00:1"), "127.0.0.1");
  });

  test("text that is no address is its own key", () => {
    assert.equal(sourceKey("?"), "?");
    assert.equal(sourceKey("not:an:address"), "not:an:address");
  });

  test("two IPv6 addresses share a key exactly when their first 64 bits match", () => {
    const addr = fc.uint8Array({ minLength: 16, maxLength: 16 });
    fc.assert(
      fc.property(addr, addr, fc.boolean(), (a, b, samePrefix) => {
        const x = Buffer.from(a);
        const y = Buffer.from(b);
        if (samePrefix) x.copy(y, 0, 0, 8);
        // mapped IPv4 addresses (::ffff:a.b.c.d) are keyed per address, not per /64
        const mapped = (v: Buffer) =>
          v.subarray(0, 10).every((z) => z === 0) && v[10] === 0xff && v[11] === 0xff;
        fc.pre(!mapped(x) && !mapped(y));
        const same = sourceKey(inet_ntop(AF_INET6, x)) === sourceKey(inet_ntop(AF_INET6, y));
        assert.equal(same, x.subarray(0, 8).equals(y.subarray(0, 8)));
      }),
      fcParams(2000),
    );
  });
});
