/**
 * The game server over real UDP sockets on loopback: hostile datagrams change nothing for the
 * players, a flood from one source is cut by its token bucket, a silent player is removed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { listenPacket } from "../../net/index.js";
import { GameClient } from "./client.js";
import { DRAW, encode, MAX_DATAGRAM, type Snapshot, VERSION } from "./protocol.js";
import { type GameEvent, GameServer } from "./server.js";
import { Arena } from "./sim.js";

/** Reads snapshots until the match is over (bounded by the client's timeout). */
async function untilOver(c: GameClient): Promise<{ over: Snapshot; running: number }> {
  let running = 0;
  for (;;) {
    const s = await c.next();
    if (s.phase === "running") running++;
    if (s.phase === "over") return { over: s, running };
  }
}

describe("game server", () => {
  test(
    "garbage, wrong versions, oversized datagrams and spoofed tokens change nothing: the match is the pure simulation's",
    { timeout: 30_000 },
    async () => {
      // a high source rate: the garbage must reach the decoder, not stop at the token bucket
      const server = await GameServer.listen("127.0.0.1:0", { countdownMs: 1500, sourceRate: 100_000 });
      const evil = await listenPacket("udp", "127.0.0.1:0");
      const a = await GameClient.join(server.address, { name: "alice" });
      const b = await GameClient.join(server.address, { name: "bob" });
      try {
        assert.deepEqual([a.welcome.id, b.welcome.id], [0, 1]);
        const send = (d: Uint8Array) => evil.writeTo(d, server.address);
        const spoof = [a.welcome.token, b.welcome.token, 0, 1, 0xffffffff];
        const sent = { random: 0, version: 0, oversize: 0, spoofed: 0, unexpected: 0 };
        const volley = async () => {
          for (const bytes of fc.sample(fc.uint8Array({ minLength: 0, maxLength: 1400 }), {
            seed: 7,
            numRuns: 150,
          })) {
            await send(bytes);
            sent.random++;
          }
          for (const token of spoof) {
            for (const dir of [0, 2] as const) {
              // the real players' tokens from another address: steering would turn them away
              await send(encode({ type: "input", token, seq: 1000 + dir, dir }));
              await send(encode({ type: "leave", token }));
              sent.spoofed += 2;
              const v = encode({ type: "input", token, seq: 2000, dir });
              v[0] = VERSION + 1;
              await send(v);
              sent.version++;
              const big = Buffer.alloc(MAX_DATAGRAM + 1 + dir * 100);
              big.set(encode({ type: "input", token, seq: 3000, dir }));
              await send(big);
              sent.oversize++;
            }
          }
          await send(encode({ type: "welcome", token: 1, id: 0, width: 8, height: 8, tickHz: 20 }));
          sent.unexpected++;
          await send(encode({ type: "join", name: "alice" })); // a taken name: refused
        };
        await volley(); // during the countdown
        let first = await a.next();
        while (first.phase !== "running") first = await a.next();
        await volley(); // and while the match runs
        const [ra, rb] = await Promise.all([untilOver(a), untilOver(b)]);

        const pure = new Arena(48, 24);
        pure.add(0, "alice");
        pure.add(1, "bob");
        while (pure.result() === undefined) pure.step();
        assert.equal(pure.result(), DRAW);
        for (const r of [ra, rb]) {
          assert.equal(r.over.arg, DRAW, "nobody steered: the head-on draw");
          assert.deepEqual(
            Buffer.from(r.over.cells),
            Buffer.from(pure.cells),
            "the same trails as the pure simulation",
          );
          assert.ok(r.running > 0);
        }
        assert.deepEqual(
          server.players().map((p) => p.name),
          ["alice", "bob"],
        );
        const st = server.stats;
        assert.ok(st.oversize >= sent.oversize, JSON.stringify(st));
        assert.ok(st.unknown >= sent.spoofed, JSON.stringify(st));
        assert.ok(st.malformed >= sent.version + sent.random, JSON.stringify(st));
        assert.ok(st.unexpected >= 2 && st.rejected >= 2, JSON.stringify(st));
        assert.equal(st.spoofed, 0, "no datagram came from a player's address with a wrong token");
      } finally {
        await Promise.all([a.close(), b.close(), evil.close()]);
        await server.close();
      }
    },
  );

  test(
    "a flood from one source is cut by its token bucket; the players still get every tick",
    { timeout: 20_000 },
    async () => {
      const server = await GameServer.listen("127.0.0.1:0", { minPlayers: 3 });
      const evil = await listenPacket("udp", "127.0.0.1:0");
      const a = await GameClient.join(server.address, { name: "alice" });
      try {
        const first = await a.next();
        for (let i = 0; i < 400; i++)
          await evil.writeTo(encode({ type: "input", token: i, seq: i, dir: 1 }), server.address);
        let last = first;
        for (let i = 0; i < 20; i++) last = await a.next();
        assert.ok(last.tick >= first.tick + 20);
        const st = server.stats;
        // a burst of 40 and 40/s after it pass; the rest of what the kernel delivered is dropped
        assert.ok(st.limited >= 150 && st.limited >= st.received - 100, `limited: ${JSON.stringify(st)}`);
        assert.ok(st.unknown <= 100, `only a burst passed: ${JSON.stringify(st)}`);
        assert.deepEqual(
          server.players().map((p) => p.name),
          ["alice"],
        );
      } finally {
        await Promise.all([a.close(), evil.close()]);
        await server.close();
      }
    },
  );

  test("players who stay joined after a match play the next one", { timeout: 20_000 }, async () => {
    const events: GameEvent[] = [];
    const server = await GameServer.listen("127.0.0.1:0", {
      countdownMs: 200,
      overMs: 300,
      onEvent: (e) => events.push(e),
    });
    const a = await GameClient.join(server.address, { name: "alice" });
    const b = await GameClient.join(server.address, { name: "bob" });
    try {
      const first = await untilOver(a);
      let s = first.over;
      while (s.phase === "over") s = await a.next();
      const second = await untilOver(a);
      assert.ok(second.over.tick > first.over.tick + 12, "a whole second match ran");
      assert.equal(second.over.arg, DRAW);
      assert.deepEqual(
        events.filter((e) => e.kind === "start" || e.kind === "over").map((e) => e.kind),
        ["start", "over", "start", "over"],
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
      await server.close();
    }
  });

  test(
    "a player silent for playerTimeoutMs is removed; one who leaves goes at once",
    { timeout: 20_000 },
    async () => {
      const events: GameEvent[] = [];
      const server = await GameServer.listen("127.0.0.1:0", {
        minPlayers: 3,
        playerTimeoutMs: 600,
        onEvent: (e) => events.push(e),
      });
      try {
        const quiet = await GameClient.join(server.address, { name: "quiet" });
        const polite = await GameClient.join(server.address, { name: "polite" });
        await polite.close(); // sends a leave
        const t0 = performance.now();
        await quiet.close(false); // no leave: it just goes silent
        while (server.players().length > 0 && performance.now() - t0 < 5000)
          await new Promise((r) => setTimeout(r, 50));
        const ms = performance.now() - t0;
        assert.deepEqual(
          events.filter((e) => e.kind !== "join").map((e) => [e.kind, "name" in e ? e.name : ""]),
          [
            ["leave", "polite"],
            ["timeout", "quiet"],
          ],
        );
        assert.ok(ms >= 500 && ms < 2000, `removed after ${ms} ms`);
      } finally {
        await server.close();
      }
    },
  );
});
