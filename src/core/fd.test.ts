/**
 * Descriptor numbers: lowest free first, from 3, as the kernel hands out fds.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { allocFd, releaseFd } from "./fd.js";

test("allocFd hands out the lowest free number, as the kernel does, over any alloc/release sequence", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(40)), { maxLength: 200 }), (ops) => {
      const held = new Set<number>();
      try {
        for (const [alloc, pick] of ops) {
          if (alloc || held.size === 0) {
            // the model: the smallest number from 3 that nobody holds (this file opens no sockets)
            let want = 3;
            while (held.has(want)) want++;
            const fd = allocFd();
            assert.equal(fd, want);
            held.add(fd);
          } else {
            const fd = [...held][pick % held.size]!;
            held.delete(fd);
            releaseFd(fd);
          }
        }
      } finally {
        for (const fd of held) releaseFd(fd);
      }
    }),
    { seed: 20260521, numRuns: 200 },
  );
});

test("releaseFd ignores 0, 1 and 2 (stdio is never handed out)", () => {
  releaseFd(0);
  releaseFd(2);
  const a = allocFd();
  try {
    assert.ok(a >= 3, `got ${a}`);
  } finally {
    releaseFd(a);
  }
});
