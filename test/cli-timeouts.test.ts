/**
 * `sockit connect -w` and `-i`: what each one bounds, end to end with the built command.
 *
 * - `-w SECS` bounds connection set-up, and after stdin EOF the wait for the peer's last bytes
 *   (traditional netcat's "timeout for connects and final net reads"): set-up → exit 4, a silent
 *   peer after stdin EOF → close, exit 0. With `-u`, it is how long replies may take.
 * - `-i SECS` bounds any silence, set-up included → exit 4.
 *
 * Set-up is tested over a veth link whose far end silently drops the SYNs (a firewall), in two
 * network namespaces of our own (root, `ip` and `nft` needed: the tests skip otherwise); the
 * rest on loopback against Python peers.
 */
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { spawnPython } from "./support/interop-python-peer.js";
import { type NetnsPair, netnsPair, netnsSkipReason } from "./support/netns.js";
import { type Child, start } from "./support/spawn.js";

const MAIN = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const ENV = { ...process.env, NO_COLOR: "1" };
const LIMIT = { timeout: 30_000 };
/** Generous: a loaded machine starts node slowly; the point is "about SECS", not "never". */
const SLACK_MS = 7000;

// Nothing binds these ports: they exist only in the server namespace, which is ours alone.
/** The server namespace drops every packet to this port (a firewall that eats SYNs). */
const DROPPED = 4001;
/** Nothing listens here and nothing is dropped: the server namespace answers with a reset. */
const CLOSED = 4002;

const SKIP = netnsSkipReason();
let ns: NetnsPair | undefined;

before(() => {
  if (SKIP !== undefined) return;
  ns = netnsPair();
  ns.dropTcpPort(DROPPED);
});

after(() => ns?.close());

/** Runs `sockit ARGS` inside the client namespace. */
function inClient(args: string[]): Child {
  const [cmd, argv] = ns!.argv(ns!.client, [process.execPath, MAIN, ...args]);
  return start(cmd, argv, ENV);
}

/** Waits for exit; resolves [code, elapsed ms since `t0`]. */
async function exitAfter(c: Child, t0: number, ms = 20_000): Promise<[number | null, number]> {
  try {
    const code = await c.exit(ms);
    return [code, performance.now() - t0];
  } finally {
    c.kill("SIGKILL");
  }
}

test(
  "the namespace link works: a port nothing drops answers the SYN with a reset (exit 3 at once)",
  { ...LIMIT, skip: SKIP },
  async () => {
    const t0 = performance.now();
    const c = inClient(["connect", "-w", "5", ns!.serverV4, String(CLOSED)]);
    const [code, ms] = await exitAfter(c, t0);
    assert.equal(code, 3, c.stderr());
    assert.match(c.stderr(), /connection refused \(ECONNREFUSED\)/);
    assert.ok(ms < 5000, `refused after ${ms} ms, not waiting for -w`);
  },
);

test(
  "connect -w 1 over a link that drops the SYN: exit 4 after about 1 s, and the message names -w",
  { ...LIMIT, skip: SKIP },
  async () => {
    const t0 = performance.now();
    const c = inClient(["connect", "-w", "1", ns!.serverV4, String(DROPPED)]);
    const [code, ms] = await exitAfter(c, t0);
    assert.equal(code, 4, c.stderr());
    assert.match(
      c.stderr(),
      new RegExp(
        `^sockit: connect 198\\.51\\.100\\.2:${DROPPED}: connection timed out \\(ETIMEDOUT\\) — ` +
          `not connected within 1 s \\(-w 1\\); is the host up, and is the port open \\(not filtered by a firewall\\)\\?$`,
        "m",
      ),
    );
    assert.ok(ms >= 1000 && ms < 1000 + SLACK_MS, `exited after ${Math.round(ms)} ms`);
  },
);

test(
  "connect -i 1 (no -w) over a link that drops the SYN: silence while connecting counts, exit 4 after about 1 s",
  { ...LIMIT, skip: SKIP },
  async () => {
    const t0 = performance.now();
    const c = inClient(["connect", "-i", "1", ns!.serverV6, String(DROPPED)]);
    const [code, ms] = await exitAfter(c, t0);
    assert.equal(code, 4, c.stderr());
    assert.match(
      c.stderr(),
      new RegExp(
        `^sockit: connect \\[2001:db8::2\\]:${DROPPED}: connection timed out \\(ETIMEDOUT\\) — ` +
          `no answer for 1 s while connecting \\(-i 1\\)`,
        "m",
      ),
    );
    assert.ok(ms >= 1000 && ms < 1000 + SLACK_MS, `exited after ${Math.round(ms)} ms`);
  },
);

test(
  "connect -w 30 -i 1: the shorter limit ends the set-up, and the message names it",
  { ...LIMIT, skip: SKIP },
  async () => {
    const t0 = performance.now();
    const c = inClient(["connect", "-w", "30", "-i", "1", ns!.serverV4, String(DROPPED)]);
    const [code, ms] = await exitAfter(c, t0);
    assert.equal(code, 4, c.stderr());
    assert.match(c.stderr(), /no answer for 1 s while connecting \(-i 1\)/);
    assert.ok(ms >= 1000 && ms < 1000 + SLACK_MS, `exited after ${Math.round(ms)} ms`);
  },
);

test(
  "connect -w 1 after stdin EOF: a peer that goes silent without closing ends the session, exit 0; before EOF -w does not apply",
  LIMIT,
  async () => {
    // the peer answers at once, reads the request to EOF, then neither sends nor closes
    const py = spawnPython(`
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(b"hello\\n")
while c.recv(65536): pass
time.sleep(20)
`);
    let c: Child | undefined;
    try {
      const port = await py.firstLine;
      c = start(process.execPath, [MAIN, "-v", "connect", "-w", "1", "127.0.0.1", port], ENV);
      await c.line(/hello\n/);
      await sleep(1800); // silent for longer than -w while stdin is open: not -w's business
      assert.equal(c.proc.exitCode, null, `exited before stdin EOF: ${c.stderr()}`);
      const t0 = performance.now();
      c.proc.stdin!.end("request\n");
      const [code, ms] = await exitAfter(c, t0);
      assert.equal(code, 0, c.stderr());
      assert.equal(c.stdout(), "hello\n");
      assert.match(
        c.stderr(),
        /sockit: -w 1: nothing from 127\.0\.0\.1:\d+ for 1 s after stdin EOF; closing\n/,
      );
      assert.ok(ms >= 1000 && ms < 1000 + SLACK_MS, `exited ${Math.round(ms)} ms after stdin EOF`);
    } finally {
      c?.kill("SIGKILL");
      await py.close();
    }
  },
);

test(
  "connect -u -w 2: a reply that takes longer than the default 1 s linger still arrives, then exit 0",
  LIMIT,
  async () => {
    const py = spawnPython(`
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
print(u.getsockname()[1], flush=True)
d, a = u.recvfrom(65535)
time.sleep(1.3)
u.sendto(b"late " + d, a)
time.sleep(20)
`);
    let c: Child | undefined;
    try {
      const port = await py.firstLine;
      const t0 = performance.now();
      c = start(process.execPath, [MAIN, "connect", "-u", "-w", "2", "127.0.0.1", port], ENV);
      c.proc.stdin!.end("ping");
      const [code, ms] = await exitAfter(c, t0);
      assert.equal(code, 0, c.stderr());
      assert.equal(c.stdout(), "late ping");
      assert.ok(ms >= 3300 && ms < 3300 + SLACK_MS, `exited after ${Math.round(ms)} ms`);
    } finally {
      c?.kill("SIGKILL");
      await py.close();
    }
  },
);
