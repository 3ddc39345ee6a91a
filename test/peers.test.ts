/**
 * test/support/peers.ts: optional system peers are looked up on PATH, /usr/sbin and /sbin; a
 * missing one skips with its Debian package; SOCKIT_HIDE_PEERS hides installed ones;
 * SOCKIT_REQUIRE_PEERS=1 turns the skip into a failure with the same reason. Executable files in
 * a temp directory stand for installed programs; an empty directory is a PATH without them.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { missingPeers, needs, type PeerProgram, peerPath } from "./support/peers.js";

let dir = "";
let bin = "";
let empty = "";

before(() => {
  dir = mkdtempSync(join(tmpdir(), "sockit-peers-"));
  bin = join(dir, "bin");
  empty = join(dir, "empty");
  mkdirSync(bin);
  mkdirSync(empty);
  for (const p of ["nc", "socat", "ncat"]) {
    writeFileSync(join(bin, p), `#!/bin/sh\necho "${p} here"\n`);
    chmodSync(join(bin, p), 0o755);
  }
  writeFileSync(join(bin, "xinetd"), "not executable\n");
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("a program on PATH is there: needs() is false and peerPath() is the file, which runs", () => {
  const env = { PATH: `${empty}:${bin}` };
  assert.equal(needs(["nc", "socat"], { env }), false);
  assert.equal(missingPeers(["nc"], { env }), undefined);
  const path = peerPath("socat", { env });
  assert.equal(path, join(bin, "socat"));
  assert.equal(spawnSync(path, { encoding: "utf8" }).stdout, "socat here\n");
});

test("a program on neither PATH, /usr/sbin nor /sbin skips with its Debian package", () => {
  const env = { PATH: empty };
  const gone = (["nc", "socat", "ncat"] as const).filter(
    (p) => !existsSync(`/usr/sbin/${p}`) && !existsSync(`/sbin/${p}`),
  );
  assert.ok(gone.length > 0, "nc, socat and ncat live in /usr/bin on Debian");
  for (const p of gone) {
    const pkg = { nc: "netcat-openbsd", socat: "socat", ncat: "ncat" }[p];
    assert.equal(needs([p], { env }), `${p} not installed (apt-get install ${pkg})`);
    assert.throws(() => peerPath(p, { env }), { message: `${p} not installed (apt-get install ${pkg})` });
  }
  assert.equal(
    needs(["nc", "socat", "nc"], { env }),
    "nc, socat not installed (apt-get install netcat-openbsd socat)",
    "one reason, one apt-get line, each program once",
  );
});

test("a file that is not executable does not count as installed", () => {
  const env = { PATH: bin };
  const reason = needs(["xinetd"], { env });
  if (existsSync("/usr/sbin/xinetd") || existsSync("/sbin/xinetd")) {
    assert.equal(reason, false, "found in /usr/sbin after PATH");
    assert.notEqual(peerPath("xinetd", { env }), join(bin, "xinetd"));
  } else {
    assert.equal(reason, "xinetd not installed (apt-get install xinetd)");
  }
});

test(
  "rdate is found in /usr/sbin or /sbin with a PATH that lacks them",
  { skip: needs(["rdate"], { env: { PATH: "" } }) },
  () => {
    const path = peerPath("rdate", { env: { PATH: empty } });
    assert.ok(["/usr/sbin/rdate", "/sbin/rdate"].includes(path), path);
    assert.equal(needs(["rdate"], { env: { PATH: empty } }), false);
  },
);

test("SOCKIT_HIDE_PEERS hides installed programs by name, or all of them", () => {
  const hide = (v: string) => ({ PATH: bin, SOCKIT_HIDE_PEERS: v });
  assert.equal(
    needs(["socat"], { env: hide("socat") }),
    "socat not installed (apt-get install socat) [hidden by SOCKIT_HIDE_PEERS: socat]",
  );
  assert.equal(needs(["nc"], { env: hide("socat") }), false, "only what is named");
  assert.equal(
    needs(["nc", "ncat"], { env: hide(" nc, ncat ") }),
    "nc, ncat not installed (apt-get install netcat-openbsd ncat) [hidden by SOCKIT_HIDE_PEERS: nc, ncat]",
  );
  for (const p of ["nc", "socat", "ncat"] as const) assert.notEqual(needs([p], { env: hide("all") }), false);
  assert.throws(() => peerPath("nc", { env: hide("all") }), /^Error: nc not installed .*\[hidden by/);
  assert.throws(
    () => needs(["nc"], { env: hide("netcat") }),
    /SOCKIT_HIDE_PEERS: "netcat" is not a peer program/,
  );
});

test("SOCKIT_REQUIRE_PEERS=1: needs() runs the test and peerPath() fails it with the skip's reason", () => {
  const env = { PATH: bin, SOCKIT_HIDE_PEERS: "socat" };
  const reason = needs(["socat"], { env });
  assert.equal(typeof reason, "string");
  const strict = { ...env, SOCKIT_REQUIRE_PEERS: "1" };
  assert.equal(needs(["socat"], { env: strict }), false);
  assert.throws(
    () => peerPath("socat", { env: strict }),
    (e: Error) => e.message.startsWith(`${reason as string}; SOCKIT_REQUIRE_PEERS=1`),
  );
  assert.equal(peerPath("nc", { env: strict }), join(bin, "nc"), "a present peer still resolves");
  assert.equal(needs(["socat"], { env: { ...env, SOCKIT_REQUIRE_PEERS: "0" } }), reason, "=0 is off");
});

test("python3 is required, not an optional peer: asking for it throws", () => {
  assert.throws(() => needs(["python3" as PeerProgram]), /python3 is required/);
});
