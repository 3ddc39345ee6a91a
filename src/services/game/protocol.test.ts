/**
 * The game's datagrams: every message survives encode → decode; the largest snapshot fits one
 * datagram; hostile bytes (random, another version, cut, grown, bit-flipped) decode to undefined
 * or to a well-formed message, and never throw.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  decode,
  type Dir,
  encode,
  MAX_DATAGRAM,
  MAX_HEIGHT,
  MAX_NAME,
  MAX_PLAYERS,
  MAX_WIDTH,
  type Message,
  newer,
  type PlayerView,
  type Snapshot,
  TYPE,
  VERSION,
} from "./protocol.js";

const params = (numRuns: number) => ({ seed: Number(process.env.FC_SEED ?? 42), numRuns });

const name = fc
  .stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,15}$/)
  .filter((s) => !s.endsWith(" ") && s.length <= MAX_NAME);
const dir = fc.constantFrom<Dir>(0, 1, 2, 3);
const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });

const snapshot: fc.Arbitrary<Snapshot> = fc
  .record({
    width: fc.integer({ min: 4, max: MAX_WIDTH }),
    height: fc.integer({ min: 4, max: MAX_HEIGHT }),
    ids: fc.uniqueArray(fc.integer({ min: 0, max: MAX_PLAYERS - 1 }), { maxLength: MAX_PLAYERS }),
    tick: u32,
    ack: u32,
    phase: fc.constantFrom("lobby", "countdown", "running", "over") as fc.Arbitrary<Snapshot["phase"]>,
    seed: fc.integer(),
  })
  .chain((r) =>
    fc
      .tuple(
        fc.array(
          fc.record({ name, alive: fc.boolean(), dir, x: fc.nat(r.width - 1), y: fc.nat(r.height - 1) }),
          { minLength: r.ids.length, maxLength: r.ids.length },
        ),
        fc.uint8Array({ minLength: r.width * r.height, maxLength: r.width * r.height, max: MAX_PLAYERS }),
        fc.integer({ min: 0, max: 255 }),
      )
      .map(([ps, cells, arg]): Snapshot => {
        const players: PlayerView[] = ps.map((p, i) => ({ id: r.ids[i]!, ...p }));
        const winner = r.phase === "over" ? (players[0]?.id ?? 255) : arg;
        return {
          type: "snapshot",
          tick: r.tick,
          phase: r.phase,
          arg: winner,
          ack: r.ack,
          width: r.width,
          height: r.height,
          players,
          cells,
        };
      }),
  );

const message: fc.Arbitrary<Message> = fc.oneof(
  name.map((n): Message => ({ type: "join", name: n })),
  fc.record({ token: u32, seq: u32, dir }).map((r): Message => ({ type: "input", ...r })),
  u32.map((token): Message => ({ type: "leave", token })),
  fc
    .record({
      token: u32,
      id: fc.nat(MAX_PLAYERS - 1),
      width: fc.integer({ min: 4, max: MAX_WIDTH }),
      height: fc.integer({ min: 4, max: MAX_HEIGHT }),
      tickHz: fc.integer({ min: 1, max: 100 }),
    })
    .map((r): Message => ({ type: "welcome", ...r })),
  fc
    .constantFrom("full", "bad-name", "name-taken", "running")
    .map((reason): Message => ({ type: "reject", reason })),
  snapshot,
);

/** Decodes and, when it decoded, checks the message is well formed by encoding it back. */
function decodeChecked(b: Uint8Array): Message | undefined {
  const m = decode(b);
  if (m !== undefined) assert.deepEqual(decode(encode(m)), m);
  return m;
}

describe("game protocol", () => {
  test("every message survives encode then decode, and fits one datagram", () => {
    fc.assert(
      fc.property(message, (m) => {
        const b = encode(m);
        assert.ok(b.length <= MAX_DATAGRAM, `${m.type}: ${b.length} bytes`);
        assert.equal(b[0], VERSION);
        assert.deepEqual(decode(b), m);
      }),
      params(2000),
    );
  });

  test("the largest snapshot (8 players, 16-byte names, 64 x 32 cells) fits MAX_DATAGRAM", () => {
    const players: PlayerView[] = Array.from({ length: MAX_PLAYERS }, (_, id) => ({
      id,
      name: `player-${id}-xxxxxxx`.slice(0, MAX_NAME),
      alive: true,
      x: MAX_WIDTH - 1,
      y: MAX_HEIGHT - 1,
      dir: 3,
    }));
    const cells = new Uint8Array(MAX_WIDTH * MAX_HEIGHT).fill(MAX_PLAYERS);
    const b = encode({
      type: "snapshot",
      tick: 1,
      phase: "running",
      arg: 0,
      ack: 1,
      width: 64,
      height: 32,
      players,
      cells,
    });
    assert.equal(b.length, 1215);
    assert.ok(b.length <= MAX_DATAGRAM);
  });

  test("random bytes never throw and decode only to well-formed messages", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1600 }), (b) => {
        decodeChecked(b);
      }),
      params(5000),
    );
  });

  test("a valid datagram cut, grown or bit-flipped decodes to undefined or a well-formed message", () => {
    fc.assert(
      fc.property(
        message,
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        (m, at, bit, extra) => {
          const b = encode(m);
          const i = at % b.length;
          assert.equal(decode(b.subarray(0, i)), i < 2 ? undefined : decode(b.subarray(0, i)));
          decodeChecked(b.subarray(0, i));
          assert.equal(decode(Buffer.concat([b, extra])), undefined, "trailing bytes are refused");
          const flipped = Buffer.from(b);
          flipped[i] = flipped[i]! ^ (1 << bit);
          decodeChecked(flipped);
        },
      ),
      params(3000),
    );
  });

  test("another version, an unknown type, or more than MAX_DATAGRAM bytes decode to undefined", () => {
    fc.assert(
      fc.property(message, fc.integer({ min: 0, max: 255 }), (m, v) => {
        const b = encode(m);
        if (v !== VERSION) {
          b[0] = v;
          assert.equal(decode(b), undefined);
        }
      }),
      params(1000),
    );
    for (let t = 0; t < 256; t++) {
      if (Object.values(TYPE).includes(t as never)) continue;
      assert.equal(decode(Buffer.from([VERSION, t, 0, 0, 0, 0, 0, 0, 0, 0, 0])), undefined);
    }
    const big = Buffer.alloc(MAX_DATAGRAM + 1);
    big.set(encode({ type: "join", name: "alice" }));
    assert.equal(decode(big), undefined);
  });

  test("a snapshot naming a winner that is not a player, or a cell value above 8, is refused", () => {
    const cells = new Uint8Array(16);
    const base: Snapshot = {
      type: "snapshot",
      tick: 5,
      phase: "over",
      arg: 255,
      ack: 0,
      width: 4,
      height: 4,
      players: [],
      cells,
    };
    assert.deepEqual(decode(encode(base)), base);
    assert.equal(decode(encode({ ...base, arg: 3 })), undefined);
    const bad = encode(base);
    bad[bad.length - 1] = 0x09;
    assert.equal(decode(bad), undefined);
  });

  test("newer() orders 32-bit sequence numbers across the wrap", () => {
    assert.ok(newer(1, 0));
    assert.ok(!newer(0, 1));
    assert.ok(!newer(7, 7));
    assert.ok(newer(0, 0xffffffff));
    assert.ok(newer(5, 0xfffffff0));
  });
});
