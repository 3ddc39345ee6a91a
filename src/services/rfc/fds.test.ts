import assert from "node:assert/strict";
import { closeSync, openSync } from "node:fs";
import { test } from "node:test";
import { descriptorLimit, descriptorsExhausted, openDescriptors } from "./fds.js";

const LIMITS = (v: string) => `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            ${v}                20000                files
`;

test("descriptorLimit reads the soft limit on open files; unlimited is no limit", () => {
  assert.equal(descriptorLimit(LIMITS("64")), 64);
  assert.equal(descriptorLimit(LIMITS("unlimited")), undefined);
  assert.equal(descriptorLimit("no such line"), undefined);
  const own = descriptorLimit();
  assert.ok(own === undefined || own > 0);
});

test("openDescriptors counts this process's descriptors; none are exhausted here", () => {
  const before = openDescriptors();
  if (before === undefined) return; // not Linux
  const fd = openSync("/dev/null", "r");
  try {
    assert.equal(openDescriptors(), before + 1);
  } finally {
    closeSync(fd);
  }
  assert.equal(openDescriptors(), before);
  assert.equal(descriptorsExhausted(), false);
});
