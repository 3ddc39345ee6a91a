/**
 * `sockit serve http` and `sockit get` end to end, as child processes: the banner and the access
 * log on stdout (-q silences it), a 10 GiB sparse file streamed with bounded memory, and
 * `sockit get` against servers nobody here wrote — `python3 -m http.server` and nginx (generated
 * config on a loopback port) — with resume, redirects and the documented exit codes (8: an error
 * status, a body cut short, too many redirects).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
  existsSync,
} from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { dial, listen } from "../src/net/index.js";
import { closedPort } from "./support/kit.js";
import { needs, peerPath } from "./support/peers.js";
import { SOCKIT, sockit } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";

const LIMIT = { timeout: 60_000 };

function makeSite(): { dir: string; big: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "sockit-cli-http-"));
  mkdirSync(join(dir, "www", "sub"), { recursive: true });
  const big = Buffer.alloc(2 * 1024 * 1024 + 5);
  for (let i = 0; i < big.length; i++) big[i] = (i * 13 + (i >> 9)) & 0xff;
  writeFileSync(join(dir, "www", "big.bin"), big);
  writeFileSync(join(dir, "www", "hello.txt"), "hello, web\n");
  writeFileSync(join(dir, "www", "sub", "index.html"), "<p>sub</p>\n");
  return { dir, big };
}

interface ServedHttp {
  readonly child: Child;
  readonly address: string;
}

async function serveHttp(args: string[]): Promise<ServedHttp> {
  const child = start(process.execPath, [SOCKIT, "serve", "http", ...args]);
  try {
    const [, address] = await child.line(/^Serving HTTP on (\S+) /m, 10_000);
    return { child, address: address! };
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
}

async function stopServed(s: ServedHttp): Promise<void> {
  s.child.kill("SIGTERM");
  assert.equal(await s.child.exit(10_000), 0, s.child.stderr());
}

/** The resident memory of a process (KiB), from /proc. */
async function rssKiB(pid: number): Promise<number> {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, "utf8"));
  assert.ok(m, "no VmRSS");
  return Number(m[1]);
}

/** A free loopback port for a peer that wants a number (bound and released at once). */
async function freePort(): Promise<number> {
  const ln = await listen("tcp", "127.0.0.1:0");
  const p = ln.port;
  await ln.close();
  return p;
}

async function waitExit(p: ChildProcess, ms: number): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const t = setTimeout(() => p.kill("SIGKILL"), ms);
  await once(p, "exit");
  clearTimeout(t);
}

