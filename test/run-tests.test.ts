/**
 * scripts/run-tests.mjs, the runner behind `npm test`: node --test over the given files, then one
 * line saying what was skipped and why; its exit code is node --test's. Each case runs the real
 * script on a small test file written here that guards its tests with test/support/peers.ts;
 * executable stand-ins in a temp directory are the installed peers, SOCKIT_HIDE_PEERS hides them.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

const RUNNER = join(import.meta.dirname, "..", "..", "scripts", "run-tests.mjs");
const PEERS = new URL("./support/peers.js", import.meta.url).href;
const LIMIT = { timeout: 60_000 };

let dir = "";
let bin = "";
let guarded = "";
let failing = "";
let leaking = "";

before(() => {
  dir = mkdtempSync(join(tmpdir(), "sockit-run-tests-"));
  bin = join(dir, "bin");
  mkdirSync(bin);
  for (const p of ["nc", "socat", "xinetd"]) {
    writeFileSync(join(bin, p), "#!/bin/sh\nexit 0\n");
    chmodSync(join(bin, p), 0o755);
  }
  guarded = join(dir, "guarded.test.mjs");
  writeFileSync(
    guarded,
    `
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { needs, peerPath } from ${JSON.stringify(PEERS)};
const runs = (p) => { if (spawnSync(peerPath(p)).status !== 0) throw new Error(p + " failed"); };
test("uses socat", { skip: needs(["socat"]) }, () => runs("socat"));
test("uses socat again", { skip: needs(["socat"]) }, () => runs("socat"));
test("uses nc", { skip: needs(["nc"]) }, () => runs("nc"));
describe("all of xinetd", { skip: needs(["xinetd"]) }, () => {
  test("one", () => runs("xinetd"));
  test("two", () => runs("xinetd"));
});
test("needs nothing", () => {});
`,
  );
  failing = join(dir, "failing.test.mjs");
  writeFileSync(
    failing,
    `import { test } from "node:test";\ntest("fails", () => { throw new Error("no"); });\n`,
  );
  leaking = join(dir, "leaking.test.mjs");
  writeFileSync(
    leaking,
    `import net from "node:net";\nimport { test } from "node:test";\n` +
      `test("passes but leaves a server listening", async () => {\n` +
      `  const s = net.createServer();\n` +
      `  await new Promise((r) => s.listen(0, "127.0.0.1", r));\n` +
      `});\n`,
  );
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the runner with `env` over `files`; bounded. */
async function runner(files: string[], env: Record<string, string>) {
  const base = { ...process.env };
  for (const k of ["SOCKIT_HIDE_PEERS", "SOCKIT_REQUIRE_PEERS"]) delete base[k];
  const c = spawn(process.execPath, [RUNNER, ...files], {
    env: { ...base, PATH: `${bin}:/usr/bin:/bin`, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  c.stdout.on("data", (d: Buffer) => (out += d.toString()));
  c.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => c.kill("SIGKILL"), 50_000);
  const code = await new Promise<number | null>((resolve) => c.on("close", resolve));
  clearTimeout(timer);
  const lines = out.trimEnd().split("\n");
  return { code, out, err, last: lines.at(-1) ?? "" };
}

test("every peer present: all run, exit 0, the summary says nothing was skipped", LIMIT, async () => {
  const r = await runner([guarded], {});
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^# pass 6$/m);
  assert.equal(r.last, "skipped 0 tests");
});

test(
  "hidden peers: their tests are skipped with the reason, exit 0, one summary line counts them",
  LIMIT,
  async () => {
    const r = await runner([guarded], { SOCKIT_HIDE_PEERS: "socat,nc,xinetd" });
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /^# fail 0$/m);
    assert.match(r.out, /^ok \d+ - uses socat # SKIP socat not installed \(apt-get install socat\)/m);
    assert.equal(
      r.last,
      "skipped 3 tests and 1 suite: " +
        "socat not installed (apt-get install socat) [hidden by SOCKIT_HIDE_PEERS: socat] ×2; " +
        "nc not installed (apt-get install netcat-openbsd) [hidden by SOCKIT_HIDE_PEERS: nc] ×1; " +
        "xinetd not installed (apt-get install xinetd) [hidden by SOCKIT_HIDE_PEERS: xinetd] ×1",
    );
  },
);

test(
  "SOCKIT_REQUIRE_PEERS=1: the same tests run and fail with the reason, and the exit code says so",
  LIMIT,
  async () => {
    const r = await runner([guarded], { SOCKIT_HIDE_PEERS: "all", SOCKIT_REQUIRE_PEERS: "1" });
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /^# fail 5$/m, "socat ×2, nc, the two xinetd tests");
    assert.match(r.out, /^# pass 1$/m);
    assert.match(
      r.out,
      /socat not installed \(apt-get install socat\) \[hidden by SOCKIT_HIDE_PEERS: socat\]; SOCKIT_REQUIRE_PEERS=1/,
    );
    assert.equal(r.last, "skipped 0 tests");
  },
);

test("a failing test file: the runner's exit code is node --test's (1)", LIMIT, async () => {
  const r = await runner([failing], {});
  assert.equal(r.code, 1, r.out + r.err);
  assert.equal(r.last, "skipped 0 tests");
});

test(
  "a test file that leaves a server listening fails, naming the handle, and does not hang",
  LIMIT,
  async () => {
    const r = await runner([leaking, guarded], {});
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /leaking\.test\.mjs left resources open after its tests ended: TCPServerWrap \+1/);
    assert.match(r.out, /Server \{"address":"127\.0\.0\.1","family":"IPv4","port":\d+\}/);
    assert.match(r.out, /^# pass 7$/m, "the leaking file's test and the other file's six still pass");
    assert.match(r.out, /^# fail 1$/m);
  },
);
