/** `sockit game`'s argument → plan steps, by table. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "../exit.js";
import { planGameJoin, planGameServe } from "./game.js";

test("planGameServe: defaults, host and port forms, bounds", () => {
  assert.deepEqual(planGameServe({}), { address: "0.0.0.0:7777", players: 2, tickHz: 20 });
  assert.deepEqual(planGameServe({ host: "::1", port: "0", players: "8", tick: "60" }), {
    address: "[::1]:0",
    players: 8,
    tickHz: 60,
  });
  for (const bad of [
    { port: "65536" },
    { port: "-1" },
    { players: "1" },
    { players: "9" },
    { tick: "0" },
    { tick: "2.5" },
  ])
    assert.throws(() => planGameServe(bad), UsageError, JSON.stringify(bad));
});

test("planGameJoin: the port defaults to 7777; names are 1-16 printable ASCII characters", () => {
  assert.deepEqual(planGameJoin("127.0.0.1", { name: "alice" }), {
    address: "127.0.0.1:7777",
    name: "alice",
    bot: false,
    timeoutMs: 5000,
  });
  assert.equal(planGameJoin("[::1]:9000", { name: "b", bot: true, timeout: "2" }).address, "[::1]:9000");
  for (const name of [undefined, "", " lead", "trail ", "x".repeat(17), "caf\u00e9", "tab\t"])
    assert.throws(
      () => planGameJoin("127.0.0.1", name === undefined ? {} : { name }),
      UsageError,
      JSON.stringify(name),
    );
  assert.throws(() => planGameJoin("127.0.0.1:70000", { name: "a" }));
});
