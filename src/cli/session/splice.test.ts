/**
 * The one splice, over real loopback TCP connections: a half-close is passed on as a half-close
 * (the reply still comes back), a reset is passed on as a reset (not a FIN), and backpressure is
 * bounded (the splice never holds more than one chunk it has read but not written).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { leakFree, within } from "../../../test/support/leaks.js";
import { type Conn, dial, type Listener, listen } from "../../net/index.js";
import { chunks, type SpliceEnd, splice } from "./splice.js";
import { connEnd } from "./stdio.js";

/** A connected loopback pair: [the client's side, the server's side]. */
async function tcpPair(ln: Listener): Promise<[Conn, Conn]> {
  const accepted = ln.accept();
  const c = await dial("tcp", ln.address);
  return [c, await accepted];
}

/**
 * client ⇄ [a | splice | b] ⇄ server: two loopback connections whose inner sides are spliced.
 * Returns the outer sides and the splice's inner ends.
 */
async function relayed(ln: Listener) {
  const [client, a] = await tcpPair(ln);
  const [b, server] = await tcpPair(ln);
  return { client, server, a, b };
}

async function readAll(c: Conn): Promise<string> {
  let s = "";
  for await (const b of c) s += b.toString();
  return s;
}

test(
  "splice passes a half-close on: the server reads EOF after the request, and its reply still reaches the client",
  leakFree(async () => {
    const ln = await listen("tcp", "127.0.0.1:0");
    try {
      const { client, server, a, b } = await relayed(ln);
      const eofs: Array<[number, boolean | undefined]> = [];
      const spliced = splice(connEnd(a, "client"), connEnd(b, "server"), {
        events: { eof: (dir, fin) => eofs.push([dir, fin]) },
      });
      await client.write(Buffer.from("request"));
      await client.closeWrite();
      // the server sees the request and then EOF — only a half-close passed on gives it EOF
      assert.equal(await within(readAll(server), 5000, "server reads to EOF"), "request");
      await server.write(Buffer.from("reply after EOF"));
      await server.close();
      assert.equal(await within(readAll(client), 5000, "client reads to EOF"), "reply after EOF");
      const r = await within(spliced, 5000, "splice ends");
      assert.deepEqual(r, { forward: 7, backward: 15, status: "closed" });
      assert.deepEqual(eofs, [
        [0, true],
        [1, true],
      ]);
      await client.close();
    } finally {
      await ln.close();
    }
  }),
);

test(
  "splice passes a reset on: the server resets, the client reads ECONNRESET (not EOF), status failed on that side",
  leakFree(async () => {
    const ln = await listen("tcp", "127.0.0.1:0");
    try {
      const { client, server, a, b } = await relayed(ln);
      const spliced = splice(connEnd(a, "client"), connEnd(b, "server"));
      await client.write(Buffer.from("x"));
      assert.equal((await within(server.read(), 5000, "server reads"))?.toString(), "x");
      server.abort(); // RST toward the splice
      const r = await within(spliced, 5000, "splice ends");
      assert.equal(r.status, "failed");
      assert.equal(r.failedSide, 1);
      assert.equal((r.error as { code?: string }).code, "ECONNRESET");
      await assert.rejects(
        within(readAll(client), 5000, "client reads"),
        (e: unknown) => (e as { code?: string }).code === "ECONNRESET",
      );
      await client.close();
    } finally {
      await ln.close();
    }
  }),
);

test(
  "splice backpressure is bounded: toward a peer that does not read, it holds at most one chunk read but not written",
  leakFree(async () => {
    const ln = await listen("tcp", "127.0.0.1:0");
    try {
      const { client, server, a, b } = await relayed(ln);
      let read = 0;
      let written = 0;
      let worst = 0;
      let largest = 0;
      const counted: SpliceEnd = connEnd(a, "client");
      const src: SpliceEnd = {
        ...counted,
        read: async () => {
          const c = await counted.read();
          if (c !== null) {
            read += c.length;
            largest = Math.max(largest, c.length);
            worst = Math.max(worst, read - written);
          }
          return c;
        },
      };
      const inner = connEnd(b, "server");
      const dst: SpliceEnd = {
        ...inner,
        write: async (buf) => {
          await inner.write(buf);
          written += buf.length;
        },
      };
      const spliced = splice(src, dst);
      // the client writes 64 MiB while the server reads nothing; stop once writes stall
      const MiB = Buffer.alloc(1 << 20, 0x61);
      let sent = 0;
      for (let i = 0; i < 64; i++) {
        const stalled = await Promise.race([
          client.write(MiB).then(
            () => false,
            () => true,
          ),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 1500).unref()),
        ]);
        if (stalled) break;
        sent += MiB.length;
      }
      assert.ok(sent < 64 * MiB.length, `the writer must stall when nobody reads (sent ${sent})`);
      assert.ok(worst <= largest, `held ${worst} bytes read but not written; one chunk is ${largest}`);
      assert.ok(read < 48 * MiB.length, `read ${read} bytes though the far end reads nothing`);
      client.abort();
      server.abort();
      const r = await within(spliced, 5000, "splice ends");
      assert.equal(r.status, "failed");
    } finally {
      await ln.close();
    }
  }),
);

test("chunks splits at the limit and keeps smaller chunks whole", () => {
  assert.deepEqual(
    chunks(Buffer.alloc(10), 4).map((b) => b.length),
    [4, 4, 2],
  );
  const small = Buffer.alloc(3);
  assert.equal(chunks(small, 4)[0], small);
});
