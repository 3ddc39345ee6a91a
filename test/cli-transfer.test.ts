/**
 * `sockit send` / `sockit recv` end to end, both as child processes on loopback: files and
 * directories arrive with the same SHA-256; every rule of the receiver refuses what it must (a
 * hand-written sender speaks the protocol for what the real sender would never send); a full
 * disk ends in ENOSPC with the `.part` kept; a transfer killed mid-way (SIGKILL of either side, a
 * reset) resumes and sends only the rest.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { dial, listen } from "../src/net/index.js";
import { partName } from "../src/services/transfer/protocol.js";
import { waitFor } from "./support/kit.js";
import { needs } from "./support/peers.js";
import { SOCKIT } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";

const LIMIT = { timeout: 60_000 };
const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const shaFile = (p: string) => sha(readFileSync(p));

/** Random-looking but reproducible bytes (no /dev/urandom: a failure can be replayed). */
function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed * 2654435761;
  for (let i = 0; i + 4 <= n; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeInt32LE(x | 0, i);
  }
  for (let i = n - (n % 4); i < n; i++) b[i] = i & 0xff;
  return b;
}

interface Recv {
  child: Child;
  address: string;
  /** The JSON lines it printed after "listening". */
  entries(): Array<Record<string, unknown>>;
}

