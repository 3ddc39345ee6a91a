import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { rejectsOSError } from "../../../test/support/errors.js";
import { within } from "../../../test/support/leaks.js";
import { ConnectionRefusedError } from "../../errors/index.js";
import { type Conn, dial, listen, OSError } from "../../net/index.js";
import type { ServiceEvent } from "./events.js";
import { type ServiceHost, serve } from "./host.js";
import { SERVICE_NAMES, type ServiceName } from "./limits.js";

function addr(host: ServiceHost, name: ServiceName, proto: "tcp" | "udp" = "tcp"): string {
  const b = host.bound.find((x) => x.service === name && x.proto === proto);
  assert.ok(b, `${name}/${proto} is bound`);
  return b.address;
}

async function readAll(c: Conn, ms = 5000): Promise<string> {
  c.setReadDeadline(Date.now() + ms);
  let s = "";
  for (;;) {
    const b = await c.read();
    if (b === null) return s;
    s += b.toString("latin1");
  }
}

async function echoOnce(c: Conn, text: string): Promise<string> {
  await c.write(text);
  c.setReadDeadline(Date.now() + 5000);
  return (await c.readExactly(Buffer.byteLength(text))).toString();
}

describe("ServiceHost", () => {
  test("serves the chosen services on TCP and, with udp, UDP on the same port numbers", async () => {
    const host = await serve({ services: SERVICE_NAMES.map((name) => ({ name, port: 0 })), udp: true });
    try {
      assert.equal(host.bound.length, 12);
      for (const name of SERVICE_NAMES) {
        assert.equal(addr(host, name, "tcp"), addr(host, name, "udp"));
        assert.match(addr(host, name), /^127\.0\.0\.1:\d+$/);
      }
    } finally {
      const c = await host.close();
      assert.equal(c.tcpAccepted, 0);
    }
  });

  test("UDP is off unless asked for", async () => {
    const host = await serve({ services: [{ name: "echo", port: 0 }] });
    await host.close();
    assert.deepEqual(
      host.bound.map((b) => b.proto),
      ["tcp"],
    );
  });

  test("a source over its connection limit is refused with a message while its other clients go on", async () => {
    const events: ServiceEvent[] = [];
    const host = await serve({
      services: [{ name: "echo", port: 0 }],
      limits: { maxPerSource: 2 },
      onEvent: (e) => events.push(e),
    });
    const a = await dial("tcp", addr(host, "echo"));
    const b = await dial("tcp", addr(host, "echo"));
    try {
      assert.equal(await echoOnce(a, "a"), "a");
      assert.equal(await echoOnce(b, "b"), "b");
      const c = await dial("tcp", addr(host, "echo"));
      assert.equal(
        await readAll(c),
        "sockit: too many connections from 127.0.0.1 (limit 2); try again later\r\n",
      );
      await c.close();
      assert.equal(await echoOnce(a, "still here"), "still here");
      assert.equal(host.counters.tcpRefusedPerSource, 1);
      assert.ok(events.some((e) => e.type === "refused" && e.detail === "per-source connection limit (2)"));
    } finally {
      await a.close();
      await b.close();
      await host.close();
    }
  });

  test("over the total limit, clients are refused until one leaves; time gets no text (it is binary)", async () => {
    const host = await serve({
      services: [
        { name: "echo", port: 0 },
        { name: "time", port: 0 },
      ],
      limits: { maxConnections: 1 },
    });
    const a = await dial("tcp", addr(host, "echo"));
    try {
      assert.equal(await echoOnce(a, "x"), "x");
      const refused = await dial("tcp", addr(host, "echo"));
      assert.equal(await readAll(refused), "sockit: too many connections (limit 1); try again later\r\n");
      await refused.close();
      const t = await dial("tcp", addr(host, "time"));
      assert.equal(await readAll(t), "", "time: closed without a reply");
      await t.close();
      await a.close();
      // the slot frees once the server has seen the close
      const until = Date.now() + 3000;
      while (host.active > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      const again = await dial("tcp", addr(host, "time"));
      assert.equal((await readAll(again)).length, 4);
      await again.close();
      assert.equal(host.counters.tcpRefusedTotal, 2);
    } finally {
      await a.close();
      await host.close();
    }
  });

  test("an idle client is closed after the idle timeout, and counted", async () => {
    const host = await serve({ services: [{ name: "echo", port: 0 }], limits: { idleMs: 200 } });
    const c = await dial("tcp", addr(host, "echo"));
    try {
      assert.equal(await echoOnce(c, "hi"), "hi");
      const t0 = Date.now();
      assert.equal(await readAll(c), "");
      const waited = Date.now() - t0;
      assert.ok(waited >= 150 && waited < 3000, `closed after ${waited} ms`);
      assert.equal(host.counters.tcpIdleClosed, 1);
    } finally {
      await c.close();
      await host.close();
    }
  });

  test("close() stops accepting, lets echo clients finish within the grace period, then cuts the rest off", async () => {
    const host = await serve({
      services: [
        { name: "echo", port: 0 },
        { name: "chargen", port: 0 },
      ],
      limits: { chargenBytes: 2 ** 40 },
    });
    const echoAddr = addr(host, "echo");
    const e = await dial("tcp", echoAddr);
    const g = await dial("tcp", addr(host, "chargen"));
    try {
      assert.equal(await echoOnce(e, "before"), "before");
      await g.read();
      const closing = host.close(300);
      // chargen stops at once; echo stops reading and closes
      assert.equal(await within(readAll(e), 3000, "echo client sees EOF"), "");
      await within(
        (async () => {
          for (;;) if ((await g.read().catch(() => null)) === null) return;
        })(),
        3000,
        "chargen stream ends",
      );
      const c = await within(closing, 5000, "close()");
      assert.equal(c.tcpActive, 0);
      assert.equal(c.tcpAccepted, 2);
      await rejectsOSError(dial("tcp", echoAddr), ConnectionRefusedError, "ECONNREFUSED", "connect");
    } finally {
      await e.close();
      await g.close();
      await host.close();
    }
  });

  test("an echo client that stops reading cannot hold up shutdown: it is reset when the grace period ends", async () => {
    const host = await serve({ services: [{ name: "echo", port: 0 }] });
    const c = await dial("tcp", addr(host, "echo"));
    try {
      // the server blocks writing the echo back (we never read); our own write then blocks too
      const flood = (async () => {
        const chunk = Buffer.alloc(1 << 20);
        for (let i = 0; i < 256; i++) await c.write(chunk);
      })().catch((err: unknown) => (err instanceof OSError ? err.code : String(err)));
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      const counters = await within(host.close(200), 5000, "close()");
      const took = Date.now() - t0;
      assert.ok(took >= 150 && took < 3000, `close() took ${took} ms`);
      assert.equal(counters.tcpActive, 0);
      assert.match(String(await within(flood, 5000, "the flooding client fails")), /ECONNRESET|EPIPE/);
    } finally {
      c.abort();
    }
  });

  test("discard stops at shutdown: its client reads EOF and close() resolves without waiting for the grace period", async () => {
    const host = await serve({ services: [{ name: "discard", port: 0 }] });
    const c = await dial("tcp", addr(host, "discard"));
    try {
      await c.write("x");
      const t0 = Date.now();
      const counters = await within(host.close(10_000), 5000, "close()");
      assert.ok(Date.now() - t0 < 3000);
      assert.equal(counters.tcpActive, 0);
      assert.equal(await readAll(c), "");
    } finally {
      await c.close();
    }
  });

  test("a port already in use makes serve() reject and release everything it bound", async () => {
    const busy = await listen("tcp", "127.0.0.1:0");
    try {
      await rejectsOSError(
        serve({
          services: [
            { name: "echo", port: 0 },
            { name: "time", port: busy.port },
          ],
        }),
        OSError,
        "EADDRINUSE",
        "bind",
      );
    } finally {
      await busy.close();
    }
  });

  test("a service listed twice is refused", async () => {
    await assert.rejects(
      serve({
        services: [
          { name: "echo", port: 0 },
          { name: "echo", port: 0 },
        ],
      }),
      /echo is listed twice/,
    );
  });

  test("a limit out of range is refused, naming the limit", async () => {
    await assert.rejects(serve({ services: [], limits: { udpRate: 0 } }), /udpRate must be greater than 0/);
    await assert.rejects(
      serve({ services: [], limits: { maxPerSource: 0 } }),
      /maxPerSource must be at least 1/,
    );
  });
});