/** Waits (bounded) until `address` accepts a connection. */
async function accepting(address: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const c = await dial("tcp", address);
      await c.close();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe("sockit serve http", () => {
  let site: { dir: string; big: Buffer };
  before(() => {
    site = makeSite();
  });
  after(() => rmSync(site.dir, { recursive: true, force: true }));

  test(
    "prints where it listens, logs each request in Common Log Format on stdout; -q silences the log",
    LIMIT,
    async () => {
      const s = await serveHttp([join(site.dir, "www"), "--port", "0"]);
      try {
        assert.match(s.address, /^127\.0\.0\.1:\d+$/);
        const r = await sockit(["get", `http://${s.address}/hello.txt`]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, "hello, web\n");
        await s.child.line(/"GET \/hello\.txt HTTP\/1\.1" 200 11$/m, 5000);
        assert.match(
          s.child.stdout(),
          /^127\.0\.0\.1 - - \[[^\]]+ \+0000\] "GET \/hello\.txt HTTP\/1\.1" 200 11$/m,
        );
      } finally {
        await stopServed(s);
      }
      const q = await serveHttp(["-q", join(site.dir, "www"), "--port", "0"]);
      try {
        const r = await sockit(["get", `http://${q.address}/hello.txt`]);
        assert.equal(r.code, 0, r.stderr);
        await new Promise((res) => setTimeout(res, 200));
        assert.equal(
          q.child
            .stdout()
            .split("\n")
            .filter((l) => l !== "").length,
          1,
          q.child.stdout(),
        );
      } finally {
        await stopServed(q);
      }
    },
  );

  test(
    "--trace shows each connection's socket calls: accept, recv of the request, send of the answer, close",
    LIMIT,
    async () => {
      const s = await serveHttp(["--trace", "-q", join(site.dir, "www"), "--port", "0"]);
      try {
        const r = await sockit(["get", `http://${s.address}/hello.txt`]);
        assert.equal(r.code, 0, r.stderr);
        const until = Date.now() + 5000;
        while (!/close\(4\) = 0/.test(s.child.stderr()) && Date.now() < until)
          await new Promise((res) => setTimeout(res, 50));
        const t = s.child.stderr();
        assert.match(t, /^accept\(3\) = 4 \('127\.0\.0\.1', \d+\)$/m);
        assert.match(t, /^recv\(4, 65536\) = \d+ b'GET \/hello\.txt HTTP\/1\.1\\r\\n/m);
        assert.match(t, /^send\(4, b'HTTP\/1\.1 200 OK\\r\\n/m);
        assert.match(t, /^close\(4\) = 0$/m);
        assert.doesNotMatch(t, /^send\(4, b'', 0\)/m, "no empty send for the end of a response");
      } finally {
        await stopServed(s);
      }
    },
  );

  test(
    "when the log's reader goes away (| head -1) the server warns once and goes on serving",
    LIMIT,
    async () => {
      const s = await serveHttp([join(site.dir, "www"), "--port", "0"]);
      try {
        s.child.proc.stdout!.destroy(); // the reader of the log is gone: the next log line meets EPIPE
        for (let i = 0; i < 3; i++) {
          const r = await sockit(["get", `http://${s.address}/hello.txt`]);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout, "hello, web\n");
        }
        assert.equal(s.child.proc.exitCode, null, s.child.stderr());
        assert.match(s.child.stderr(), /stdout failed \(EPIPE\): serving on without the access log/);
      } finally {
        await stopServed(s);
      }
    },
  );

  test("--host ::1 serves on IPv6 and sockit get reaches it by its bracketed URL", LIMIT, async () => {
    const s = await serveHttp([join(site.dir, "www"), "--host", "::1", "--port", "0", "-q"]);
    try {
      assert.match(s.address, /^\[::1\]:\d+$/);
      const r = await sockit(["get", `http://${s.address}/hello.txt`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "hello, web\n");
    } finally {
      await stopServed(s);
    }
  });

  test("flags reach the handler: --dotfiles, --cors; a bad DIR is a usage error", LIMIT, async () => {
    writeFileSync(join(site.dir, "www", ".hidden"), "seen\n");
    const plain = await serveHttp([join(site.dir, "www"), "--port", "0", "-q"]);
    const open = await serveHttp([join(site.dir, "www"), "--port", "0", "-q", "--dotfiles", "--cors"]);
    try {
      const hidden = await sockit(["get", `http://${plain.address}/.hidden`]);
      assert.equal(hidden.code, 8);
      assert.match(hidden.stderr, /404 Not Found/);
      const seen = await sockit(["-v", "get", `http://${open.address}/.hidden`]);
      assert.equal(seen.code, 0, seen.stderr);
      assert.equal(seen.stdout, "seen\n");
      assert.match(seen.stderr, /access-control-allow-origin: \*/);
    } finally {
      await stopServed(plain);
      await stopServed(open);
    }
    const bad = await sockit(["serve", "http", join(site.dir, "nope"), "--port", "0"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /DIR must be a directory/);
    const rfc = await sockit(["serve", "http", "--udp", "--port", "0"]);
    assert.equal(rfc.code, 1);
    assert.match(rfc.stderr, /--udp is an option of the RFC services, not of serve http/);
  });

  test(
    "a 10 GiB sparse file: HEAD, a range near its end, and a partial read with bounded server memory",
    LIMIT,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "sockit-sparse-"));
      const size = 10 * 1024 ** 3;
      writeFileSync(join(dir, "huge.bin"), "");
      truncateSync(join(dir, "huge.bin"), size);
      const s = await serveHttp([dir, "--port", "0", "-q"]);
      const pid = s.child.proc.pid!;
      try {
        const base = await rssKiB(pid);
        const conn = await dial("tcp", s.address);
        let got = 0;
        try {
          conn.setDeadline(Date.now() + 30_000);
          await conn.write(`GET /huge.bin HTTP/1.1\r\nHost: t\r\n\r\n`);
          const first = (await conn.read())!.toString("latin1");
          assert.match(first, /^HTTP\/1\.1 200 OK\r\n/);
          assert.match(first, new RegExp(`\r\nContent-Length: ${size}\r\n`));
          got = first.length - first.indexOf("\r\n\r\n") - 4;
          // read 256 MiB of it, then stop reading for a while: the server must wait, not buffer
          while (got < 256 * 1024 * 1024) got += (await conn.read(1 << 20))!.length;
          const streaming = await rssKiB(pid);
          await new Promise((r) => setTimeout(r, 1500));
          const stalled = await rssKiB(pid);
          await new Promise((r) => setTimeout(r, 1500));
          const later = await rssKiB(pid);
          // streaming costs some garbage; a stalled reader must cost nothing more: the server waits.
          // What was in flight when the reader stopped (a read-ahead, a loaded machine's late GC)
          // may still land in the first 1.5 s; after that nothing may grow (a server that kept
          // reading the file would grow by tens of MiB a second, the whole 10 GiB in the end).
          assert.ok(
            streaming - base < 96 * 1024,
            `the server grew by ${streaming - base} KiB streaming 256 MiB of 10 GiB`,
          );
          assert.ok(
            stalled - streaming < 32 * 1024,
            `the server grew by ${stalled - streaming} KiB in the first 1.5 s the client did not read`,
          );
          assert.ok(
            later - stalled < 4 * 1024,
            `the server grew by ${later - stalled} KiB in the next 1.5 s the client did not read`,
          );
        } finally {
          conn.abort();
        }
        const end = await dial("tcp", s.address);
        try {
          end.setDeadline(Date.now() + 10_000);
          await end.write(
            `GET /huge.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=${size - 10}-\r\nConnection: close\r\n\r\n`,
          );
          const parts: Buffer[] = [];
          for await (const b of end) parts.push(b);
          const a = Buffer.concat(parts).toString("latin1");
          assert.match(a, /^HTTP\/1\.1 206 Partial Content\r\n/);
          assert.match(a, new RegExp(`\r\nContent-Range: bytes ${size - 10}-${size - 1}/${size}\r\n`));
          assert.ok(a.endsWith("\r\n\r\n" + "\0".repeat(10)));
        } finally {
          await end.close();
        }
      } finally {
        await stopServed(s);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe("sockit get", () => {
  let site: { dir: string; big: Buffer };
  let tmp: string;
  before(() => {
    site = makeSite();
    tmp = mkdtempSync(join(tmpdir(), "sockit-get-"));
  });
  after(() => {
    rmSync(site.dir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  });

  test(
    "python3 -m http.server as the server: a file, a directory redirect, 404 is exit 8 and writes nothing",
    LIMIT,
    async () => {
      const port = await freePort();
      const py = spawn(
        "python3",
        ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", join(site.dir, "www")],
        {
          stdio: ["ignore", "ignore", "ignore"],
        },
      );
      try {
        await accepting(`127.0.0.1:${port}`);
        const out = join(tmp, "py-big.bin");
        const r = await sockit(["get", `http://127.0.0.1:${port}/big.bin`, "-o", out]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(readFileSync(out).equals(site.big));
        const sub = await sockit(["get", `http://127.0.0.1:${port}/sub`]);
        assert.equal(sub.code, 0, sub.stderr);
        assert.equal(sub.stdout, "<p>sub</p>\n");
        const miss = await sockit(["get", `http://127.0.0.1:${port}/nope`, "-o", join(tmp, "nope")]);
        assert.equal(miss.code, 8);
        assert.match(miss.stderr, /the server answered 404 File not found; .* not written/);
        assert.ok(!existsSync(join(tmp, "nope")));
      } finally {
        py.kill("SIGTERM");
        await waitExit(py, 5000);
      }
    },
  );

  describe("nginx as the server", { skip: needs(["nginx"]) }, () => {
    let nginx: ChildProcess;
    let base: string;
    before(async () => {
      const port = await freePort();
      const n = join(tmp, "nginx");
      mkdirSync(n);
      writeFileSync(
        join(n, "nginx.conf"),
        `user root;
worker_processes 1;
daemon off;
pid ${n}/nginx.pid;
error_log ${n}/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${n}/body;
  proxy_temp_path ${n}/proxy;
  fastcgi_temp_path ${n}/fastcgi;
  uwsgi_temp_path ${n}/uwsgi;
  scgi_temp_path ${n}/scgi;
  types { application/octet-stream bin; text/plain txt; }
  server {
    listen 127.0.0.1:${port};
    root ${join(site.dir, "www")};
    location = /moved { return 301 /hello.txt; }
    location = /loop { return 302 /loop; }
  }
}
`,
      );
      nginx = spawn(peerPath("nginx"), ["-p", n, "-c", join(n, "nginx.conf"), "-g", "error_log stderr;"], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      nginx.stderr!.resume();
      base = `http://127.0.0.1:${port}`;
      await accepting(`127.0.0.1:${port}`);
    });
    after(async () => {
      nginx.kill("SIGTERM");
      await waitExit(nginx, 5000);
    });

    test(
      "download, resume with -C, an already complete file, a redirect followed, a redirect loop is exit 8",
      LIMIT,
      async () => {
        const out = join(tmp, "ng-big.bin");
        const r = await sockit(["get", `${base}/big.bin`, "-o", out]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(readFileSync(out).equals(site.big));

        const part = join(tmp, "ng-part.bin");
        writeFileSync(part, site.big.subarray(0, 777_777));
        const c = await sockit(["-v", "get", "-C", `${base}/big.bin`, "-o", part]);
        assert.equal(c.code, 0, c.stderr);
        assert.match(c.stderr, /206 Partial Content/);
        assert.match(c.stderr, /resumed at 777777/);
        assert.ok(readFileSync(part).equals(site.big), "the resumed file differs");

        const done = await sockit(["get", "-C", `${base}/big.bin`, "-o", part]);
        assert.equal(done.code, 0, done.stderr);
        assert.match(done.stderr, /already complete/);

        const moved = await sockit(["get", `${base}/moved`]);
        assert.equal(moved.code, 0, moved.stderr);
        assert.equal(moved.stdout, "hello, web\n");

        const loop = await sockit(["get", "--max-redirs", "3", `${base}/loop`]);
        assert.equal(loop.code, 8);
        assert.match(loop.stderr, /more than 3 redirects/);
      },
    );
  });

  test(
    "a body shorter than its Content-Length, or a chunked body cut off, is exit 8 (never success)",
    LIMIT,
    async () => {
      const ln = await listen("tcp", "127.0.0.1:0");
      const answers = [
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
      ];
      const served = (async () => {
        for (const a of answers) {
          const c = await ln.accept();
          try {
            c.setDeadline(Date.now() + 10_000);
            let req = "";
            while (!req.includes("\r\n\r\n")) req += (await c.read())?.toString() ?? "\r\n\r\n";
            await c.write(a);
          } finally {
            await c.close();
          }
        }
      })();
      served.catch(() => {}); // awaited below; a failed assertion first must not leave it unhandled
      try {
        const out = join(tmp, "short.bin");
        const short = await sockit(["get", `http://${ln.address}/x`, "-o", out]);
        assert.equal(short.code, 8, short.stderr);
        assert.match(short.stderr, /cut short: 10 of 100 bytes/);
        assert.equal(readFileSync(out, "latin1"), "0123456789", "what arrived is kept for -C");
        const chunked = await sockit(["get", `http://${ln.address}/y`]);
        assert.equal(chunked.code, 8, chunked.stderr);
        assert.match(chunked.stderr, /cut short/);
        assert.equal(chunked.stdout, "hello");
        await served;
      } finally {
        await ln.close();
      }
    },
  );

  test(
    "--progress draws the bar on stderr for a download that lasts; -t gives up on a silent server (exit 4)",
    LIMIT,
    async () => {
      const ln = await listen("tcp", "127.0.0.1:0");
      const served = (async () => {
        // 1: a body trickled over ~1.6 s (the bar appears after 1 s); 2: a server that never answers
        const c = await ln.accept();
        try {
          c.setDeadline(Date.now() + 10_000);
          await c.read();
          await c.write("HTTP/1.1 200 OK\r\nContent-Length: 80000\r\nConnection: close\r\n\r\n");
          for (let i = 0; i < 8; i++) {
            await c.write(Buffer.alloc(10_000, 0x61));
            await new Promise((r) => setTimeout(r, 200));
          }
        } finally {
          await c.close();
        }
        const silent = await ln.accept();
        try {
          silent.setDeadline(Date.now() + 10_000);
          await silent.read();
          // until the client gives up: it resets the connection (or closes it)
          await silent.read().catch(() => null);
        } finally {
          await silent.close();
        }
      })();
      served.catch(() => {}); // awaited below
      try {
        const out = join(tmp, "slow.bin");
        const r = await sockit(["get", "--progress", `http://${ln.address}/slow`, "-o", out]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(readFileSync(out).length, 80_000);
        assert.match(r.stderr, /\d+% .*kB\/80\.0 kB/);
        const t0 = Date.now();
        const quiet = await sockit(["get", "-t", "0.5", `http://${ln.address}/silent`]);
        assert.equal(quiet.code, 4, quiet.stderr);
        assert.match(quiet.stderr, /timed out/);
        assert.ok(Date.now() - t0 < 5000);
        await served;
      } finally {
        await ln.close();
      }
    },
  );

  test("exit codes: refused 3, ftp:// and -C without -o are usage errors (1)", LIMIT, async () => {
    await using closed = await closedPort();
    const refused = await sockit(["get", `http://${closed.address}/`]);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /connection refused/);
    const ftp = await sockit(["get", "ftp://127.0.0.1/"]);
    assert.equal(ftp.code, 1);
    assert.match(ftp.stderr, /only http:\/\/ and https:\/\/ URLs/);
    const c = await sockit(["get", "-C", "http://127.0.0.1:1/"]);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /-C \(resume\) needs -o FILE/);
  });
});
