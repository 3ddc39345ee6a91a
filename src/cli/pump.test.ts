import assert from "node:assert/strict";
import { test } from "node:test";
import { Writable } from "node:stream";
import { crlf, writeAll } from "./pump.js";

test("writeAll waits for drain and leaves no listeners behind", async () => {
  let pending: Array<() => void> = [];
  const slow = new Writable({
    highWaterMark: 4,
    write(_chunk, _enc, cb) {
      pending.push(cb);
    },
  });
  const base = {
    drain: slow.listenerCount("drain"),
    close: slow.listenerCount("close"),
    error: slow.listenerCount("error"),
  };
  for (let i = 0; i < 50; i++) {
    const w = writeAll(slow, Buffer.from("12345678"));
    const cbs = pending;
    pending = [];
    for (const cb of cbs) cb();
    await w;
  }
  assert.deepEqual(
    {
      drain: slow.listenerCount("drain"),
      close: slow.listenerCount("close"),
      error: slow.listenerCount("error"),
    },
    base,
  );
});

test("writeAll rejects EPIPE when the output closes while it waits", async () => {
  const stuck = new Writable({ highWaterMark: 1, write() {} });
  const w = writeAll(stuck, Buffer.from("xx"));
  stuck.destroy();
  await assert.rejects(w, (e: unknown) => (e as { code?: string }).code === "EPIPE");
});

test("crlf() turns LF into CRLF, keeps CRLF, also across chunk boundaries", () => {
  const t = crlf();
  assert.equal(t(Buffer.from("a\nb\r")).toString(), "a\r\nb\r");
  assert.equal(t(Buffer.from("\nc\n")).toString(), "\nc\r\n");
  assert.equal(crlf()(Buffer.from("no newline")).toString(), "no newline");
});
