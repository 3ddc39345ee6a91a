/**
 * `sockit ftp get` from `sockit serve ftp` across a bad link: two network namespaces (see
 * support/netns.ts), the server in one, the client in the other. A 50 MB file arrives with the
 * same SHA-256 under 10 % random loss (nftables on the client's veth ingress, where the data
 * arrives), then under 50 ms of
 * delay on the data's way (support/delay-link.ts, a userspace TUN forwarder, as the kernel here
 * has no netem). Control and passive data connections both cross the link. Gated on integrity
 * and a time bound, never on throughput.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe } from "node:test";
import { badLinkTests } from "./support/bad-link.js";
import { type NetnsPair, netnsPair, netnsSkipReason } from "./support/netns.js";
import { needs } from "./support/peers.js";
import { SOCKIT } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";

const SIZE = 50_000_000;
const LIMIT_MS = 150_000;

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe(
  "sockit ftp get between two network namespaces",
  { skip: netnsSkipReason() ?? needs(["ethtool"]) },
  () => {
    let pair: NetnsPair;
    let dir: string;
    let want: string;
    before(() => {
      pair = netnsPair();
      pair.noOffloads();
      dir = mkdtempSync(join(tmpdir(), "sockit-ftp-netns-"));
      mkdirSync(join(dir, "srv"));
      const data = randomBytes(SIZE);
      writeFileSync(join(dir, "srv", "fifty.bin"), data);
      want = sha(data);
    });
    after(() => {
      pair?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** serve ftp in the server namespace on `host`, ftp get from the client namespace; both exit 0. */
    async function get(host: string, label: string): Promise<number> {
      const out = join(dir, `${label}.bin`);
      rmSync(out, { force: true });
      const t0 = Date.now();
      const [sc, sa] = pair.argv(pair.server, [
        process.execPath,
        SOCKIT,
        "serve",
        "ftp",
        join(dir, "srv"),
        "--host",
        host,
        "--port",
        "0",
        "--json",
      ]);
      const server: Child = start(sc, sa);
      let client: Child | undefined;
      try {
        const j = JSON.parse((await server.line(/^\{"listening".*\}$/m))[0]) as { listening: string };
        const [cc, ca] = pair.argv(pair.client, [
          process.execPath,
          SOCKIT,
          "ftp",
          "get",
          `ftp://${j.listening}/fifty.bin`,
          "-o",
          out,
          "-v",
        ]);
        client = start(cc, ca);
        const closed = once(client.proc, "close"); // "exit" may come before the last of stderr
        assert.equal(await client.exit(LIMIT_MS), 0, client.stderr());
        await closed;
        // the client's own check against the server's HASH/XSHA256, then ours on the bytes
        assert.match(client.stderr(), new RegExp(`SHA-256 ${want} matches the server's`));
        assert.equal(sha(readFileSync(out)), want);
        server.kill("SIGTERM");
        assert.equal(await server.exit(10_000), 0, server.stderr());
        assert.match(server.stderr(), /transfers=1\b/);
      } finally {
        client?.kill("SIGKILL");
        server.kill("SIGKILL");
        rmSync(out, { force: true });
      }
      return Date.now() - t0;
    }

    badLinkTests({ pair: () => pair, size: SIZE, limitMs: LIMIT_MS, dataFlows: "down", run: get });
  },
);
