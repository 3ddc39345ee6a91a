/**
 * `sockit send` / `sockit recv` across a bad link: two network namespaces on a veth cable (see
 * support/netns.ts), the receiver in one, the sender in the other. A 50 MB file arrives with the
 * same SHA-256 under 10 % random loss (nftables on the receiver's ingress), then under 50 ms of
 * delay (a userspace TUN forwarder, tunnetem.py, as the kernel here has no netem). Gated on
 * integrity and a time bound, never on throughput.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { type NetnsPair, netnsPair, netnsSkipReason } from "./support/netns.js";
import { SOCKIT } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";

const SIZE = 50_000_000;
const LIMIT_MS = 150_000;
/** The fault tools beside the repository (FAULTS.md), or where SOCKIT_TUNNETEM says. */
const TUNNETEM =
  process.env.SOCKIT_TUNNETEM ??
  fileURLToPath(new URL("../../../shared/netfault/tunnetem.py", import.meta.url));
const TUN_NET = "198.18.0.0/24";

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

const skip =
  netnsSkipReason() ??
  (spawnSync("ethtool", ["--version"], { stdio: "ignore" }).status === 0
    ? false
    : "ethtool not installed (apt-get install ethtool)");

/** The veth device of a namespace. */
function vethOf(ns: string): string {
  const out = execFileSync("ip", ["-n", ns, "-o", "link", "show", "type", "veth"], {
    encoding: "utf8",
    timeout: 5000,
  });
  const m = /^\d+: ([^@:]+)/.exec(out);
  if (m === null) throw new Error(`no veth in ${ns}: ${out}`);
  return m[1]!;
}

describe("send/recv between two network namespaces", { skip }, () => {
  let pair: NetnsPair;
  let dir: string;
  let file: string;
  let want: string;
  before(() => {
    pair = netnsPair();
    for (const ns of [pair.client, pair.server])
      execFileSync(
        "ip",
        ["netns", "exec", ns, "ethtool", "-K", vethOf(ns), "tso", "off", "gso", "off", "gro", "off"],
        {
          stdio: "ignore",
          timeout: 5000,
        },
      );
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

  test(
    "50 MB under 10 % random loss arrives intact (same SHA-256), both sides exit 0",
    { timeout: LIMIT_MS + 30_000 },
    async () => {
      const dev = vethOf(pair.server);
      execFileSync("ip", ["netns", "exec", pair.server, "nft", "-f", "-"], {
        input: `table netdev xfer_loss {
  chain in {
    type filter hook ingress device "${dev}" priority 0; policy accept;
    numgen random mod 1000 < 100 counter drop
  }
}
`,
        timeout: 5000,
      });
      try {
        const ms = await transfer(pair.serverV4, "loss");
        const counters = execFileSync(
          "ip",
          ["netns", "exec", pair.server, "nft", "list", "table", "netdev", "xfer_loss"],
          {
            encoding: "utf8",
            timeout: 5000,
          },
        );
        const dropped = Number(/counter packets (\d+)/.exec(counters)?.[1] ?? 0);
        assert.ok(dropped > 100, `the loss rule dropped packets (${dropped}) in ${ms} ms`);
      } finally {
        spawnSync("ip", ["netns", "exec", pair.server, "nft", "delete", "table", "netdev", "xfer_loss"], {
          stdio: "ignore",
          timeout: 5000,
        });
      }
    },
  );

  test(
    "50 MB under 50 ms of delay (userspace TUN forwarder) arrives intact",
    { timeout: LIMIT_MS + 30_000, skip: existsSync(TUNNETEM) ? false : `${TUNNETEM} not found` },
    async () => {
      const guarded =
        execFileSync("ip", ["route", "show", "type", "unreachable", TUN_NET], { encoding: "utf8" }).trim() ===
        "";
      if (guarded) execFileSync("ip", ["route", "add", "unreachable", TUN_NET]);
      const [tc, ta] = pair.argv(pair.client, [
        "python3",
        TUNNETEM,
        "--ns-b",
        pair.server,
        "--delay",
        "50",
        "--only",
        "ab",
        "--limit",
        "20000",
        "--seconds",
        String(LIMIT_MS / 1000 + 20),
        "--seed",
        "1",
      ]);
      const tun = start(tc, ta);
      try {
        await new Promise<void>((resolve, reject) => {
          const until = Date.now() + 10_000;
          const check = () => {
            if (/ready/.test(tun.stdout() + tun.stderr())) resolve();
            else if (Date.now() > until || tun.proc.exitCode !== null)
              reject(new Error(`tunnetem did not start: ${tun.stderr()}`));
            else setTimeout(check, 50);
          };
          check();
        });
        for (const [ns, dev, local, peer] of [
          [pair.client, "tunA", "198.18.0.1", "198.18.0.2"],
          [pair.server, "tunB", "198.18.0.2", "198.18.0.1"],
        ] as const) {
          execFileSync("ip", ["-n", ns, "addr", "add", local, "peer", peer, "dev", dev], { timeout: 5000 });
          execFileSync("ip", ["-n", ns, "link", "set", dev, "txqueuelen", "5000", "up"], { timeout: 5000 });
        }
        // Python as the oracle: a connect to a closed port takes one round trip (SYN, RST)
        const probe = spawnSync(
          "ip",
          [
            "netns",
            "exec",
            pair.client,
            "python3",
            "-c",
            "import socket,time\ns=socket.socket()\nt=time.monotonic()\ns.connect_ex(('198.18.0.2',9))\nprint((time.monotonic()-t)*1000)",
          ],
          { encoding: "utf8", timeout: 10_000 },
        );
        const rtt = Number(probe.stdout.trim());
        assert.ok(rtt >= 45, `the link delays: connect took ${rtt} ms (${probe.stderr})`);
        await transfer("198.18.0.2", "delay");
        tun.kill("SIGTERM");
        await tun.exit(10_000);
        const stats = JSON.parse(/\{"stats".*\}/.exec(tun.stdout())?.[0] ?? "{}") as {
          stats?: { ab?: { rx: number } };
        };
        assert.ok(
          (stats.stats?.ab?.rx ?? 0) > SIZE / 1500,
          `the data went through the delaying link: ${tun.stdout()}`,
        );
      } finally {
        tun.kill("SIGTERM");
        await tun.exit(10_000).catch(() => tun.kill("SIGKILL"));
        if (guarded) spawnSync("ip", ["route", "del", "unreachable", TUN_NET], { stdio: "ignore" });
      }
    },
  );
});
