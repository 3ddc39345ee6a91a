/**
 * `sockit serve ftp` and `sockit ftp` as commands: the argument → plan tables (pure), the server
 * as a child process (--json, the access it announces, SIGTERM → exit 0 with its counters), usage
 * errors (exit 1, the flag named), the progress bar, and a disk that fills mid-upload (452, no
 * file under the final name).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseFtpTarget, planServeFtp, type ServeFtpFlags } from "../src/cli/commands/ftp.js";
import { UsageError } from "../src/cli/exit.js";
import { serveFtp } from "../src/services/ftp/index.js";
import { SOCKIT, sockit } from "./support/sockit-serve.js";
import { start } from "./support/spawn.js";

describe("sockit ftp: arguments → plan", () => {
  test("targets: URLs (user, password, port, %-escapes) and HOST[:PORT]", () => {
    const table: [string, ReturnType<typeof parseFtpTarget>][] = [
      [
        "ftp://127.0.0.1:2121/a%20b.bin",
        { address: "127.0.0.1:2121", user: undefined, password: undefined, path: "/a b.bin" },
      ],
      ["ftp://bob:p%40ss@[::1]/", { address: "[::1]:21", user: "bob", password: "p@ss", path: undefined }],
      ["localhost", { address: "localhost:21", user: undefined, password: undefined, path: undefined }],
      ["[::1]:2121", { address: "[::1]:2121", user: undefined, password: undefined, path: undefined }],
    ];
    for (const [text, want] of table) assert.deepEqual(parseFtpTarget(text), want, text);
    for (const bad of ["ftp://h/a%00b", "ftp://h/a%0d%0aDELE%20x", "h:99999"])
      assert.throws(() => parseFtpTarget(bad), UsageError, bad);
  });

  test("serve ftp: defaults, accounts, passive range; bad values are usage errors naming the flag", () => {
    const p = planServeFtp(undefined, {}, {});
    assert.equal(p.address, "127.0.0.1:2121");
    assert.equal(p.root, ".");
    assert.equal(p.anonymousWrite, false);
    const q = planServeFtp(
      "/srv",
      { user: ["alice:a:b"], write: true, passivePorts: "50000-50010" },
      { host: "::1", port: "0", idle: "5" },
    );
    assert.deepEqual(q.users, { alice: "a:b" });
    assert.equal(q.address, "[::1]:0");
    assert.deepEqual(q.passivePorts, [50000, 50010]);
    assert.equal(q.idleMs, 5000);
    const t = planServeFtp(undefined, { tlsRequired: true, cert: "c.pem", key: "k.pem" }, {});
    assert.deepEqual(t.tlsFlags, { tls: true, cert: "c.pem", key: "k.pem" }); // --tls-required implies --tls
    assert.equal(t.tlsRequired, true);
    assert.equal(planServeFtp(undefined, {}, {}).tlsFlags, undefined);
    for (const [o, parent, re] of <[ServeFtpFlags, Record<string, string>, RegExp][]>[
      [{ user: ["nopassword"] }, {}, /--user must be NAME:PASSWORD/],
      [{ user: ["anonymous:x"] }, {}, /anonymous login/],
      [{ passivePorts: "80-90" }, {}, /--passive-ports/],
      [{ passivePorts: "6000-5000" }, {}, /--passive-ports/],
      [{}, { port: "echo=7" }, /--port for serve ftp/],
      [{ maxLine: "10" }, {}, /--max-line/],
      [{ cert: "c.pem", key: "k.pem" }, {}, /--cert and --key need --tls/],
      [{ tls: true, cert: "c.pem" }, {}, /give both --cert FILE and --key FILE/],
    ])
      assert.throws(() => planServeFtp(undefined, o, parent), re);
  });
});

describe("sockit serve ftp as a command", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "sockit-cliftp-"));
    writeFileSync(join(dir, "a.txt"), "alpha\n");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test(
    "--json says where and what access; sockit ftp ls works against it; SIGTERM exits 0 with counters",
    { timeout: 30_000 },
    async () => {
      const child = start(process.execPath, [
        SOCKIT,
        "serve",
        "ftp",
        dir,
        "--port",
        "0",
        "--json",
        "--user",
        "alice:pw",
      ]);
      try {
        const [line] = await child.line(/^\{"listening".*\}$/m, 10_000);
        const j = JSON.parse(line) as { listening: string; access: string; try: string[] };
        assert.match(j.listening, /^127\.0\.0\.1:\d+$/);
        assert.equal(j.access, "anonymous read-only; read-write for alice");
        const r = await sockit(["ftp", "ls", `ftp://${j.listening}/`]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /a\.txt\r?\n/);
      } finally {
        child.kill("SIGTERM");
      }
      assert.equal(await child.exit(10_000), 0, child.stderr());
      assert.match(child.stderr(), /counters: sessions=1 refused=0 bad-passwords=0 transfers=1/);
    },
  );

  test("usage errors exit 1 and name the flag; the RFC services' flags are refused, not ignored", async () => {
    for (const [args, re] of [
      [["serve", "ftp", "--user", "x"], /--user must be NAME:PASSWORD/],
      [["serve", "ftp", "--port-base", "9000"], /--port-base is an option of the RFC services/],
      [["serve", "ftp", "--udp"], /--udp is an option of the RFC services/],
      [["ftp", "get", "127.0.0.1:1"], /which file\?/],
    ] as const) {
      const r = await sockit(args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });

  test("a directory that does not exist is an ENOENT error saying what to check (exit 6)", async () => {
    const r = await sockit(["serve", "ftp", join(dir, "nope"), "--port", "0"]);
    assert.equal(r.code, 6);
    assert.match(
      r.stderr,
      /serve .*nope: no such file or directory \(ENOENT\) — the directory to serve must exist/,
    );
  });

  test("--progress draws the bar with the size and rate on stderr", { timeout: 30_000 }, async () => {
    writeFileSync(join(dir, "b.bin"), randomBytes(3 * 1024 * 1024));
    await using srv = await serveFtp({ root: dir, address: "127.0.0.1:0", dataTimeoutMs: 5000 });
    const out = join(dir, "b-copy.bin");
    const r = await sockit(["ftp", "get", `ftp://${srv.address}/b.bin`, "-o", out, "--progress"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /100% 3\.15 MB\/3\.15 MB \| [\d.]+ \S+\/s/);
  });
});

describe("a full disk during an upload", () => {
  let mnt: string | undefined;
  let why: string | false = false;
  before(() => {
    const d = mkdtempSync(join(tmpdir(), "sockit-ftpfull-"));
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", d], { stdio: "ignore" });
      mnt = d;
    } catch {
      rmSync(d, { recursive: true, force: true });
      why = "cannot mount a small tmpfs here (needs root)";
    }
  });
  after(() => {
    if (mnt === undefined) return;
    execFileSync("umount", [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  test(
    "ENOSPC is answered 452, the client exits non-zero, and nothing is left under the final name",
    { timeout: 30_000 },
    async (t) => {
      if (mnt === undefined) return t.skip(String(why));
      mkdirSync(join(mnt, "in"));
      const src = join(tmpdir(), `sockit-ftpfull-src-${process.pid}.bin`);
      writeFileSync(src, randomBytes(3 * 1024 * 1024));
      try {
        await using srv = await serveFtp({ root: mnt, address: "127.0.0.1:0", users: { u: "p" } });
        const r = await sockit(["ftp", "put", srv.address, src, "in/big.bin", "--user", "u:p"]);
        assert.equal(r.code, 6, r.stderr);
        assert.match(r.stderr, /no space left on device \(ENOSPC\) — the server answered 452/);
        assert.deepEqual(readdirSync(join(mnt, "in")), []);
      } finally {
        rmSync(src, { force: true });
      }
    },
  );
});
