/**
 * The FTP server's defences, over real control and data connections: paths never leave the
 * served directory (`../`, `..%2f`, absolute, a symbolic link out, NUL), PORT/EPRT never reach a
 * third address (no FTP bounce), an upload cut off mid-way leaves nothing under its final name,
 * and the session limits (per source, idle, line length, wrong passwords).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { framed, type Framed, lines } from "../src/codec/index.js";
import { type Conn, dial, listen } from "../src/net/index.js";
import { type FtpServer, type FtpServerOptions, ReplyReader, serveFtp } from "../src/services/ftp/index.js";
import { waitFor } from "./support/kit.js";

/** A raw control connection: send a line, read one reply. */
class Ctl {
  readonly conn: Conn;
  readonly #lines: Framed<string>;
  private constructor(c: Conn) {
    this.conn = c;
    this.#lines = framed(c, lines({ maxLine: 65536, encoding: "utf8", allowUnterminatedAtEnd: true }));
  }
  static async open(address: string): Promise<Ctl> {
    const c = new Ctl(await dial("tcp", address, { timeout: 5000 }));
    return c;
  }
  /** The next reply as "CODE text" (multi-line: the last line), or "EOF". */
  async reply(): Promise<string> {
    const r = new ReplyReader();
    this.conn.setReadDeadline(Date.now() + 5000);
    for (;;) {
      const l = await this.#lines.read();
      if (l === undefined) return "EOF";
      const rep = r.feed(l);
      if (rep) return `${rep.code} ${rep.lines.at(-1)}`;
    }
  }
  async cmd(line: string | Buffer): Promise<string> {
    await this.conn.write(typeof line === "string" ? `${line}\r\n` : line);
    return this.reply();
  }
  static async login(address: string, user = "anonymous", pass = "x@"): Promise<Ctl> {
    const c = await Ctl.open(address);
    assert.match(await c.reply(), /^220 /);
    assert.match(await c.cmd(`USER ${user}`), /^331 /);
    assert.match(await c.cmd(`PASS ${pass}`), /^230 /);
    assert.match(await c.cmd("TYPE I"), /^200 /);
    return c;
  }
  /** EPSV and a data connection to the port it names. */
  async passive(): Promise<Conn> {
    const r = await this.cmd("EPSV");
    const port = /\(\|\|\|(\d+)\|\)/.exec(r)?.[1];
    assert.ok(port, r);
    return dial("tcp", `127.0.0.1:${port}`, { timeout: 5000 });
  }
  async close(): Promise<void> {
    await this.conn.close();
  }
}

const code = (r: string) => Number(r.slice(0, 3));

