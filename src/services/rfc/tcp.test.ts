import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { within } from "../../../test/support/leaks.js";
import { tcpPair } from "../../../test/support/kit.js";
import { pipe } from "../../../test/support/pipe.js";
import type { ConnLike } from "../../net/conn.js";
import { CHARGEN_LINE_BYTES, chargenLine, decodeTime, formatDaytime } from "./protocol.js";
import {
  chargenTcp,
  daytimeTcp,
  discardTcp,
  echoTcp,
  pickQuote,
  qotdTcp,
  type TcpService,
  timeTcp,
} from "./tcp.js";

const fixed = new Date("2026-11-21T22:30:00Z");

async function readAll(c: ConnLike, max = 1 << 20): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  c.setReadDeadline(Date.now() + 5000);
  for (;;) {
    const b = await c.read();
    if (b === null || n > max) return Buffer.concat(parts);
    parts.push(b);
    n += b.length;
  }
}

/**
 * Runs `svc` on the server end of a connection and `body` on the client end: a real loopback
 * TCP connection, or the kit's in-memory `pipe()` where only the service's protocol logic is
 * under test (the pipe has a socket's backpressure, FIN, reset and deadlines).
 */
async function run(
  svc: TcpService,
  body: (client: ConnLike, done: Promise<string>) => Promise<void>,
  opts = {},
  over: "tcp" | "pipe" = "tcp",
) {
  if (over === "pipe") {
    const [cli, srv] = pipe();
    try {
      const done = svc(srv, opts).then(async (r) => {
        await srv.close();
        return r;
      });
      await body(cli, done);
    } finally {
      cli.abort();
      await srv.close();
    }
    return;
  }
  const p = await tcpPair({ keepListener: false });
  try {
    const done = svc(p.srv, opts).then(async (r) => {
      await p.srv.close();
      return r;
    });
    await body(p.cli, done);
  } finally {
    // abort first: in Node 20, resetAndDestroy() after end() leaks the handle
    p.cli.abort();
    await p.close();
  }
}

describe("TCP services", () => {
  test("echo sends every byte back and stops at the client's EOF", async () => {
    await run(echoTcp, async (client, done) => {
      const data = Buffer.alloc(300_000, 0x5a);
      void client.write(data).then(() => client.closeWrite());
      const back = await readAll(client);
      assert.ok(back.equals(data));
      assert.equal(await within(done, 2000, "echo"), "eof");
    });
  });

  test("discard reads everything and sends nothing", async () => {
    let read = 0;
    await run(
      discardTcp,
      async (client, done) => {
        await client.write(Buffer.alloc(100_000));
        await client.closeWrite();
        assert.equal((await readAll(client)).length, 0);
        assert.equal(await within(done, 2000, "discard"), "eof");
        assert.equal(read, 100_000);
      },
      { onRead: (n: number) => (read += n) },
      "pipe",
    );
  });

  test("chargen sends whole lines up to its byte budget, then ends the stream", async () => {
    await run(
      chargenTcp,
      async (client, done) => {
        const got = await readAll(client);
        assert.equal(got.length, 135 * CHARGEN_LINE_BYTES, "10 000 bytes round down to 135 whole lines");
        for (let i = 0; i < 100; i++) {
          assert.ok(got.subarray(i * 74, i * 74 + 74).equals(chargenLine(i)), `line ${i}`);
        }
        assert.equal(await within(done, 2000, "chargen"), "bytes");
      },
      { limits: { chargenBytes: 10_000, chargenMs: 30_000 } },
      "pipe",
    );
  });

  test("chargen to a client that never reads stops at the time budget and resets the connection", async () => {
    let wrote = 0;
    await run(
      chargenTcp,
      async (_client, done) => {
        const t0 = Date.now();
        assert.equal(await within(done, 5000, "chargen time budget"), "time");
        assert.ok(Date.now() - t0 >= 250);
        assert.ok(wrote < 64 * 1024 * 1024, `wrote ${wrote}: bounded by the socket buffers`);
      },
      { limits: { chargenBytes: 2 ** 40, chargenMs: 300 }, onWrite: (n: number) => (wrote += n) },
    );
  });

  test("chargen stops when the server shuts down", async () => {
    const ac = new AbortController();
    await run(
      chargenTcp,
      async (client, done) => {
        await client.read();
        ac.abort();
        assert.equal(await within(done, 2000, "chargen shutdown"), "shutdown");
      },
      { signal: ac.signal, limits: { chargenBytes: 2 ** 40, chargenMs: 30_000 } },
      "pipe",
    );
  });

  test("echo stops reading when the server shuts down", async () => {
    const ac = new AbortController();
    await run(
      echoTcp,
      async (client, done) => {
        // the service is reading (it echoed a byte), then the server shuts down
        await client.write("x");
        assert.equal((await within(client.read(1), 2000, "the echo"))?.toString(), "x");
        ac.abort();
        assert.equal(await within(done, 2000, "echo shutdown"), "shutdown");
      },
      { signal: ac.signal },
      "pipe",
    );
  });

  test("daytime sends one line, time 4 bytes, qotd one quote; each then returns", async () => {
    await run(
      daytimeTcp,
      async (client, done) => {
        assert.equal((await readAll(client)).toString(), formatDaytime(fixed));
        assert.equal(await done, "done");
      },
      { now: () => fixed },
    );
    await run(
      timeTcp,
      async (client) => {
        assert.deepEqual(decodeTime(await readAll(client)).date, fixed);
      },
      { now: () => fixed },
    );
    await run(
      qotdTcp,
      async (client) => {
        assert.equal((await readAll(client)).toString(), "Quote.\r\n");
      },
      { quotes: ["Quote.\r\n"] },
    );
  });

  test("pickQuote picks uniformly and falls back to the built-in list", () => {
    assert.equal(
      pickQuote(["a", "b", "c"], () => 0),
      "a",
    );
    assert.equal(
      pickQuote(["a", "b", "c"], () => 0.999),
      "c",
    );
    assert.ok(pickQuote([], () => 0).length > 0);
  });
});
