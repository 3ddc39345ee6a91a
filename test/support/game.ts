/**
 * `sockit game` in tests: a whole match of three bot processes against a server process, checked
 * for one result that every client prints and for snapshots that kept coming.
 */
import assert from "node:assert/strict";
import type { Child } from "./spawn.js";

/** The longest a bot match may take (bots exit as soon as it is over). */
export const MATCH_MS = 90_000;

/** What a bot printed: its result line and (with -v) how many snapshots it took. */
function botReport(c: Child): { result: string; snapshots: number } {
  const result = c.stdout().trim().split("\n").at(-1) ?? "";
  const snapshots = Number(/snapshots (\d+)/.exec(c.stderr())?.[1] ?? NaN);
  return { result, snapshots };
}

/**
 * Server plus three bots on `host`; checks every bot exits 0 with the server's result and was not
 * starved of snapshots (at least `share` of the match's ticks).
 */
export async function botMatch(
  spawnServer: () => Promise<{ server: Child; address: string }>,
  spawnBot: (address: string, name: string) => Child,
  share: number,
): Promise<void> {
  const { server, address } = await spawnServer();
  const bots: Child[] = [];
  try {
    for (const name of ["ann", "ben", "cat"]) bots.push(spawnBot(address, name));
    const codes = await Promise.all(bots.map((b) => b.exit(MATCH_MS)));
    for (const [i, b] of bots.entries()) assert.equal(codes[i], 0, `bot ${i}: ${b.stderr()}`);
    const over = (await server.line(/match over at tick (\d+): (winner \S+|draw)/))!;
    const started = Number((await server.line(/match started at tick (\d+)/))[1]);
    const ticks = Number(over[1]) - started;
    const reports = bots.map(botReport);
    for (const r of reports) {
      assert.equal(r.result, `result: ${over[2]}`, JSON.stringify(reports));
      assert.ok(r.snapshots >= share * ticks, `${r.snapshots} snapshots for a ${ticks}-tick match`);
    }
    assert.match(reports[0]!.result, /^result: (winner (ann|ben|cat)|draw)$/);
  } finally {
    for (const b of bots) b.kill("SIGKILL");
    server.kill("SIGTERM");
    await server.exit(5000).catch(() => server.kill("SIGKILL"));
  }
}
