/**
 * The event streams of the pages sockit serves (mail sink, trace viewer): every open page gets
 * every event; a page that stops reading is cut off once 1 MiB waits for it, instead of growing
 * the server's memory, while the pages that read keep getting events.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { dial } from "../src/net/index.js";
import { EventStreams } from "../src/services/http/events.js";
import { serveHttp } from "../src/services/http/index.js";
import { waitFor } from "./support/kit.js";

test(
  "a page that stops reading its event stream is cut off; a reading one keeps every event",
  { timeout: 30_000 },
  async () => {
    const live = new EventStreams();
    const srv = await serveHttp({
      address: "127.0.0.1:0",
      handler: (_req, res) => live.open(res, {}, ": hello\n\n"),
    });
    const reader = await dial("tcp", srv.address);
    const stalled = await dial("tcp", srv.address);
    try {
      for (const c of [reader, stalled]) await c.write("GET /events HTTP/1.1\r\nHost: t\r\n\r\n");
      await waitFor(() => live.size === 2, 5000, "both pages to open their stream");
      let got = 0;
      const reading = (async () => {
        for (let b = await reader.read(); b !== null; b = await reader.read()) got += b.length;
      })().catch(() => undefined);
      const event = `data: ${"x".repeat(16 * 1024)}\n\n`;
      // 32 MiB of events: far past what the kernel's buffers absorb for the page that never reads
      for (let i = 0; i < 2048 && live.size === 2; i++) {
        live.send(event);
        await new Promise((r) => setImmediate(r));
      }
      await waitFor(() => live.size === 1, 10_000, "the stalled page to be cut off");
      const before = got;
      live.send("data: after\n\n");
      await waitFor(() => got > before, 5000, "the reading page to get the next event");
      live.end();
      await reading;
      assert.ok(got > 1024 * 1024, `the reading page got ${got} bytes`);
    } finally {
      reader.abort();
      stalled.abort();
      await srv.close();
    }
  },
);
