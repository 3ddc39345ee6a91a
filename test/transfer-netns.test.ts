/**
 * `sockit send` / `sockit recv` across a bad link: two network namespaces on a veth cable (see
 * support/netns.ts), the receiver in one, the sender in the other. A 50 MB file arrives with the
 * same SHA-256 under 10 % random loss (nftables on the receiver's ingress), then under 50 ms of
 * delay (support/delay-link.ts: a userspace TUN forwarder, as the kernel here has no netem). Gated on
 * integrity and a time bound, never on throughput.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

function bytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = 0x9e3779b9;
  for (let i = 0; i + 4 <= n; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeInt32LE(x | 0, i);
  }
  return b;
}

const skip = netnsSkipReason() ?? needs(["ethtool"]);

describe("send/recv between two network namespaces", { skip }, () => {
  let pair: NetnsPair;
  let dir: string;
  let file: string;
  let want: string;
  before(() => {
    pair = netnsPair();
    pair.noOffloads();
    dir = mkdtempSync(join(tmpdir(), "sockit-transfer-netns-"));
    file = join(dir, "fifty.bin");
    const data = bytes(SIZE);
    writeFileSync(file, data);
    want = sha(data);
  });
  after(() => {
    pair?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** recv in the server namespace on `host`, send from the client namespace; both must exit 0. */
  async function transfer(host: string, name: string): Promise<number> {
    const out = join(dir, name);
    rmSync(out, { recursive: true, force: true });
    execFileSync("mkdir", [out]);
    const t0 = Date.now();
    const [rc, ra] = pair.argv(pair.server, [
      process.execPath,
      SOCKIT,
      "recv",
      "--json",
      "--dir",
      out,
      `${host}:0`,
    ]);
    const recv: Child = start(rc, ra);
    let send: Child | undefined;
    try {
      const address = (await recv.line(/"listening":"([^"]+)"/))[1]!;
      const [sc, sa] = pair.argv(pair.client, [process.execPath, SOCKIT, "send", "--json", file, address]);
      send = start(sc, sa);
      const code = await send.exit(LIMIT_MS);
      assert.equal(code, 0, send.stderr());
      assert.equal(await recv.exit(10_000), 0, recv.stderr());
      const line = JSON.parse(send.stdout().trim()) as { status: string; sha256: string; sent: number };
      assert.deepEqual([line.status, line.sha256, line.sent], ["delivered", want, SIZE]);
      assert.equal(sha(readFileSync(join(out, "fifty.bin"))), want);
      assert.ok(!existsSync(join(out, ".fifty.bin.part")));
    } finally {
      send?.kill("SIGKILL");
      recv.kill("SIGKILL");
      rmSync(out, { recursive: true, force: true });
    }
    return Date.now() - t0;
  }

  badLinkTests({
    pair: () => pair,
    size: SIZE,
    limitMs: LIMIT_MS,
    dataFlows: "up",
    run: transfer,
    suffix: ", both sides exit 0",
  });
});
