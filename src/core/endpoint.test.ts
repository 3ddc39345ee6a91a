/**
 * Endpoints: what Node reports for real sockets becomes an Endpoint, formatted for messages and
 * traces; the peer read from the handle is getpeername(2).
 */
import assert from "node:assert/strict";
import net from "node:net";
import { describe, test } from "node:test";
import { tempSocketPath } from "../../test/support/kit.js";
import { within } from "../../test/support/leaks.js";
import { endpointTrace, formatEndpoint, fromNode, isUnix, peerFromHandle } from "./endpoint.js";

/** A Node server on `at` and a connected client socket; closes both. */
async function nodePair(at: { host: string } | { path: string }) {
  const server = net.createServer();
  const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
  await new Promise<void>((resolve) =>
    "path" in at ? server.listen(at.path, resolve) : server.listen(0, at.host, resolve),
  );
  const addr = server.address();
  const client = "path" in at ? net.connect(at.path) : net.connect((addr as net.AddressInfo).port, at.host);
  await within(new Promise((resolve) => client.once("connect", resolve)), 5000, "connect");
  const conn = await within(accepted, 5000, "accept");
  return {
    server,
    client,
    conn,
    close: async () => {
      client.destroy();
      conn.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("fromNode / formatEndpoint / endpointTrace over real sockets", () => {
  for (const [host, fam, text] of [
    ["127.0.0.1", 4, (p: number) => `127.0.0.1:${p}`],
    ["::1", 6, (p: number) => `[::1]:${p}`],
  ] as const) {
    test(`IPv${fam}: a listening server's address()`, async () => {
      const p = await nodePair({ host });
      try {
        const port = (p.server.address() as net.AddressInfo).port;
        const e = fromNode(p.server.address())!;
        assert.deepEqual(e, { address: host, port, family: fam });
        assert.equal(isUnix(e), false);
        assert.equal(formatEndpoint(e), text(port));
        assert.deepEqual(endpointTrace(e), fam === 6 ? [host, port, 0, 0] : [host, port]);
      } finally {
        await p.close();
      }
    });
  }

  test("Unix: a path server, and an unnamed client side that only the path names", async () => {
    const path = tempSocketPath();
    const p = await nodePair({ path });
    try {
      const e = fromNode(p.server.address())!;
      assert.deepEqual(e, { path });
      assert.ok(isUnix(e));
      assert.equal(formatEndpoint(e), path);
      assert.equal(endpointTrace(e), path);
      assert.equal(fromNode(p.client.address() as net.AddressInfo), undefined);
      assert.deepEqual(fromNode(undefined, path), { path });
    } finally {
      await p.close();
    }
  });

  test("an abstract name prints with @, and a missing endpoint as ?", () => {
    assert.equal(formatEndpoint({ path: "\0sockit" }), "@sockit");
    assert.equal(formatEndpoint(undefined), "?");
    assert.equal(endpointTrace(undefined), null);
  });
});

describe("peerFromHandle", () => {
  for (const host of ["127.0.0.1", "::1"]) {
    test(`${host}: is the other end's local address while connected, undefined once closed`, async () => {
      const p = await nodePair({ host });
      try {
        assert.deepEqual(peerFromHandle(p.conn), {
          address: host,
          port: p.client.localPort,
          family: host.includes(":") ? 6 : 4,
        });
        p.conn.destroy();
        assert.equal(peerFromHandle(p.conn), undefined);
      } finally {
        await p.close();
      }
    });
  }
});
