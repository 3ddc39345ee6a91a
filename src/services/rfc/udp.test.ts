import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { within } from "../../../test/support/leaks.js";
import { dial, listenPacket } from "../../net/index.js";
import { newCounters } from "./events.js";
import { DEFAULT_LIMITS } from "./limits.js";
import { chargenLine, decodeTime, formatDaytime } from "./protocol.js";
import { serveUdp, UdpGate, udpResponder } from "./udp.js";

const fcParams = (numRuns: number) => ({ seed: Number(process.env.FC_SEED ?? 42), numRuns });
const fixed = new Date("2026-11-21T22:30:00Z");

describe("udpResponder", () => {
  test("echo answers the datagram, discard nothing, time 4 bytes, daytime one line", () => {
    const data = Buffer.from("ping");
    assert.equal(udpResponder("echo")(data), data);
    assert.equal(udpResponder("discard")(data), undefined);
    assert.deepEqual(decodeTime(udpResponder("time", { now: () => fixed })(data)!).date, fixed);
    assert.equal(udpResponder("daytime", { now: () => fixed })(data)!.toString(), formatDaytime(fixed));
  });

  test("chargen answers one line per datagram, the next line each time", () => {
    const r = udpResponder("chargen");
    for (let i = 0; i < 100; i++) assert.deepEqual(r(Buffer.alloc(0)), chargenLine(i));
  });

  test("qotd answers one of the quotes given", () => {
    const r = udpResponder("qotd", { quotes: ["a\r\n", "b\r\n"], random: () => 0.99 });
    assert.equal(r(Buffer.alloc(0))!.toString(), "b\r\n");
  });
});

describe("UdpGate", () => {
  const served = new Set([7007, 7019]);

  test("drops privileged source ports, then ports this host serves, then oversize replies, then limits the rate", () => {
    const g = new UdpGate({ ...DEFAULT_LIMITS, udpBurst: 2 }, served);
    assert.equal(g.check({ address: "127.0.0.1", port: 19 }, 10, 0), "privileged-port");
    assert.equal(g.check({ address: "127.0.0.1", port: 0 }, 10, 0), "privileged-port");
    assert.equal(g.check({ address: "127.0.0.1", port: 7019 }, 10, 0), "loop");
    assert.equal(g.check({ address: "127.0.0.1", port: 40000 }, 513, 0), "oversize");
    assert.equal(g.check({ address: "127.0.0.1", port: 40000 }, 512, 0), "ok");
    assert.equal(g.check({ address: "127.0.0.1", port: 40001 }, 512, 0), "ok");
    assert.equal(
      g.check({ address: "127.0.0.1", port: 40002 }, 512, 0),
      "limited-source",
      "per address, not port",
    );
    assert.equal(g.check({ address: "127.0.0.2", port: 40002 }, 512, 0), "ok");
  });

  test("the rate is per IPv6 /64: a host's other addresses share its bucket", () => {
    const g = new UdpGate({ ...DEFAULT_LIMITS, udpBurst: 2 }, served);
    assert.equal(g.check({ address: "2001:db8::1", port: 40000 }, 10, 0), "ok");
    assert.equal(g.check({ address: "2001:db8::2", port: 40000 }, 10, 0), "ok");
    assert.equal(g.check({ address: "2001:db8::ffff:3", port: 40000 }, 10, 0), "limited-source");
    assert.equal(g.check({ address: "2001:db8:0:1::1", port: 40000 }, 10, 0), "ok", "another /64");
  });

  test("a source port below 1024 or one served is never answered, whatever the reply size or time", () => {
    const g = new UdpGate(DEFAULT_LIMITS, served);
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 1023 }), fc.constantFrom(7007, 7019)),
        fc.nat(70_000),
        fc.nat(),
        (port, size, t) => {
          assert.notEqual(g.check({ address: "10.1.2.3", port }, size, t), "ok");
        },
      ),
      fcParams(500),
    );
  });
});

describe("serveUdp", () => {
  test("answers an echo datagram and counts it; a reply over the bound is dropped and counted", async () => {
    const pc = await listenPacket("udp", "127.0.0.1:0");
    const counters = newCounters();
    const events: string[] = [];
    const done = serveUdp(pc, "echo", {
      gate: new UdpGate({ ...DEFAULT_LIMITS, udpMaxReply: 16 }, new Set([pc.port])),
      counters,
      onEvent: (e) => events.push(`${e.type}:${e.detail}`),
    });
    const c = await dial("udp", pc.localAddress);
    try {
      await c.write("hello");
      c.setReadDeadline(Date.now() + 2000);
      assert.equal((await c.read()).toString(), "hello");
      await c.write(Buffer.alloc(17, 0x61));
      await c.write("again");
      assert.equal((await c.read()).toString(), "again", "the oversize datagram got no reply");
      assert.equal(counters.udpReceived, 3);
      assert.equal(counters.udpReplied, 2);
      assert.equal(counters.udpDroppedOversize, 1);
      assert.deepEqual(events, ["dropped:reply would exceed the UDP reply bound"]);
    } finally {
      await c.close();
      await pc.close();
    }
    await within(done, 2000, "serveUdp ends when its socket closes");
  });
});
