/**
 * The one stdin reader: pulls one chunk at a time, shared by loops; stop() ends a pending read
 * and releases the stream; without an error handler a read error reaches the reader once.
 */
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { StdinReader } from "./stdin.js";

test("StdinReader reads nothing before the first read(), then chunks, then null", async () => {
  const src = new PassThrough();
  src.write("a");
  const r = new StdinReader(src);
  assert.equal(src.listenerCount("readable"), 0);
  assert.equal((await r.read())?.toString(), "a");
  src.end("b");
  assert.equal((await r.read())?.toString(), "b");
  assert.equal(await r.read(), null);
  assert.equal(r.ended, true);
});

test("StdinReader.stop() resolves a pending read with null and destroys the stream", async () => {
  const src = new PassThrough();
  const r = new StdinReader(src);
  const pending = r.read();
  r.stop();
  assert.equal(await pending, null);
  assert.equal(src.destroyed, true);
  assert.equal(await r.read(), null);
  r.stop(); // idempotent
});

test("StdinReader without onError: a read error is thrown once, then EOF", async () => {
  const src = new PassThrough();
  const r = new StdinReader(src);
  const pending = r.read();
  src.destroy(Object.assign(new Error("read EIO"), { code: "EIO" }));
  await assert.rejects(pending, /read EIO/);
  assert.equal(await r.read(), null);
});
