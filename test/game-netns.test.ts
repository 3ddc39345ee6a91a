/**
 * `sockit game` across a bad link: the server in one network namespace, three bot processes in
 * the other (support/netns.ts). Under 10 % random loss each way (nftables on both veth ends), and
 * over a link with 50 ms of delay each way and 10 % loss each way (support/delay-link.ts, a
 * userspace TUN forwarder: the kernel here has no netem), the match still ends with one result
 * that every bot prints, and no bot stalls (each takes most of the match's snapshots).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { delayLink } from "./support/delay-link.js";
import { botMatch, MATCH_MS } from "./support/game.js";
import { type NetnsPair, netnsPair, netnsSkipReason } from "./support/netns.js";
import { SOCKIT } from "./support/sockit-serve.js";
import { start } from "./support/spawn.js";

describe("sockit game between two network namespaces", { skip: netnsSkipReason() }, () => {
  let pair: NetnsPair;
  before(() => {
    pair = netnsPair();
  });
  after(() => pair?.close());

  const match = (host: string, share: number) =>
    botMatch(
      async () => {
        const [cmd, args] = pair.argv(pair.server, [
          process.execPath,
          SOCKIT,
          "game",
          "serve",
          "--host",
          host,
          "--port",
          "0",
          "--players",
          "3",
        ]);
        const server = start(cmd, args);
        const address = (await server.line(/listening on (\S+) \(udp\)/))[1]!;
        return { server, address };
      },
      (address, name) => {
        const [cmd, args] = pair.argv(pair.client, [
          process.execPath,
          SOCKIT,
          "-v",
          "game",
          "join",
          address,
          "--name",
          name,
          "--bot",
        ]);
        return start(cmd, args);
      },
      share,
    );

  test(
    "10 % random loss each way: one match, one result on every bot, nobody stalls",
    { timeout: MATCH_MS + 20_000 },
    async () => {
      const toServer = pair.randomLoss(10, "server");
      const toClient = pair.randomLoss(10, "client");
      try {
        await match(pair.serverV4, 0.75);
        assert.ok(
          toServer.dropped() > 0 && toClient.dropped() > 0,
          `the loss rules dropped datagrams both ways: ${toServer.dropped()} and ${toClient.dropped()}`,
        );
      } finally {
        toServer.remove();
        toClient.remove();
      }
    },
  );

  test(
    "50 ms delay and 10 % loss each way (TUN link): the same",
    { timeout: MATCH_MS + 30_000 },
    async () => {
      const link = await delayLink(pair, {
        delayMs: 50,
        backMs: 50,
        lossPct: 10,
        seconds: MATCH_MS / 1000 + 20,
      });
      try {
        await match(link.serverV4, 0.75);
        const stats = await link.stop();
        assert.ok(
          stats.ab.lost > 0 && stats.ba.lost > 0,
          `the link lost datagrams both ways: ${JSON.stringify(stats)}`,
        );
        assert.ok(
          stats.ba.tx > 100,
          `the snapshots went through the delaying link: ${JSON.stringify(stats)}`,
        );
      } finally {
        await link.close();
      }
    },
  );
});
