import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { RateLimiter, TokenBucket } from "./ratelimit.js";

const fcParams = (numRuns: number) => ({ seed: Number(process.env.FC_SEED ?? 42), numRuns });

describe("TokenBucket", () => {
  test("a full bucket allows a burst, then one event per 1/rate seconds", () => {
    const b = new TokenBucket(10, 20);
    let ok = 0;
    for (let i = 0; i < 100; i++) if (b.take(0)) ok++;
    assert.equal(ok, 20);
    assert.equal(b.take(50), false, "half a token after 50 ms");
    assert.equal(b.take(100), true, "one token after 100 ms");
    assert.equal(b.take(100), false);
  });

  test("refills up to the burst and no further; a clock going backwards adds nothing", () => {
    const b = new TokenBucket(10, 5);
    for (let i = 0; i < 5; i++) b.take(0);
    assert.equal(b.tokens(60_000), 5);
    assert.equal(b.full(60_000), true);
    b.take(60_000);
    assert.equal(b.tokens(1000), 4);
  });

  test("rejects a rate or burst that would not limit anything", () => {
    assert.throws(() => new TokenBucket(0, 5), RangeError);
    assert.throws(() => new TokenBucket(5, 0.5), RangeError);
    assert.throws(() => new TokenBucket(Number.POSITIVE_INFINITY, 5), RangeError);
  });

  test("over any sequence of times, no more than burst + rate × elapsed events get through", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 400 }),
        (rate, burst, gaps) => {
          const b = new TokenBucket(rate, burst);
          let t = 0;
          let ok = 0;
          for (const g of gaps) {
            t += g;
            if (b.take(t)) ok++;
          }
          assert.ok(ok <= burst + (rate * t) / 1000 + 1e-9, `${ok} > ${burst} + ${rate} × ${t / 1000}`);
        },
      ),
      fcParams(500),
    );
  });
});

describe("RateLimiter", () => {
  const limits = { rate: 10, burst: 20, totalRate: 1000, maxSources: 4 };

  test("each source has its own bucket", () => {
    const rl = new RateLimiter(limits);
    let a = 0;
    for (let i = 0; i < 50; i++) if (rl.allow("10.0.0.1", 0) === "ok") a++;
    assert.equal(a, 20);
    assert.equal(rl.allow("10.0.0.1", 0), "source");
    assert.equal(rl.allow("10.0.0.2", 0), "ok", "another source is not affected");
  });

  test("the all-sources bucket caps many sources together", () => {
    const rl = new RateLimiter({ rate: 10, burst: 20, totalRate: 5, maxSources: 1000 });
    let ok = 0;
    for (let i = 0; i < 100; i++) if (rl.allow(`10.0.0.${i}`, 0) === "ok") ok++;
    assert.equal(ok, 10, "total burst is twice the total rate");
    assert.equal(rl.allow("10.0.1.1", 0), "total");
  });

  test("the table of sources stays bounded: idle sources go first, then the least recently seen", () => {
    const rl = new RateLimiter(limits);
    for (let i = 0; i < 100; i++) rl.allow(`10.0.0.${i}`, i);
    assert.ok(rl.size <= 4);
    // a busy source stays remembered while idle ones are forgotten
    const busy = new RateLimiter(limits);
    for (let i = 0; i < 20; i++) busy.allow("busy", 0);
    for (let i = 0; i < 10; i++) busy.allow(`idle${i}`, 0);
    assert.ok(busy.size <= 4);
  });

  test("any sequence of sources and times keeps the table within maxSources", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 200 })), {
          maxLength: 300,
        }),
        (maxSources, events) => {
          const rl = new RateLimiter({ rate: 5, burst: 3, totalRate: 100, maxSources });
          let t = 0;
          for (const [src, gap] of events) {
            t += gap;
            const v = rl.allow(`s${src}`, t);
            assert.ok(v === "ok" || v === "source" || v === "total");
            assert.ok(rl.size <= maxSources);
          }
        },
      ),
      fcParams(300),
    );
  });
});
