import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { socketsOn } from "../../../test/support/kernel.js";
import { within } from "../../../test/support/leaks.js";
import { tcpPair } from "../../../test/support/kit.js";
import type { Conn } from "../../net/index.js";
import { settle } from "./linger.js";

async function readAll(c: Conn, ms = 5000): Promise<number> {
  c.setReadDeadline(Date.now() + ms);
  let n = 0;
  for (;;) {
    const b = await c.read();
    if (b === null) return n;
    n += b.length;
  }
}

/** The server's sockets the kernel still has, TIME-WAIT aside (that holds no data). */
function leftOn(port: number) {
  return socketsOn(port).filter((s) => s.state !== "TIME-WAIT");
}

describe("settle", () => {
  test("a client that reads everything and closes: ends 'closed' at once, every byte delivered", async () => {
    const {
      srv: server,
      cli: client,
      ln: { port },
    } = await tcpPair({ keepListener: false });
    try {
      const data = Buffer.alloc(300_000, 0x61);
      await server.write(data);
      const t0 = Date.now();
      const ending = settle(server, 10_000);
      assert.equal(await readAll(client), data.length);
      await client.close();
      assert.equal(await within(ending, 3000, "settle"), "closed");
      assert.ok(Date.now() - t0 < 2000, "no wait for the linger time");
      assert.deepEqual(leftOn(port), []);
    } finally {
      client.abort();
      server.abort();
    }
  });

  test("a client that half-closes first and reads slowly still gets every byte", async () => {
    const { srv: server, cli: client } = await tcpPair({ keepListener: false });
    try {
      const data = Buffer.alloc(2 * 2 ** 20, 0x62);
      const writing = server.write(data);
      await client.closeWrite(); // like `nc -N`: FIN at once, reading goes on
      await sleep(300);
      const reading = readAll(client);
      await writing;
      const ending = settle(server, 10_000);
      assert.equal(await reading, data.length);
      await client.close();
      assert.equal(await within(ending, 3000, "settle"), "closed");
    } finally {
      client.abort();
      server.abort();
    }
  });

  test("a client that never reads is reset after the linger time: nothing stays queued in the kernel", async () => {
    const {
      srv: server,
      cli: client,
      ln: { port },
    } = await tcpPair({ keepListener: false });
    try {
      await server.write(Buffer.alloc(2 ** 20, 0x63));
      const queued = leftOn(port).reduce((n, s) => n + s.sendQ, 0);
      assert.ok(queued > 0, "part of the megabyte waits in the server's send queue");
      const t0 = Date.now();
      assert.equal(await within(settle(server, 300), 3000, "settle"), "cut");
      assert.ok(Date.now() - t0 >= 250, `cut after ${Date.now() - t0} ms`);
      await sleep(50);
      const left = leftOn(port);
      assert.deepEqual(left, [], `the server's socket is gone, not orphaned: ${JSON.stringify(left)}`);
    } finally {
      client.abort();
      server.abort();
    }
  });

  test("aborting a settling connection (its slot is needed) ends it at once, nothing left queued", async () => {
    const {
      srv: server,
      cli: client,
      ln: { port },
    } = await tcpPair({ keepListener: false });
    try {
      await server.write(Buffer.alloc(2 ** 20, 0x64));
      const ending = settle(server, 10_000);
      await sleep(100);
      server.abort();
      assert.equal(await within(ending, 1000, "settle"), "cut");
      await sleep(50);
      assert.deepEqual(leftOn(port), []);
    } finally {
      client.abort();
    }
  });
});