async function startRecv(args: readonly string[], at = "127.0.0.1:0"): Promise<Recv> {
  const child = start(process.execPath, [SOCKIT, "recv", "--json", ...args, at]);
  let address: string;
  try {
    address = (await child.line(/"listening":"([^"]+)"/))[1]!;
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return {
    child,
    address,
    entries: () =>
      child
        .stdout()
        .split("\n")
        .filter((l) => l.startsWith("{") && !l.includes('"listening"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

interface SendRun {
  code: number | null;
  stdout: string;
  stderr: string;
  entries: Array<Record<string, unknown>>;
}

function startSend(args: readonly string[]): Child {
  return start(process.execPath, [SOCKIT, "send", "--json", ...args]);
}

async function finish(c: Child, ms = 30_000): Promise<SendRun> {
  const code = await c.exit(ms);
  const stdout = c.stdout();
  return {
    code,
    stdout,
    stderr: c.stderr(),
    entries: stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const sendFiles = (args: readonly string[]) => finish(startSend(args));

/**
 * A sender written by hand: the lines it sends and the receiver's answers, in order (a string
 * step that is a message waits for the answer; a Buffer step does not). With `hello` XFER/2, the
 * receiver's answer to the hello comes first.
 */
async function rawSession(
  address: string,
  steps: ReadonlyArray<string | Buffer>,
  hello = "XFER/1",
): Promise<string[]> {
  const conn = await dial("tcp", address, { timeout: 5000 });
  const answers: string[] = [];
  try {
    for (const s of [`${hello}\n`, ...steps]) {
      await conn.write(s);
      if (typeof s === "string" && /^(FILE|DIR|END|DATA|SHA256|XFER\/2)/.test(s)) {
        const line = await conn.readLine({ signal: AbortSignal.timeout(10_000) });
        answers.push(line === null ? "<EOF>" : line.toString().trimEnd());
      }
    }
  } finally {
    await conn.close();
  }
  return answers;
}

function tree(dir: string, base = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(dir, base), { withFileTypes: true })) {
    const rel = base === "" ? e.name : `${base}/${e.name}`;
    if (e.isDirectory()) Object.assign(out, { [`${rel}/`]: "dir" }, tree(dir, rel));
    else out[rel] = shaFile(join(dir, rel));
  }
  return out;
}

describe("sockit send / recv", () => {
  let root: string;
  let n = 0;
  /** A fresh empty directory for one test. */
  const fresh = (name: string) => {
    const d = join(root, `${name}-${n++}`);
    mkdirSync(d, { recursive: true });
    return d;
  };
  before(() => {
    root = mkdtempSync(join(tmpdir(), "sockit-transfer-"));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test(
    "two files (one empty) arrive with the same SHA-256; both sides exit 0 and no .part is left",
    LIMIT,
    async () => {
      const src = fresh("src");
      const dst = fresh("dst");
      writeFileSync(join(src, "a.bin"), bytes(3_000_017));
      writeFileSync(join(src, "empty"), "");
      const r = await startRecv(["--dir", dst]);
      const s = await sendFiles([join(src, "a.bin"), join(src, "empty"), r.address]);
      assert.equal(s.code, 0, s.stderr);
      assert.equal(await r.child.exit(), 0, r.child.stderr());
      assert.deepEqual(tree(dst), tree(src));
      assert.deepEqual(
        s.entries.map((e) => [e.path, e.status, e.sent, e.sha256]),
        [
          ["a.bin", "delivered", 3_000_017, shaFile(join(src, "a.bin"))],
          ["empty", "delivered", 0, sha("")],
        ],
      );
      assert.deepEqual(
        r.entries().map((e) => [e.path, e.status, e.received]),
        [
          ["a.bin", "saved", 3_000_017],
          ["empty", "saved", 0],
        ],
      );
    },
  );

  test(
    "-x: the sender hex-dumps the protocol's bytes (hello, header, data, END) on stderr",
    LIMIT,
    async () => {
      const src = fresh("src");
      writeFileSync(join(src, "x.txt"), "hi\n");
      const r = await startRecv(["--dir", fresh("dst")]);
      const s = await sendFiles(["-x", join(src, "x.txt"), r.address]);
      assert.equal(s.code, 0, s.stderr);
      assert.equal(await r.child.exit(), 0);
      // version 2: no hash in the header; the SHA-256 of what went follows the data
      for (const text of ["|XFER/2.|", "|FILE 3 - x.txt.|", "|DATA 0.|", "|hi.|", "|SHA256 ", "|END.|"])
        assert.ok(s.stderr.includes(text), text);
    },
  );

  test(
    "--hash-first speaks version 1: XFER/1, the SHA-256 in the header, no SHA256 line",
    LIMIT,
    async () => {
      const src = fresh("src");
      const dst = fresh("dst");
      writeFileSync(join(src, "x.txt"), "hi\n");
      const r = await startRecv(["--dir", dst]);
      const s = await sendFiles(["-x", "--hash-first", join(src, "x.txt"), r.address]);
      assert.equal(s.code, 0, s.stderr);
      assert.equal(await r.child.exit(), 0);
      for (const text of ["|XFER/1.|", `|FILE 3 ${sha("hi\n").slice(0, 8)}`, "|DATA 0.|", "|hi.|", "|END.|"])
        assert.ok(s.stderr.includes(text), text);
      assert.ok(!s.stderr.includes("|SHA256 "), "no trailer in version 1");
      assert.equal(readFileSync(join(dst, "x.txt"), "utf8"), "hi\n");
    },
  );

  test(
    "by default the sender does not read a file before it sends it: FILE <size> -, the data, then SHA256 of it",
    LIMIT,
    async () => {
      const src = fresh("src");
      const data = bytes(300_000, 21);
      writeFileSync(join(src, "f"), data);
      const ln = await listen("tcp", "127.0.0.1:0");
      try {
        // a receiver written by hand: records what the sender says, answers as version 2
        const heard = (async () => {
          const c = await ln.accept();
          const line = async () => String(await c.readLine({ signal: AbortSignal.timeout(10_000) }));
          try {
            const lines = [await line()];
            await c.write("XFER/2\n");
            lines.push(await line());
            await c.write(`OK 0 ${sha("")}\n`);
            lines.push(await line());
            const got = await c.readExactly(data.length, { signal: AbortSignal.timeout(10_000) });
            lines.push(await line());
            await c.write(`ACK ${sha(got)}\n`);
            lines.push(await line());
            await c.write("BYE\n");
            return { lines, got };
          } finally {
            await c.close();
          }
        })();
        const s = await sendFiles([join(src, "f"), ln.address]);
        const { lines, got } = await heard;
        assert.deepEqual(lines, [
          "XFER/2\n",
          `FILE ${data.length} - f\n`,
          "DATA 0\n",
          `SHA256 ${sha(data)}\n`,
          "END\n",
        ]);
        assert.ok(got.equals(data));
        assert.equal(s.code, 0, s.stderr);
        assert.deepEqual([s.entries[0]!.status, s.entries[0]!.sha256], ["delivered", sha(data)]);
      } finally {
        await ln.close();
      }
    },
  );

  test(
    "a receiver of version 1 only: the sender says to use --hash-first (EPROTO, exit 6)",
    LIMIT,
    async () => {
      const src = fresh("src");
      writeFileSync(join(src, "f"), "old peer\n");
      const ln = await listen("tcp", "127.0.0.1:0");
      try {
        // what a receiver of version 1 answers to any other hello, before it closes
        const old = (async () => {
          const c = await ln.accept();
          try {
            const hello = String(await c.readLine());
            if (hello !== "XFER/1\n")
              await c.write("NO EPROTO expected XFER/1: is the peer a sockit sender?\n");
            return hello;
          } finally {
            await c.close();
          }
        })();
        const s = await sendFiles([join(src, "f"), ln.address]);
        assert.equal(await old, "XFER/2\n");
        assert.equal(s.code, 6, s.stderr);
        assert.match(s.stderr, /EPROTO.*does not speak XFER\/2.*--hash-first/);
      } finally {
        await ln.close();
      }
    },
  );

  test(
    "the receiver speaks version 2: a file with its SHA-256 after the data is saved; a wrong one is EBADMSG; FILE - in version 1 is EPROTO",
    LIMIT,
    async () => {
      const dst = fresh("dst");
      let r = await startRecv(["--dir", dst]);
      let answers = await rawSession(
        r.address,
        [
          "FILE 5 - good\n",
          Buffer.from("DATA 0\nhello"),
          `SHA256 ${sha("hello")}\n`,
          "FILE 5 - bad\n",
          Buffer.from("DATA 0\nhellO"),
          `SHA256 ${sha("hello")}\n`,
          "END\n",
        ],
        "XFER/2",
      );
      assert.deepEqual(
        answers.map((a) => a.split(" ").slice(0, 2).join(" ")),
        ["XFER/2", "OK 0", `ACK ${sha("hello")}`, "OK 0", "NO EBADMSG", "BYE"],
      );
      assert.equal(await r.child.exit(), 6);
      assert.deepEqual(readdirSync(dst), ["good"], "no bad, no .part");
      assert.equal(readFileSync(join(dst, "good"), "utf8"), "hello");

      r = await startRecv(["--dir", dst]);
      answers = await rawSession(r.address, ["FILE 5 - other\n"]);
      assert.match(answers[0]!, /^NO EPROTO .*XFER\/2/);
      assert.equal(await r.child.exit(), 6);
      assert.ok(!existsSync(join(dst, "other")));
    },
  );

  test(
    "version 2 and a file of that name already there: the receiver asks HASH; identical is HAVE, different needs --force",
    LIMIT,
    async () => {
      const src = fresh("src");
      const dst = fresh("dst");
      writeFileSync(join(dst, "same"), "hello");
      writeFileSync(join(dst, "diff"), "HELLO");
      const r = await startRecv(["--dir", dst]);
      const answers = await rawSession(
        r.address,
        [
          "FILE 5 - same\n",
          `FILE 5 ${sha("hello")} same\n`,
          "FILE 5 - diff\n",
          `FILE 5 ${sha("hello")} diff\n`,
          "END\n",
        ],
        "XFER/2",
      );
      assert.deepEqual(
        answers.map((a) => a.split(" ").slice(0, 2).join(" ")),
        ["XFER/2", "HASH", "HAVE", "HASH", "NO EEXIST", "BYE"],
      );
      assert.equal(await r.child.exit(), 6);
      assert.equal(readFileSync(join(dst, "diff"), "utf8"), "HELLO");

      // the real sender answers HASH with the header of version 1 and goes on
      writeFileSync(join(src, "same"), "hello");
      writeFileSync(join(src, "new"), "fresh");
      const r2 = await startRecv(["--dir", dst]);
      const s = await sendFiles(["-x", join(src, "same"), join(src, "new"), r2.address]);
      assert.equal(s.code, 0, s.stderr);
      assert.deepEqual(
        s.entries.map((e) => [e.path, e.status]),
        [
          ["same", "had"],
          ["new", "delivered"],
        ],
      );
      assert.ok(
        s.stderr.includes(`|FILE 5 ${sha("hello").slice(0, 8)}`),
        "same: the header again, with the hash",
      );
      assert.equal(await r2.child.exit(), 0);
      assert.equal(readFileSync(join(dst, "new"), "utf8"), "fresh");
    },
  );

  test("over IPv6: a file reaches a receiver on [::1]", LIMIT, async () => {
    const src = fresh("src");
    const dst = fresh("dst");
    writeFileSync(join(src, "six"), bytes(100_000, 6));
    const r = await startRecv(["--dir", dst], "[::1]:0");
    assert.match(r.address, /^\[::1\]:\d+$/);
    const s = await sendFiles([join(src, "six"), r.address]);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(await r.child.exit(), 0);
    assert.equal(shaFile(join(dst, "six")), shaFile(join(src, "six")));
  });

  test(
    "-r: a directory tree (nested, spaces and non-ASCII names, an empty dir) arrives identical",
    LIMIT,
    async () => {
      const src = fresh("src");
      const dst = fresh("dst");
      const top = join(src, "photos 2026");
      mkdirSync(join(top, "été/deep/er"), { recursive: true });
      mkdirSync(join(top, "empty"));
      writeFileSync(join(top, "a.jpg"), bytes(200_000, 2));
      writeFileSync(join(top, "été/b c.txt"), "hello\n");
      writeFileSync(join(top, "été/deep/er/z"), bytes(70_000, 3));
      writeFileSync(join(src, "loose.txt"), "loose\n");
      const r = await startRecv(["--dir", dst]);
      const s = await sendFiles(["-r", top, join(src, "loose.txt"), r.address]);
      assert.equal(s.code, 0, s.stderr);
      assert.equal(await r.child.exit(), 0, r.child.stderr());
      assert.deepEqual(tree(dst), tree(src));
    },
  );

  test("recv with a --dir that does not exist fails before listening (ENOENT, exit 6)", LIMIT, async () => {
    const c = start(process.execPath, [SOCKIT, "recv", "--dir", join(root, "no-such-dir"), "127.0.0.1:0"]);
    assert.equal(await c.exit(), 6);
    assert.doesNotMatch(c.stdout(), /listening/);
    assert.match(
      c.stderr(),
      /no-such-dir: no such file or directory \(ENOENT\) — --dir must name an existing directory/,
    );
  });

  test("--idle: a sender silent after its hello is given up on (ETIMEDOUT, exit 4)", LIMIT, async () => {
    const r = await startRecv(["--dir", fresh("dst"), "--idle", "1"]);
    const conn = await dial("tcp", r.address, { timeout: 5000 });
    try {
      await conn.write("XFER/1\n");
      const t0 = Date.now();
      assert.equal(await r.child.exit(10_000), 4);
      assert.ok(Date.now() - t0 >= 900, "not before the idle time");
      assert.match(r.child.stderr(), /ETIMEDOUT.*silent for 1 s/);
    } finally {
      await conn.close();
    }
  });

  test("a directory without -r is refused before connecting (EISDIR, exit 6)", LIMIT, async () => {
    const src = fresh("src");
    const s = await sendFiles([src, "127.0.0.1:9"]);
    assert.equal(s.code, 6);
    assert.match(s.stderr, /EISDIR.*-r/);
  });

  test(
    "the receiver refuses .., separators, control characters, names over 255 bytes, absolute paths",
    LIMIT,
    async () => {
      const dst = fresh("dst");
      const h = sha("x");
      const r = await startRecv(["--dir", dst]);
      const names = [
        "..",
        "../escape",
        "/etc/passwd",
        "a\\b",
        "bell\u0007",
        "esc\u001b[2J",
        "nul\u0000x",
        "x".repeat(256),
        "é".repeat(128),
        "a//b",
        ".",
      ];
      const answers = await rawSession(r.address, [
        ...names.map((nm) => `FILE 1 ${h} ${nm}\n`),
        `DIR ../up\n`,
        "END\n",
      ]);
      assert.deepEqual(
        answers.map((a) => a.split(" ").slice(0, 2).join(" ")),
        [
          "NO EINVAL",
          "NO EINVAL",
          "NO EINVAL",
          "NO EINVAL",
          "NO EINVAL",
          "NO EINVAL",
          "NO EINVAL",
          "NO ENAMETOOLONG",
          "NO ENAMETOOLONG",
          "NO EINVAL",
          "NO EINVAL",
          "NO EINVAL",
          "BYE",
        ],
      );
      assert.equal(await r.child.exit(), 6, "a refused entry makes recv exit non-zero");
      assert.deepEqual(readdirSync(dst), []);
      assert.ok(!existsSync(join(root, "escape")) && !existsSync(join(dst, "..", "up")));
    },
  );

  test(
    "a header line over the maximum size is a protocol error: NO EPROTO, and the receiver ends",
    LIMIT,
    async () => {
      const dst = fresh("dst");
      const r = await startRecv(["--dir", dst]);
      const answers = await rawSession(r.address, [`FILE 1 ${sha("x")} ${"d/".repeat(3000)}x\n`]);
      assert.match(answers[0]!, /^NO EPROTO /);
      assert.notEqual(await r.child.exit(), 0);
      assert.match(r.child.stderr(), /EPROTO/);
    },
  );

  test("an existing file is never replaced without --force (EEXIST); with --force it is", LIMIT, async () => {
    const src = fresh("src");
    const dst = fresh("dst");
    writeFileSync(join(src, "f"), "new contents\n");
    writeFileSync(join(dst, "f"), "old\n");
    let r = await startRecv(["--dir", dst]);
    let s = await sendFiles([join(src, "f"), r.address]);
    assert.equal(s.code, 6);
    assert.equal(s.entries[0]!.status, "refused");
    assert.match(String((s.entries[0]!.error as { message: string }).message), /EEXIST.*--force/);
    assert.equal(await r.child.exit(), 6);
    assert.equal(readFileSync(join(dst, "f"), "utf8"), "old\n");
    assert.ok(!existsSync(join(dst, partName("f"))));

    r = await startRecv(["--dir", dst, "--force"]);
    s = await sendFiles([join(src, "f"), r.address]);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(await r.child.exit(), 0);
    assert.equal(readFileSync(join(dst, "f"), "utf8"), "new contents\n");
  });

  test("an identical file already there is not sent again (HAVE), exit 0", LIMIT, async () => {
    const src = fresh("src");
    const dst = fresh("dst");
    writeFileSync(join(src, "same"), bytes(50_000, 9));
    writeFileSync(join(dst, "same"), bytes(50_000, 9));
    const r = await startRecv(["--dir", dst]);
    const s = await sendFiles([join(src, "same"), r.address]);
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual([s.entries[0]!.status, s.entries[0]!.sent], ["had", 0]);
    assert.equal(await r.child.exit(), 0);
  });

  test("--max-size refuses a larger file before any byte is written (EFBIG)", LIMIT, async () => {
    const src = fresh("src");
    const dst = fresh("dst");
    writeFileSync(join(src, "big"), bytes(2_000_001));
    writeFileSync(join(src, "small"), bytes(1000));
    const r = await startRecv(["--dir", dst, "--max-size", "2M"]);
    const s = await sendFiles([join(src, "big"), join(src, "small"), r.address]);
    assert.equal(s.code, 6);
    assert.deepEqual(
      s.entries.map((e) => [e.path, e.status, e.sent]),
      [
        ["big", "refused", 0],
        ["small", "delivered", 1000],
      ],
    );
    assert.match(
      String((s.entries[0]!.error as { message: string }).message),
      /EFBIG.*--max-size of 2000000/,
    );
    assert.equal(await r.child.exit(), 6);
    assert.deepEqual(readdirSync(dst), ["small"]);
  });

  test("symbolic links: the sender refuses them (ELOOP) unless --follow-symlinks", LIMIT, async () => {
    const src = fresh("src");
    const dst = fresh("dst");
    mkdirSync(join(src, "d"));
    writeFileSync(join(src, "target"), "pointed at\n");
    symlinkSync(join(src, "target"), join(src, "d", "link"));
    let s = await sendFiles(["-r", join(src, "d"), "127.0.0.1:9"]);
    assert.equal(s.code, 6);
    assert.match(s.stderr, /ELOOP.*symbolic link/);
    const r = await startRecv(["--dir", dst]);
    s = await sendFiles(["-r", "--follow-symlinks", join(src, "d"), r.address]);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(await r.child.exit(), 0);
    assert.equal(readFileSync(join(dst, "d", "link"), "utf8"), "pointed at\n");
  });

  test(
    "the receiver never follows a symbolic link inside DIR: writing through one is refused (ELOOP)",
    LIMIT,
    async () => {
      const src = fresh("src");
      const dst = fresh("dst");
      const outside = fresh("outside");
      symlinkSync(outside, join(dst, "d"));
      mkdirSync(join(src, "d"));
      writeFileSync(join(src, "d", "planted"), "x\n");
      const r = await startRecv(["--dir", dst]);
      const s = await sendFiles(["-r", join(src, "d"), r.address]);
      assert.equal(s.code, 6);
      assert.deepEqual(
        s.entries.map((e) => [e.path, e.status, (e.error as { code?: string } | undefined)?.code]),
        [
          ["d", "refused", "ELOOP"],
          ["d/planted", "refused", "ELOOP"],
        ],
      );
      assert.equal(await r.child.exit(), 6);
      assert.deepEqual(readdirSync(outside), []);
    },
  );

  test(
    "data that does not match the announced SHA-256 is refused (EBADMSG): no file, no .part",
    LIMIT,
    async () => {
      const dst = fresh("dst");
      const r = await startRecv(["--dir", dst]);
      const answers = await rawSession(r.address, [`FILE 5 ${sha("hello")} f\n`, "DATA 0\nhellO", "END\n"]);
      assert.match(answers[0]!, /^OK 0 /);
      assert.match(answers[1]!, /^NO EBADMSG /);
      assert.equal(answers[2], "BYE");
      assert.equal(await r.child.exit(), 6);
      assert.deepEqual(readdirSync(dst), []);
    },
  );

  /** A 5 MB tmpfs at a fresh directory, unmounted by the returned function. */
  const tmpfs5m = (): [string, () => void] => {
    const d = fresh("tmpfs");
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=5m", "tmpfs", d], { timeout: 10_000 });
    return [d, () => execFileSync("umount", [d], { timeout: 10_000 })];
  };
  const noMount = process.getuid?.() === 0 ? false : "mounting a tmpfs needs root";

  test(
    "a 10 MB file to a receiver on a 5 MB tmpfs: ENOSPC before any byte, no file, exit 6 on both sides",
    { ...LIMIT, skip: noMount },
    async () => {
      const src = fresh("src");
      writeFileSync(join(src, "ten"), bytes(10_000_000, 10));
      const [dst, umount] = tmpfs5m();
      try {
        const r = await startRecv(["--dir", dst]);
        const s = await sendFiles([join(src, "ten"), r.address]);
        assert.equal(s.code, 6);
        assert.equal(s.entries[0]!.status, "refused");
        assert.match(
          String((s.entries[0]!.error as { message: string }).message),
          /ENOSPC.*needs 10000000 more bytes/,
        );
        assert.equal(await r.child.exit(), 6);
        assert.deepEqual(readdirSync(dst), []);
      } finally {
        umount();
      }
    },
  );

  test(
    "the disk filling up mid-file: ENOSPC reported, no final file, the .part kept; after space is freed a re-run resumes it",
    { ...LIMIT, skip: noMount },
    async () => {
      const src = fresh("src");
      const size = 4_000_000;
      const data = bytes(size, 11);
      writeFileSync(join(src, "four"), data);
      const [dst, umount] = tmpfs5m();
      try {
        let r = await startRecv(["--dir", dst]);
        const part = join(dst, partName("four"));
        const conn = await dial("tcp", r.address, { timeout: 5000 });
        let answers: string[] = [];
        try {
          const answer = async () =>
            String(await conn.readLine({ signal: AbortSignal.timeout(10_000) })).trimEnd();
          await conn.write(`XFER/1\nFILE ${size} ${sha(data)} four\n`);
          answers.push(await answer());
          await conn.write(Buffer.concat([Buffer.from("DATA 0\n"), data.subarray(0, 1_000_000)]));
          await waitFor(
            () => existsSync(part) && statSync(part).size === 1_000_000,
            10_000,
            "the first MB in the .part",
          );
          // something else fills the file system meanwhile
          try {
            writeFileSync(join(dst, "filler"), Buffer.alloc(5_000_000));
          } catch (err) {
            assert.equal((err as { code?: string }).code, "ENOSPC");
          }
          await conn.write(data.subarray(1_000_000));
          answers.push(await answer());
          await conn.write("END\n");
          answers.push(await answer());
        } finally {
          await conn.close();
        }
        answers = answers.map((a) => a.split(" ").slice(0, 2).join(" "));
        assert.deepEqual(answers.slice(0, 1).concat(answers.slice(1)), ["OK 0", "NO ENOSPC", "BYE"]);
        assert.equal(await r.child.exit(), 6);
        assert.match(r.child.stdout(), /ENOSPC.*kept/);
        assert.ok(!existsSync(join(dst, "four")), "no final file");
        const kept = statSync(part).size;
        assert.ok(kept >= 1_000_000 && kept < size, `the .part kept what fit: ${kept}`);

        rmSync(join(dst, "filler"));
        r = await startRecv(["--dir", dst]);
        const s = await sendFiles([join(src, "four"), r.address]);
        assert.equal(s.code, 0, s.stderr);
        assert.deepEqual([s.entries[0]!.from, s.entries[0]!.sent], [kept, size - kept]);
        assert.equal(await r.child.exit(), 0);
        assert.equal(shaFile(join(dst, "four")), sha(data));
        assert.ok(!existsSync(part));
      } finally {
        umount();
      }
    },
  );

  /** Sends SIZE bytes slowly, interrupts with `cut` once 1 MB is in the .part, then re-runs at full speed. */
  async function interruptAndResume(cut: (send: Child, recv: Recv) => void, who: "send" | "recv") {
    const src = fresh("src");
    const dst = fresh("dst");
    const size = 8_000_000;
    writeFileSync(join(src, "eight"), bytes(size, 8));
    const part = join(dst, partName("eight"));
    let r = await startRecv(["--dir", dst]);
    const slow = startSend(["--rate", "3M", join(src, "eight"), r.address]);
    try {
      await waitFor(() => existsSync(part) && statSync(part).size >= 1_000_000, 15_000, "1 MB in the .part");
      cut(slow, r);
      const [sc, rc] = [await slow.exit(), await r.child.exit()];
      if (who === "send") assert.notEqual(rc, 0, "the receiver saw the transfer break");
      else assert.notEqual(sc, 0, "the sender saw the transfer break: no acknowledgement");
      if (who === "send") assert.match(r.child.stderr(), /kept: a re-run resumes/);
    } finally {
      slow.kill("SIGKILL");
      r.child.kill("SIGKILL");
    }
    assert.ok(!existsSync(join(dst, "eight")), "no final file after the break");
    const kept = statSync(part).size;
    assert.ok(kept >= 1_000_000 && kept < size, `kept ${kept}`);

    r = await startRecv(["--dir", dst]);
    const s = await sendFiles([join(src, "eight"), r.address]);
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual([s.entries[0]!.from, s.entries[0]!.sent], [kept, size - kept], "only the rest is sent");
    assert.equal(await r.child.exit(), 0);
    assert.deepEqual(
      r.entries().map((e) => [e.from, e.received]),
      [[kept, size - kept]],
    );
    assert.equal(shaFile(join(dst, "eight")), shaFile(join(src, "eight")));
    assert.ok(!existsSync(part));
  }

  test("SIGKILL of the sender mid-way: the re-run resumes the .part and sends only the rest", LIMIT, () =>
    interruptAndResume((send) => send.kill("SIGKILL"), "send"),
  );

  test(
    "SIGKILL of the receiver mid-way: the sender exits non-zero; the re-run sends only the rest",
    LIMIT,
    () => interruptAndResume((_, recv) => recv.child.kill("SIGKILL"), "recv"),
  );

  test(
    "a reset mid-way (ss -K kills the sender's socket): both exit non-zero; the re-run sends only the rest",
    { ...LIMIT, skip: needs(["ss"]) },
    () =>
      interruptAndResume((_, recv) => {
        const port = recv.address.slice(recv.address.lastIndexOf(":") + 1);
        execFileSync("ss", ["-K", "dst", "127.0.0.1", "dport", "=", port], {
          timeout: 5000,
          stdio: "ignore",
        });
      }, "recv"),
  );

  test(
    "under a terminal both sides show a bar with percentage, rate and ETA; with stdout a pipe, none",
    LIMIT,
    async () => {
      const src = fresh("src");
      const dst = fresh("dst");
      writeFileSync(join(src, "slow"), bytes(2_000_000, 5));
      const sh = (args: readonly string[]) => args.map((a) => `'${a}'`).join(" ");
      const recv = start("script", [
        "-qfec",
        sh([process.execPath, SOCKIT, "recv", "--dir", dst, "127.0.0.1:0"]),
        "/dev/null",
      ]);
      try {
        const address = (await recv.line(/listening on (\S+)/))[1]!;
        const send = start("script", [
          "-qfec",
          sh([process.execPath, SOCKIT, "send", "--rate", "1M", join(src, "slow"), address]),
          "/dev/null",
        ]);
        assert.equal(await send.exit(20_000), 0, send.stdout());
        assert.equal(await recv.exit(10_000), 0, recv.stdout());
        const screen = (t: string) => t.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
        assert.match(
          screen(send.stdout()),
          /sent [█░]+ \d+% [\d.]+ [kM]?B\/2\.00 MB \| [\d.]+ [kMG]?B\/s \| ETA \d+s/,
        );
        assert.match(
          screen(recv.stdout()),
          /received [█░]+ \d+% [\d.]+ [kM]?B\/2\.00 MB \| [\d.]+ [kMG]?B\/s \| ETA \d+s/,
        );
        assert.match(screen(send.stdout()), /slow: delivered and verified, 2000000 bytes/);
      } finally {
        recv.kill("SIGKILL");
      }
      // the other tests ran with stderr a pipe: no bar there
      const r = await startRecv(["--dir", fresh("dst")]);
      const s = await sendFiles(["--rate", "1M", join(src, "slow"), r.address]);
      assert.equal(s.code, 0);
      assert.equal(await r.child.exit(), 0);
      assert.doesNotMatch(s.stderr + r.child.stderr(), /ETA|%|█/);
    },
  );

  test(
    "a receiver that lies: a .part offer whose hash does not match is sent from 0; no ACK means exit 5; garbage means EPROTO; an unknown errno is EIO",
    LIMIT,
    async () => {
      const src = fresh("src");
      writeFileSync(join(src, "f"), bytes(10_000, 4));
      const ln = await listen("tcp", "127.0.0.1:0");
      try {
        // 1: offers 5000 bytes with a wrong hash, reads what follows, then closes without an answer
        const seen = (async () => {
          const c = await ln.accept();
          try {
            const lines = [String(await c.readLine()), String(await c.readLine())];
            await c.write(`OK 5000 ${sha("not the file")}\n`);
            lines.push(String(await c.readLine()));
            let got = 0;
            while (got < 10_000) got += (await c.read())?.length ?? 10_000;
            return lines;
          } finally {
            await c.close();
          }
        })();
        let s = await sendFiles(["--hash-first", join(src, "f"), ln.address]);
        const lines = await seen;
        assert.equal(lines[2], "DATA 0\n", "the sender did not trust the offer");
        assert.equal(s.code, 5, s.stderr);
        assert.match(s.stderr, /without an answer: the file did not arrive/);

        // 2: answers something that is not the protocol
        const garbage = (async () => {
          const c = await ln.accept();
          try {
            await c.readLine();
            await c.readLine();
            await c.write("HTTP/1.1 400 Bad Request\r\n");
            await c.read().catch(() => null);
          } finally {
            await c.close();
          }
        })();
        s = await sendFiles(["--hash-first", join(src, "f"), ln.address]);
        await garbage;
        assert.equal(s.code, 6);
        assert.match(s.stderr, /EPROTO.*not a message of this protocol/);

        // 3: refuses with an errno this side does not know: EIO, naming it
        const foreign = (async () => {
          const c = await ln.accept();
          try {
            await c.readLine();
            await c.readLine();
            await c.write("NO EFUTURE quota of the day exhausted\n");
            await c.readLine(); // END
            await c.write("BYE\n");
          } finally {
            await c.close();
          }
        })();
        s = await sendFiles(["--hash-first", join(src, "f"), ln.address]);
        await foreign;
        assert.equal(s.code, 6);
        const err = s.entries[0]!.error as { code: string; errno: number; message: string };
        assert.deepEqual([err.code, err.errno], ["EIO", 5]);
        assert.match(err.message, /\(EFUTURE\): quota of the day exhausted/);
      } finally {
        await ln.close();
      }
    },
  );

  test("recv serves one sender: a second one, while the first is sending, is refused", LIMIT, async () => {
    const src = fresh("src");
    const dst = fresh("dst");
    writeFileSync(join(src, "slow"), bytes(1_000_000, 12));
    const r = await startRecv(["--dir", dst]);
    const first = startSend(["--rate", "1M", join(src, "slow"), r.address]);
    try {
      await waitFor(() => existsSync(join(dst, partName("slow"))), 10_000, "the first sender's .part");
      const second = await sendFiles([join(src, "slow"), r.address]);
      assert.equal(second.code, 3, second.stderr);
      assert.match(second.stderr, /ECONNREFUSED/);
      assert.equal((await finish(first)).code, 0);
      assert.equal(await r.child.exit(), 0);
    } finally {
      first.kill("SIGKILL");
    }
  });
});
