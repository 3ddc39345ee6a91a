import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  commonLog,
  etagOf,
  listingHtml,
  notModified,
  parseRange,
  rangeApplies,
  sortEntries,
  targetPath,
  wantsJson,
} from "./protocol.js";

describe("targetPath keeps every request inside the served directory", () => {
  const cases: Array<[string, boolean, ReturnType<typeof targetPath>]> = [
    ["/", false, { ok: true, segments: [], slash: true }],
    ["/a/b%20c.txt?x=1#f", false, { ok: true, segments: ["a", "b c.txt"], slash: false }],
    ["//etc/passwd", false, { ok: true, segments: ["etc", "passwd"], slash: false }],
    ["/./a/./", false, { ok: true, segments: ["a"], slash: true }],
    ["http://example.test/a/", false, { ok: true, segments: ["a"], slash: true }],
    ["/../etc/passwd", false, { ok: false, status: 403, reason: "'..' in the path" }],
    ["/a/%2e%2e/%2E%2e/x", false, { ok: false, status: 403, reason: "'..' in the path" }],
    ["/.%2e/x", false, { ok: false, status: 403, reason: "'..' in the path" }],
    ["/a%2f..%2fb", false, { ok: false, status: 403, reason: "an encoded path separator" }],
    ["/a%5cb", false, { ok: false, status: 403, reason: "an encoded path separator" }],
    ["/a%00.txt", false, { ok: false, status: 400, reason: "a NUL byte in the path" }],
    ["/%zz", false, { ok: false, status: 400, reason: "malformed percent-encoding" }],
    ["*", false, { ok: false, status: 400, reason: "the target is not a path" }],
    ["/.env", false, { ok: false, status: 404, reason: "a dotfile" }],
    ["/a/.git/config", false, { ok: false, status: 404, reason: "a dotfile" }],
    ["/.env", true, { ok: true, segments: [".env"], slash: false }],
  ];
  for (const [target, dot, want] of cases) {
    test(`${target}${dot ? " (dotfiles on)" : ""}`, () => assert.deepEqual(targetPath(target, dot), want));
  }
});

test("parseRange: one range, suffixes, open ends, 416 and the shapes it ignores", () => {
  assert.deepEqual(parseRange("bytes=0-99", 1000), { start: 0, end: 99 });
  assert.deepEqual(parseRange("bytes=990-2000", 1000), { start: 990, end: 999 });
  assert.deepEqual(parseRange("bytes=100-", 1000), { start: 100, end: 999 });
  assert.deepEqual(parseRange("bytes=-10", 1000), { start: 990, end: 999 });
  assert.deepEqual(parseRange("bytes=-5000", 1000), { start: 0, end: 999 });
  // a first byte at or past the end is unsatisfiable, with or without a last byte
  assert.equal(parseRange("bytes=1000-", 1000), "unsatisfiable");
  assert.equal(parseRange("bytes=1000-1001", 1000), "unsatisfiable");
  assert.equal(parseRange("bytes=6-", 6), "unsatisfiable");
  assert.equal(parseRange("bytes=-0", 1000), "unsatisfiable");
  assert.equal(parseRange("bytes=0-", 0), "unsatisfiable");
  assert.equal(parseRange(undefined, 10), undefined);
  assert.equal(parseRange("bytes=5-2", 10), undefined);
  assert.equal(parseRange("bytes=0-1,3-4", 10), undefined);
  assert.equal(parseRange("items=0-1", 10), undefined);
  assert.equal(parseRange("bytes=-", 10), undefined);
});

test("conditional requests: If-None-Match wins over If-Modified-Since; dates in whole seconds", () => {
  const etag = etagOf(1024, 1_700_000_000_123.7);
  assert.equal(etag, `"400-${Math.floor(1_700_000_000_123.7).toString(16)}"`);
  const mtime = Date.parse("2026-01-02T03:04:05.678Z");
  assert.equal(notModified({ "if-none-match": etag }, etag, mtime), true);
  assert.equal(notModified({ "if-none-match": `"x", W/${etag}` }, etag, mtime), true);
  assert.equal(notModified({ "if-none-match": "*" }, etag, mtime), true);
  assert.equal(notModified({ "if-none-match": '"other"' }, etag, mtime), false);
  const same = new Date(mtime).toUTCString();
  assert.equal(notModified({ "if-modified-since": same }, etag, mtime), true);
  assert.equal(
    notModified({ "if-modified-since": new Date(mtime - 1000).toUTCString() }, etag, mtime),
    false,
  );
  assert.equal(notModified({ "if-none-match": '"other"', "if-modified-since": same }, etag, mtime), false);
  assert.equal(notModified({ "if-modified-since": "yesterday" }, etag, mtime), false);
  assert.equal(rangeApplies(undefined, etag, mtime), true);
  assert.equal(rangeApplies(etag, etag, mtime), true);
  assert.equal(rangeApplies('"old"', etag, mtime), false);
  assert.equal(rangeApplies(same, etag, mtime), true);
});

test("wantsJson: JSON only when the client prefers it to HTML", () => {
  assert.equal(wantsJson("application/json"), true);
  assert.equal(wantsJson("application/json, text/html;q=0.5"), true);
  assert.equal(wantsJson("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"), false);
  assert.equal(wantsJson("*/*"), false);
  assert.equal(wantsJson("application/json;q=0"), false);
  assert.equal(wantsJson(undefined), false);
});

test("listings escape names and sort directories first", () => {
  const entries = sortEntries([
    { name: "b.txt", type: "file", size: 1, mtime: "t" },
    { name: "<x>&\"'.txt", type: "file", size: 2, mtime: "t" },
    { name: "a dir", type: "directory", size: 0, mtime: "t" },
  ]);
  assert.deepEqual(
    entries.map((e) => e.name),
    ["a dir", "<x>&\"'.txt", "b.txt"],
  );
  const html = listingHtml("/s/", entries);
  assert.match(html, /<a href="a%20dir\/">a dir\/<\/a>/);
  assert.match(html, /&lt;x&gt;&amp;&quot;&#39;\.txt/);
  assert.ok(!html.includes("<x>"));
  assert.match(html, /<a href="\.\.\/">/);
});

test("commonLog writes the Common Log Format and escapes what a client could forge", () => {
  const base = { host: "::1", time: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), version: "1.1", status: 200 };
  assert.equal(
    commonLog({ ...base, method: "GET", target: "/a", bytes: 12 }),
    '::1 - - [02/Jan/2026:03:04:05 +0000] "GET /a HTTP/1.1" 200 12',
  );
  assert.equal(
    commonLog({ ...base, method: "GET", target: '/a"\n127.0.0.1 - - [x] "GET /', bytes: 0 }),
    '::1 - - [02/Jan/2026:03:04:05 +0000] "GET /a\\x22\\x0a127.0.0.1 - - [x] \\x22GET / HTTP/1.1" 200 -',
  );
});