describe("FTP server security", () => {
  let dir: string;
  let root: string;
  const servers: FtpServer[] = [];
  const start = async (o: Partial<FtpServerOptions> = {}) => {
    const s = await serveFtp({
      root,
      address: "127.0.0.1:0",
      users: { alice: "pw" },
      badPasswordDelayMs: 10,
      ...o,
    });
    servers.push(s);
    return s;
  };
  let srv: FtpServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sockit-ftpsec-"));
    root = join(dir, "root");
    mkdirSync(join(root, "pub"), { recursive: true });
    writeFileSync(join(dir, "secret.txt"), "TOP SECRET\n");
    writeFileSync(join(root, "pub", "ok.txt"), "fine\n");
    symlinkSync(dir, join(root, "out")); // a link to the directory above the root
    symlinkSync(join(dir, "secret.txt"), join(root, "secret-link.txt"));
    symlinkSync(join(dir, "nowhere.txt"), join(root, "dangling.txt")); // points outside, to nothing yet
    srv = await start();
  });
  after(async () => {
    for (const s of servers) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("traversal attempts are refused with 550 (NUL with 501) and never open a data connection", async () => {
    const c = await Ctl.login(srv.address);
    try {
      for (const path of [
        "../secret.txt",
        "pub/../../secret.txt",
        "..%2fsecret.txt",
        "%2e%2e/secret.txt",
        join(dir, "secret.txt"), // absolute: taken from the virtual root, so not found
        "/../secret.txt",
        "out/secret.txt", // through a symbolic link that leads out
        "secret-link.txt",
      ]) {
        await c.cmd("EPSV");
        assert.equal(code(await c.cmd(`RETR ${path}`)), 550, path);
        assert.equal(code(await c.cmd(`SIZE ${path}`)), 550, path);
        assert.equal(code(await c.cmd(`HASH ${path}`)), 550, path);
        assert.equal(code(await c.cmd(`MLST ${path}`)), 550, path);
      }
      for (const path of ["..", "../..", "out", "/..", "pub/../.."])
        assert.equal(code(await c.cmd(`CWD ${path}`)), 550, path);
      assert.match(await c.cmd("PWD"), /^257 "\/" /);
      assert.equal(code(await c.cmd("LIST out")), 550);
      assert.equal(code(await c.cmd(Buffer.from("RETR pub/ok.txt\0../../secret.txt\r\n"))), 501);
      assert.equal(code(await c.cmd(Buffer.from("CWD \0\r\n"))), 501);
      // and the honest request still works
      const d = await c.passive();
      assert.match(await c.cmd("RETR pub/ok.txt"), /^150 /);
      const got: Buffer[] = [];
      for (let b = await d.read(); b !== null; b = await d.read()) got.push(b);
      await d.close();
      assert.equal(Buffer.concat(got).toString(), "fine\n");
      assert.match(await c.reply(), /^226 /);
    } finally {
      await c.close();
    }
  });

  test("writes through a symbolic link out (existing or dangling) are refused; nothing appears outside", async () => {
    const c = await Ctl.login(srv.address, "alice", "pw");
    try {
      for (const path of ["out/planted.txt", "dangling.txt", "../planted.txt"]) {
        await c.cmd("EPSV");
        assert.equal(code(await c.cmd(`STOR ${path}`)), 550, path);
      }
      assert.equal(code(await c.cmd("MKD out/newdir")), 550);
      assert.equal(code(await c.cmd("DELE secret-link.txt/..")), 550);
      assert.equal(code(await c.cmd("RNFR pub/ok.txt")), 350);
      assert.equal(code(await c.cmd("RNTO ../stolen.txt")), 550);
      assert.deepEqual(readdirSync(dir).sort(), ["root", "secret.txt"]);
    } finally {
      await c.close();
    }
  });

  test("PORT and EPRT to a third address are refused (504) and nothing connects there", async () => {
    const bystander = await listen("tcp", "127.0.0.2:0");
    let connected = 0;
    const accepting = (async () => {
      try {
        for await (const x of bystander) {
          connected++;
          x.abort();
        }
      } catch {
        // closed
      }
    })();
    const c = await Ctl.login(srv.address);
    try {
      const p = bystander.port;
      assert.equal(code(await c.cmd(`PORT 127,0,0,2,${p >> 8},${p & 255}`)), 504);
      assert.equal(code(await c.cmd(`RETR pub/ok.txt`)), 425);
      assert.equal(code(await c.cmd(`EPRT |1|127.0.0.2|${p}|`)), 504);
      assert.equal(code(await c.cmd(`RETR pub/ok.txt`)), 425);
      assert.equal(code(await c.cmd(`PORT 127,0,0,1,0,25`)), 504); // the client's own address, port 25
      await sleep(100);
      assert.equal(connected, 0);
    } finally {
      await c.close();
      await bystander.close();
      await accepting;
    }
  });

  async function cutUpload(how: "reset" | "abor" | "control"): Promise<void> {
    writeFileSync(join(root, "pub", "keep.bin"), "the old content\n");
    const c = await Ctl.login(srv.address, "alice", "pw");
    try {
      const d = await c.passive();
      assert.match(await c.cmd("STOR pub/keep.bin"), /^150 /);
      await d.write(randomBytes(1 << 20));
      await waitFor(
        () => readdirSync(join(root, "pub")).some((n) => n.endsWith(".part")),
        5000,
        "a temporary file",
      );
      if (how === "reset") {
        d.abort();
        assert.equal(code(await c.reply()), 426);
      } else if (how === "abor") {
        await c.conn.write(Buffer.concat([Buffer.from([0xff, 0xf4, 0xff, 0xf2]), Buffer.from("ABOR\r\n")]));
        assert.equal(code(await c.reply()), 426);
        assert.equal(code(await c.reply()), 226); // RFC 959: 426 for the transfer, 226 for ABOR
        d.abort();
      } else {
        c.conn.abort(); // the client is gone…
        await d.close(); // …and its data connection ends with a FIN, as when a process is killed
      }
      await waitFor(
        () => !readdirSync(join(root, "pub")).some((n) => n.endsWith(".part")),
        5000,
        "no temporary",
      );
      assert.equal(readFileSync(join(root, "pub", "keep.bin"), "utf8"), "the old content\n");
      assert.deepEqual(readdirSync(join(root, "pub")).sort(), ["keep.bin", "ok.txt"]);
    } finally {
      await c.close();
    }
  }

  test("an upload reset mid-way (RST) leaves the final name untouched and no temporary", async () => {
    await cutUpload("reset");
  });
  test("an upload aborted with ABOR mid-way leaves the final name untouched and no temporary", async () => {
    await cutUpload("abor");
  });
  test("an upload whose client vanished (control reset, data FIN) is not committed", async () => {
    await cutUpload("control");
  });

  test("a complete upload replaces the file only when it is whole", async () => {
    const c = await Ctl.login(srv.address, "alice", "pw");
    try {
      const body = randomBytes(300_001);
      const d = await c.passive();
      assert.match(await c.cmd("STOR pub/new.bin"), /^150 /);
      await d.write(body);
      assert.equal(existsSync(join(root, "pub", "new.bin")), false);
      await d.close();
      assert.equal(code(await c.reply()), 226);
      assert.deepEqual(readFileSync(join(root, "pub", "new.bin")), body);
      assert.equal(code(await c.cmd("DELE pub/new.bin")), 250);
    } finally {
      await c.close();
    }
  });

  test("STAT during a transfer answers at once with its progress; the transfer then completes", async () => {
    writeFileSync(join(root, "pub", "big.bin"), randomBytes(8 << 20));
    const c = await Ctl.login(srv.address);
    try {
      const d = await c.passive();
      assert.match(await c.cmd("RETR pub/big.bin"), /^150 /);
      await sleep(50); // the server is now blocked: nobody reads the data connection
      assert.match(await c.cmd("STAT"), /^213 Transfer in progress: RETR pub\/big\.bin, \d+ bytes so far\.$/);
      let n = 0;
      for (let b = await d.read(); b !== null; b = await d.read()) n += b.length;
      await d.close();
      assert.equal(n, 8 << 20);
      assert.equal(code(await c.reply()), 226);
      assert.equal(code(await c.cmd("STAT")), 211); // no transfer: the session's status
    } finally {
      await c.close();
      rmSync(join(root, "pub", "big.bin"), { force: true });
    }
  });

  test("a data connection that stops moving is cut off after the data timeout (426)", async () => {
    const s = await start({ dataTimeoutMs: 300 });
    writeFileSync(join(root, "pub", "stall.bin"), randomBytes(32 << 20));
    const c = await Ctl.login(s.address);
    try {
      const d = await c.passive();
      assert.match(await c.cmd("RETR pub/stall.bin"), /^150 /);
      // never read: once the socket buffers are full the server's write waits, then times out
      assert.match(await c.reply(), /^426 The data connection stalled for 0\.3 s/);
      d.abort();
      assert.equal(code(await c.cmd("NOOP")), 200); // the session itself goes on
    } finally {
      await c.close();
      rmSync(join(root, "pub", "stall.bin"), { force: true });
    }
  });

  test("sessions per source are limited: the next one is answered 421", async () => {
    const s = await start({ maxPerSource: 2 });
    const a = await Ctl.login(s.address);
    const b = await Ctl.login(s.address);
    const c = await Ctl.open(s.address);
    try {
      assert.match(await c.reply(), /^421 Too many sessions from 127\.0\.0\.1 \(limit 2\)/);
      assert.equal(await c.reply(), "EOF");
      assert.equal(s.counters.refused, 1);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  test("an idle session is told 421 and closed", async () => {
    const s = await start({ idleMs: 300 });
    const c = await Ctl.login(s.address);
    try {
      const t0 = Date.now();
      assert.match(await c.reply(), /^421 Idle/);
      assert.ok(Date.now() - t0 >= 250);
      assert.equal(await c.reply(), "EOF");
    } finally {
      await c.close();
    }
  });

  test("a command line over the limit is answered 500 and the session ends", async () => {
    const s = await start({ maxLine: 128 });
    const c = await Ctl.open(s.address);
    try {
      assert.match(await c.reply(), /^220 /);
      assert.match(await c.cmd(`USER ${"a".repeat(200)}`), /^500 Command line too long \(limit 128 bytes\)/);
      assert.equal(await c.reply(), "EOF");
    } finally {
      await c.close();
    }
  });

  test("wrong passwords are delayed and counted; the third closes the session", async () => {
    const s = await start({ badPasswordDelayMs: 200, maxBadPasswords: 3 });
    const c = await Ctl.open(s.address);
    try {
      assert.match(await c.reply(), /^220 /);
      for (let i = 1; i <= 3; i++) {
        assert.match(await c.cmd("USER alice"), /^331 /);
        const t0 = Date.now();
        const r = await c.cmd("PASS wrong");
        assert.ok(Date.now() - t0 >= 190, `answered after ${Date.now() - t0} ms`);
        assert.equal(code(r), i < 3 ? 530 : 421);
      }
      assert.equal(await c.reply(), "EOF");
      assert.equal(s.counters.badPasswords, 3);
      assert.match(
        await Ctl.login(s.address, "alice", "pw").then(async (x) => (await x.close(), "ok")),
        /ok/,
      );
    } finally {
      await c.close();
    }
  });
});
