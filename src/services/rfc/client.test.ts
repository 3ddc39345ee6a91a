import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { rejectsOSError } from "../../../test/support/errors.js";
import { TimeoutError } from "../../errors/index.js";
import { type Conn, listen, listenPacket } from "../../net/index.js";
import { chargen, echo, MAX_TEXT_REPLY, qotd, time } from "./client.js";
import { chargenLine, encodeTime, TimeReplyError } from "./protocol.js";

/** A one-off TCP server: `handle` gets each connection (then it is closed). */
async function fakeServer(handle: (c: Conn) => Promise<void>) {
  const ln = await listen("tcp", "127.0.0.1:0");
  const tasks: Promise<void>[] = [];
  const loop = (async () => {
    for await (const c of ln) {
      tasks.push(
        handle(c)
          .catch(() => {})
          .finally(() => c.close()),
      );
    }
  })();
  return {
    address: ln.address,
    close: async () => {
      await ln.close();
      await loop;
      await Promise.all(tasks);
    },
  };
}

describe("service clients", () => {
  test("time accepts the 8-byte reply of a 64-bit inetd (4 bytes of time, 4 of padding)", async () => {
    const when = new Date("2026-11-21T22:30:00Z");
    const srv = await fakeServer(async (c) => {
      await c.write(Buffer.concat([encodeTime(when), Buffer.alloc(4)]));
    });
    try {
      const t = await time(srv.address);
      assert.equal(t.bytes, 8);
      assert.deepEqual(t.date, when);
      assert.ok(Math.abs(t.offsetMs - (when.getTime() + 500 - Date.now())) < 5000);
    } finally {
      await srv.close();
    }
  });

  test("time reports a text reply instead of reading it as a date", async () => {
    const srv = await fakeServer(async (c) => {
      await c.write("sockit: too many connections\r\n");
    });
    try {
      await assert.rejects(time(srv.address), (e: unknown) => {
        assert.ok(e instanceof TimeReplyError);
        assert.match(e.message, /got 30: "sockit: too many connections"/);
        return true;
      });
    } finally {
      await srv.close();
    }
  });

  test("echo notices a reply that differs from what was sent", async () => {
    const srv = await fakeServer(async (c) => {
      const b = await c.read();
      await c.write(b!.toString().toUpperCase());
    });
    try {
      const r = await echo(srv.address, "hello\n");
      assert.equal(r.intact, false);
      assert.equal(r.reply.toString(), "HELLO\n");
    } finally {
      await srv.close();
    }
  });

  test("a text reply is read up to 64 KiB, however much the server sends", async () => {
    const srv = await fakeServer(async (c) => {
      const chunk = Buffer.alloc(16 * 1024, 0x71);
      for (let i = 0; i < 64; i++) await c.write(chunk);
    });
    try {
      assert.equal((await qotd(srv.address)).length, MAX_TEXT_REPLY);
    } finally {
      await srv.close();
    }
  });

  test("chargen counts lines that break the RFC 864 pattern", async () => {
    const srv = await fakeServer(async (c) => {
      const parts = [
        chargenLine(0),
        chargenLine(1),
        Buffer.from("not chargen\r\n"),
        chargenLine(3),
        chargenLine(7),
      ];
      await c.write(Buffer.concat(parts));
    });
    try {
      const lines: string[] = [];
      const r = await chargen(srv.address, { lines: 0, onLine: (l) => void lines.push(l.toString()) });
      assert.equal(r.lines, 5);
      assert.equal(r.badLines, 1);
      assert.equal(r.rfcLines, 4);
      assert.equal(r.outOfSequence, 1, "line 7 does not follow line 3");
      assert.equal(lines[2], "not chargen");
    } finally {
      await srv.close();
    }
  });

  test("chargen accepts other rings (xinetd: ! to }) and a UDP reply cut in the middle of a line", async () => {
    const pc = await listenPacket("udp", "127.0.0.1:0");
    const ring = Array.from({ length: 93 }, (_, i) => String.fromCharCode(0x21 + i)).join("");
    const line = (k: number) => (ring + ring).slice(k % 93, (k % 93) + 72);
    const answer = (async () => {
      const p = await pc.readFrom();
      const text = Array.from({ length: 14 }, (_, k) => `${line(k + 14)}\r\n`).join("");
      await pc.writeTo(text.slice(0, 1024), p.endpoint);
    })();
    try {
      const r = await chargen(pc.localAddress, { udp: true });
      await answer;
      assert.equal(r.bytes, 1024);
      assert.equal(r.lines, 14);
      assert.equal(r.badLines, 0);
      assert.ok(r.rfcLines < 14, "the lines that wrap at } are not RFC 864's");
      assert.equal(r.outOfSequence, 0);
    } finally {
      await pc.close();
    }
  });

  test("a UDP request nobody answers times out with a hint about --udp", async () => {
    const pc = await listenPacket("udp", "127.0.0.1:0"); // bound, never answers
    try {
      const err = await rejectsOSError(
        time(pc.localAddress, { udp: true, timeout: 200 }),
        TimeoutError,
        "ETIMEDOUT",
        "recv",
      );
      assert.match(err.message, /sockit serve --udp/);
    } finally {
      await pc.close();
    }
  });
});
