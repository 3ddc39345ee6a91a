/**
 * The static HTTP server (services/http: serveHttp + staticHandler) against clients nobody here
 * wrote — curl, wget, Python's urllib and http.client — and against hostile shapes written on a
 * raw socket: traversal, smuggling, oversize headers, methods, connection limits, slowloris.
 * Everything on 127.0.0.1 with free ports; files in a temporary directory.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Conn, dial } from "../src/net/index.js";
import { type HttpLimits, type HttpServer, serveHttp, staticHandler } from "../src/services/http/index.js";
import { waitFor } from "./support/kit.js";
import { needs, peerPath } from "./support/peers.js";
import { runPython } from "./support/python.js";

const LIMIT = { timeout: 30_000 };

/** Runs `cmd args`, bounded; stdout as bytes. */
async function run(cmd: string, args: string[], ms = 15_000, cwd?: string) {
  const c = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...(cwd ? { cwd } : {}) });
  const out: Buffer[] = [];
  let stderr = "";
  c.stdout.on("data", (d: Buffer) => out.push(d));
  c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => c.kill("SIGKILL"), ms);
  const [code] = (await once(c, "close")) as [number | null];
  clearTimeout(timer);
  const bytes = Buffer.concat(out);
  return { code, bytes, stdout: bytes.toString("latin1"), stderr };
}

/** Sends `request` on a fresh connection and reads the answer until the server closes (bounded). */
async function raw(address: string, request: string | Buffer, ms = 5000): Promise<string> {
  const conn = await dial("tcp", address);
  try {
    conn.setDeadline(Date.now() + ms);
    await conn.write(request);
    const got: Buffer[] = [];
    for await (const b of conn) got.push(b);
    return Buffer.concat(got).toString("latin1");
  } finally {
    await conn.close();
  }
}

function statusOf(answer: string): number {
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(answer);
  assert.ok(m, `not an HTTP answer: ${JSON.stringify(answer.slice(0, 80))}`);
  return Number(m[1]);
}

interface Site {
  readonly dir: string;
  readonly outside: string;
  readonly big: Buffer;
}

function makeSite(): Site {
  const base = mkdtempSync(join(tmpdir(), "sockit-http-"));
  const dir = join(base, "www");
  const outside = join(base, "outside");
  mkdirSync(join(dir, "sub"), { recursive: true });
  mkdirSync(join(dir, "docs"), { recursive: true });
  mkdirSync(outside);
  // bytes that differ at every offset (a shifted range would not compare equal)
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 8)) & 0xff;
  writeFileSync(join(dir, "big.bin"), big);
  writeFileSync(join(dir, "hello.txt"), "hello, web\n");
  writeFileSync(join(dir, "page.html"), "<!DOCTYPE html><title>p</title><p>page</p>\n");
  writeFileSync(join(dir, "data.json"), '{"a":1}\n');
  writeFileSync(join(dir, "sub", "index.html"), "<!DOCTYPE html><title>sub</title><p>sub index</p>\n");
  writeFileSync(join(dir, "docs", "a b.txt"), "spaced\n");
  writeFileSync(join(dir, ".secret"), "dotfile\n");
  writeFileSync(join(outside, "passwd"), "outside the root\n");
  symlinkSync(join(outside, "passwd"), join(dir, "link-out"));
  symlinkSync("hello.txt", join(dir, "link-in"));
  const old = new Date("2026-01-02T03:04:05Z");
  utimesSync(join(dir, "hello.txt"), old, old);
  return { dir: base, outside, big };
}

async function start(
  root: string,
  o: { dotfiles?: boolean; followSymlinks?: boolean; cors?: boolean; limits?: Partial<HttpLimits> } = {},
  log?: string[],
): Promise<HttpServer> {
  return serveHttp({
    address: "127.0.0.1:0",
    handler: staticHandler({
      root,
      ...(o.dotfiles ? { dotfiles: true } : {}),
      ...(o.followSymlinks ? { followSymlinks: true } : {}),
      ...(o.cors ? { cors: true } : {}),
    }),
    ...(o.limits ? { limits: o.limits } : {}),
    ...(log ? { log: (l: string) => void log.push(l) } : {}),
  });
}

describe("sockit's HTTP server", () => {
  let site: Site;
  let www: string;
  let srv: HttpServer;
  let url: string;
  const log: string[] = [];
  before(async () => {
    site = makeSite();
    www = join(site.dir, "www");
    srv = await start(www, {}, log);
    url = `http://${srv.address}`;
  });
  after(async () => {
    await srv.close();
    rmSync(site.dir, { recursive: true, force: true });
  });

  describe("curl as the client", { skip: needs(["curl"]) }, () => {
    test("download, HEAD, a range, resume and a conditional GET", LIMIT, async () => {
      const curl = peerPath("curl");
      const tmp = mkdtempSync(join(tmpdir(), "sockit-curl-"));
      try {
        const dl = await run(curl, ["-sS", "-f", "-o", join(tmp, "big.bin"), `${url}/big.bin`]);
        assert.equal(dl.code, 0, dl.stderr);
        assert.ok(readFileSync(join(tmp, "big.bin")).equals(site.big), "the download differs");

        const head = await run(curl, ["-sS", "-I", `${url}/big.bin`]);
        assert.match(head.stdout, /^HTTP\/1\.1 200 OK\r\n/);
        assert.match(head.stdout, new RegExp(`\r\ncontent-length: ${site.big.length}\r\n`, "i"));
        assert.match(head.stdout, /\r\ncontent-type: application\/octet-stream\r\n/i);
        assert.match(head.stdout, /\r\naccept-ranges: bytes\r\n/i);
        const etag = /\r\netag: ("[^"]+")\r\n/i.exec(head.stdout)?.[1];
        assert.ok(etag, head.stdout);

        const r = await run(curl, ["-sS", "-D", "-", "-r", "1000-1999", `${url}/big.bin`]);
        assert.match(r.stdout, /^HTTP\/1\.1 206 Partial Content\r\n/);
        assert.match(r.stdout, new RegExp(`\r\ncontent-range: bytes 1000-1999/${site.big.length}\r\n`, "i"));
        const body = r.bytes.subarray(r.bytes.indexOf("\r\n\r\n") + 4);
        assert.ok(body.equals(site.big.subarray(1000, 2000)), "the range's bytes differ");

        writeFileSync(join(tmp, "part.bin"), site.big.subarray(0, 123_457));
        const resumed = await run(curl, [
          "-sS",
          "-f",
          "-C",
          "-",
          "-o",
          join(tmp, "part.bin"),
          `${url}/big.bin`,
        ]);
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.ok(readFileSync(join(tmp, "part.bin")).equals(site.big), "the resumed file differs");

        const cond = await run(curl, [
          "-sS",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "-H",
          `If-None-Match: ${etag}`,
          `${url}/big.bin`,
        ]);
        assert.equal(cond.stdout, "304");
        const since = await run(curl, [
          "-sS",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "-z",
          "Sat, 03 Jan 2026 00:00:00 GMT",
          `${url}/hello.txt`,
        ]);
        assert.equal(since.stdout, "304");
        const older = await run(curl, [
          "-sS",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "-z",
          "Thu, 01 Jan 2026 00:00:00 GMT",
          `${url}/hello.txt`,
        ]);
        assert.equal(older.stdout, "200");
        const unsat = await run(curl, [
          "-sS",
          "-o",
          "/dev/null",
          "-D",
          "-",
          "-r",
          `${site.big.length}-`,
          `${url}/big.bin`,
        ]);
        assert.match(unsat.stdout, /^HTTP\/1\.1 416 /);
        assert.match(unsat.stdout, new RegExp(`\r\ncontent-range: bytes \\*/${site.big.length}\r\n`, "i"));
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });

    test("keep-alive: curl reuses one connection for two URLs", LIMIT, async () => {
      const accepted = srv.counters.accepted;
      const r = await run(peerPath("curl"), ["-sS", "-v", `${url}/hello.txt`, `${url}/data.json`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'hello, web\n{"a":1}\n');
      assert.match(r.stderr, /Re-using existing connection/);
      assert.equal(srv.counters.accepted - accepted, 1);
    });
  });

  describe("wget as the client", { skip: needs(["wget"]) }, () => {
    test("download, HEAD (--spider), resume (-c) and timestamping (-N)", LIMIT, async () => {
      const wget = peerPath("wget");
      const tmp = mkdtempSync(join(tmpdir(), "sockit-wget-"));
      try {
        const dl = await run(wget, ["-q", "-O", join(tmp, "big.bin"), `${url}/big.bin`]);
        assert.equal(dl.code, 0, dl.stderr);
        assert.ok(readFileSync(join(tmp, "big.bin")).equals(site.big));

        const spider = await run(wget, ["--spider", "-S", `${url}/big.bin`]);
        assert.equal(spider.code, 0, spider.stderr);
        assert.match(spider.stderr, /HTTP\/1\.1 200 OK/);
        assert.match(spider.stderr, new RegExp(`Content-Length: ${site.big.length}`));
        const missing = await run(wget, ["--spider", `${url}/nope.txt`]);
        assert.equal(missing.code, 8, "wget exits 8 on an error answer");

        writeFileSync(join(tmp, "part.bin"), site.big.subarray(0, 1_000_001));
        const c = await run(wget, ["-c", "-S", "-O", join(tmp, "part.bin"), `${url}/big.bin`]);
        assert.equal(c.code, 0, c.stderr);
        assert.match(c.stderr, /HTTP\/1\.1 206 Partial Content/);
        assert.ok(readFileSync(join(tmp, "part.bin")).equals(site.big), "the resumed file differs");

        const first = await run(wget, ["-N", "-S", `${url}/hello.txt`], 15_000, tmp);
        assert.equal(first.code, 0, first.stderr);
        const again = await run(wget, ["-N", "-S", `${url}/hello.txt`], 15_000, tmp);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stderr, /304 Not Modified/);
        assert.match(again.stderr, /not modified on server\. Omitting download/);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  });

  test(
    "Python urllib: a file, a listing as JSON, a range, 304, 405 and a redirect to the slash",
    LIMIT,
    async () => {
      const py = `
import json, sys, urllib.request, urllib.error
base = sys.argv[1]
def get(path, headers={}, method="GET"):
    try:
        r = urllib.request.urlopen(urllib.request.Request(base + path, headers=headers, method=method), timeout=10)
        return r.status, dict(r.headers), r.read(), r.url
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read(), None
out = {}
s, h, b, _ = get("/hello.txt"); out["file"] = [s, h["Content-Type"], b.decode()]
s, h, b, _ = get("/", {"Accept": "application/json"}); out["json"] = [s, h["Content-Type"], json.loads(b)]
s, h, b, _ = get("/", {"Accept": "text/html"}); out["html"] = [s, h["Content-Type"], "Index of /" in b.decode()]
s, h, b, _ = get("/big.bin", {"Range": "bytes=-5"}); out["range"] = [s, h["Content-Range"], list(b)]
s, h, b, _ = get("/hello.txt"); etag = h["ETag"]
s, h, b, _ = get("/hello.txt", {"If-None-Match": etag}); out["inm"] = [s, len(b)]
s, h, b, _ = get("/hello.txt", method="POST"); out["post"] = [s, h.get("Allow")]
s, h, b, u = get("/sub"); out["redirect"] = [s, u, b.decode()]
s, h, b, _ = get("/docs/a%20b.txt"); out["spaced"] = [s, b.decode()]
print(json.dumps(out))
`;
      const r = await runPython(py, [url]);
      assert.equal(r.code, 0, r.stderr);
      const o = JSON.parse(r.stdout) as Record<string, unknown[]>;
      assert.deepEqual(o.file, [200, "text/plain; charset=utf-8", "hello, web\n"]);
      const j = o.json as [
        number,
        string,
        { path: string; entries: Array<{ name: string; type: string; size: number }> },
      ];
      assert.equal(j[0], 200);
      assert.equal(j[1], "application/json; charset=utf-8");
      assert.equal(j[2].path, "/");
      assert.deepEqual(
        j[2].entries.map((e) => [e.name, e.type]),
        [
          ["docs", "directory"],
          ["sub", "directory"],
          ["big.bin", "file"],
          ["data.json", "file"],
          ["hello.txt", "file"],
          ["link-in", "file"],
          ["link-out", "file"],
          ["page.html", "file"],
        ],
        "dotfiles are not listed",
      );
      assert.deepEqual(o.html, [200, "text/html; charset=utf-8", true]);
      const n = site.big.length;
      assert.deepEqual(o.range, [206, `bytes ${n - 5}-${n - 1}/${n}`, [...site.big.subarray(n - 5)]]);
      assert.deepEqual(o.inm, [304, 0]);
      assert.deepEqual(o.post, [405, "GET, HEAD"]);
      assert.deepEqual(o.redirect, [
        200,
        `${url}/sub/`,
        "<!DOCTYPE html><title>sub</title><p>sub index</p>\n",
      ]);
      assert.deepEqual(o.spaced, [200, "spaced\n"]);
    },
  );

  test("every answered request is one Common Log Format line", async () => {
    const before = log.length;
    await raw(srv.address, "GET /hello.txt?x=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    await raw(srv.address, "HEAD /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    const lines = log.slice(before);
    assert.equal(lines.length, 2, lines.join("\n"));
    assert.match(
      lines[0]!,
      /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/hello\.txt\?x=1 HTTP\/1\.1" 200 11$/,
    );
    assert.match(lines[1]!, /"HEAD \/nope HTTP\/1\.1" 404 -$/);
  });

  describe("paths that must not leave the served directory, each with its status", () => {
    const cases: Array<[string, number]> = [
      ["/../outside/passwd", 403],
      ["/%2e%2e/outside/passwd", 403],
      ["/%2E%2e/%2e%2E/etc/passwd", 403],
      ["/sub/..%2f..%2foutside/passwd", 403],
      ["/..%5coutside%5cpasswd", 403],
      ["/hello.txt%00.png", 400],
      ["/%zz", 400],
      ["//etc/passwd", 404],
      ["http://evil.test/../outside/passwd", 403],
      ["/link-out", 403],
      ["/.secret", 404],
      ["/sub/.hidden", 404],
    ];
    for (const [target, want] of cases) {
      test(`GET ${target} → ${want}`, async () => {
        const a = await raw(srv.address, `GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
        assert.equal(statusOf(a), want, a);
        assert.ok(!a.includes("outside the root"), "the file outside was served");
        assert.ok(!a.includes("dotfile\n"), "the dotfile was served");
      });
    }
    test("a link inside the root is followed; --dotfiles and --follow-symlinks open what they say", async () => {
      assert.equal(
        statusOf(await raw(srv.address, "GET /link-in HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")),
        200,
      );
      const open = await start(www, { dotfiles: true, followSymlinks: true });
      try {
        const a = await raw(open.address, "GET /link-out HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        assert.equal(statusOf(a), 200);
        assert.ok(a.endsWith("outside the root\n"));
        const d = await raw(open.address, "GET /.secret HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        assert.ok(d.endsWith("dotfile\n"), d);
        // --dotfiles does not open '..'
        const up = await raw(
          open.address,
          "GET /../outside/passwd HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        );
        assert.equal(statusOf(up), 403);
      } finally {
        await open.close();
      }
    });
  });

  describe("request shapes refused with their status", () => {
    const cases: Array<[string, string, number]> = [
      [
        "Content-Length with Transfer-Encoding",
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
      ],
      [
        "two Content-Lengths (same value)",
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
        400,
      ],
      [
        "two Content-Lengths (different values)",
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello",
        400,
      ],
      [
        "Transfer-Encoding not ending in chunked",
        "GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
        400,
      ],
      ["a header line without a colon", "GET / HTTP/1.1\r\nHost: t\r\nbroken\r\n\r\n", 400],
      ["a bare LF line", "GET / HTTP/1.1\nHost: t\n\n", 400],
      [
        "headers over maxHeaderSize",
        `GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
        431,
      ],
      [
        "more header fields than allowed",
        `GET / HTTP/1.1\r\nHost: t\r\n${Array.from({ length: 120 }, (_, i) => `X-${i}: 1\r\n`).join("")}\r\n`,
        431,
      ],
      ["POST", "POST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 405],
      ["PUT", "PUT /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 405],
      ["DELETE", "DELETE /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 405],
      ["OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 405],
    ];
    for (const [what, req, want] of cases) {
      test(`${what} → ${want}`, async () => {
        const a = await raw(srv.address, req);
        assert.equal(statusOf(a), want, a);
        if (want === 405) assert.match(a, /\r\nAllow: GET, HEAD\r\n/);
        if (want !== 405) assert.match(a, /\r\nConnection: close\r\n/);
      });
    }
  });

  test("small files are answered from memory only while unchanged: edits, swaps, retargeted links and removals are seen at once", async () => {
    const body = async (path: string) => {
      const a = await raw(srv.address, `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
      return `${statusOf(a)} ${a.slice(a.indexOf("\r\n\r\n") + 4)}`;
    };
    // a file changed in the last second is read again each time; one older is kept in memory
    const settle = () => new Promise((r) => setTimeout(r, 1100));
    const f = join(www, "cached.txt");
    writeFileSync(f, "version-1\n");
    writeFileSync(join(www, "next.tmp"), "version-4\n");
    await settle();
    assert.equal(await body("/cached.txt"), "200 version-1\n");
    assert.equal(await body("/cached.txt"), "200 version-1\n");
    // the same size, written now; then again within the same clock tick
    writeFileSync(f, "version-2\n");
    assert.equal(await body("/cached.txt"), "200 version-2\n");
    writeFileSync(f, "version-3\n");
    assert.equal(await body("/cached.txt"), "200 version-3\n");
    // another file of the same size renamed over it, both older than a second
    await settle();
    assert.equal(await body("/cached.txt"), "200 version-3\n");
    renameSync(join(www, "next.tmp"), f);
    assert.equal(await body("/cached.txt"), "200 version-4\n");
    const old = new Date("2026-01-02T03:04:05Z");
    // a link inside the root pointed elsewhere: the new target
    writeFileSync(join(www, "a.txt"), "target-a\n");
    writeFileSync(join(www, "b.txt"), "target-b\n");
    for (const n of ["a.txt", "b.txt"]) utimesSync(join(www, n), old, old);
    symlinkSync("a.txt", join(www, "current"));
    assert.equal(await body("/current"), "200 target-a\n");
    unlinkSync(join(www, "current"));
    symlinkSync("b.txt", join(www, "current"));
    assert.equal(await body("/current"), "200 target-b\n");
    // removed: not found, whatever was in memory
    unlinkSync(f);
    assert.match(await body("/cached.txt"), /^404 /);
    for (const n of ["a.txt", "b.txt", "current"]) unlinkSync(join(www, n));
  });

  test("--cors adds Access-Control-Allow-Origin; without it there is none", async () => {
    const plain = await raw(srv.address, "GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert.ok(!/access-control-allow-origin/i.test(plain));
    const cors = await start(www, { cors: true });
    try {
      const a = await raw(
        cors.address,
        "GET /hello.txt HTTP/1.1\r\nHost: t\r\nOrigin: http://x\r\nConnection: close\r\n\r\n",
      );
      assert.match(a, /\r\nAccess-Control-Allow-Origin: \*\r\n/);
    } finally {
      await cors.close();
    }
  });

  test(
    "a kept-alive connection is closed after the idle time, and one request after another is served on it",
    LIMIT,
    async () => {
      const s = await start(www, { limits: { keepAliveMs: 300 } });
      try {
        const r = await runPython(
          `
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=10)
def answer():
    buf = b""
    while b"\\r\\n\\r\\n" not in buf: buf += s.recv(4096)
    head, rest = buf.split(b"\\r\\n\\r\\n", 1)
    n = int([l for l in head.split(b"\\r\\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
    while len(rest) < n: rest += s.recv(4096)
    return head.split(b"\\r\\n")[0].decode(), rest
for p in ("/hello.txt", "/data.json"):
    s.sendall(b"GET " + p.encode() + b" HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n")
    print(*answer())
t = time.monotonic()
print("eof" if s.recv(10) == b"" else "data", round(time.monotonic() - t, 1))
`,
          [s.address],
        );
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout.trim().split("\n");
        assert.equal(lines[0], "HTTP/1.1 200 OK b'hello, web\\n'");
        assert.equal(lines[1], "HTTP/1.1 200 OK b'{\"a\":1}\\n'");
        const [what, secs] = lines[2]!.split(" ");
        assert.equal(what, "eof");
        assert.ok(Number(secs) >= 0.2 && Number(secs) < 3, `closed after ${secs} s`);
        assert.equal(s.counters.accepted, 1);
      } finally {
        await s.close();
      }
    },
  );

  test(
    "connection limits: over the total 503, over the per-source limit 429; a freed slot serves again",
    LIMIT,
    async () => {
      const s = await start(www, { limits: { maxConnections: 2, maxPerSource: 100 } });
      const t = await start(www, { limits: { maxConnections: 100, maxPerSource: 1 } });
      const held = [await dial("tcp", s.address), await dial("tcp", s.address), await dial("tcp", t.address)];
      try {
        // the held connections are admitted before the probes arrive
        await new Promise((r) => setTimeout(r, 100));
        const over = await raw(s.address, "GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
        assert.equal(statusOf(over), 503, over);
        assert.match(over, /too many connections \(limit 2\)/);
        const per = await raw(t.address, "GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
        assert.equal(statusOf(per), 429, per);
        assert.match(per, /too many connections from 127\.0\.0\.1 \(limit 1\)/);
        await held[0]!.close();
        const deadline = Date.now() + 5000;
        let again = "";
        while (Date.now() < deadline) {
          again = await raw(s.address, "GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
          if (statusOf(again) === 200) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(statusOf(again), 200);
      } finally {
        for (const c of held) await c.close();
        await s.close();
        await t.close();
      }
    },
  );

  test(
    "slowloris: 1,000 clients sending headers slowly do not stop a normal client, and the request timeout frees them (408)",
    { timeout: 60_000 },
    async () => {
      const s = await start(www, {
        limits: { maxConnections: 1100, maxPerSource: 1100, requestTimeoutMs: 6000 },
      });
      const py = spawn(
        "python3",
        [
          "-c",
          `
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
socks = []
for i in range(1000):
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(b"GET /hello.txt HTTP/1.1\\r\\nHost: t\\r\\nX-Slow: ")
    socks.append(s)
print("ready", flush=True)
sys.stdin.readline()
t = time.monotonic()
got = {}
for s in socks:
    buf = b""
    while True:
        try:
            b = s.recv(4096)
        except ConnectionResetError:
            b = b""
        if not b: break
        buf += b
    key = buf.split(b"\\r\\n")[0].decode() or "nothing"
    got[key] = got.get(key, 0) + 1
    s.close()
print(got, round(time.monotonic() - t, 1), flush=True)
`,
          s.address,
        ],
        { stdio: ["pipe", "pipe", "pipe"] },
      );
      let out = "";
      let err = "";
      py.stdout.on("data", (d: Buffer) => (out += d.toString()));
      py.stderr.on("data", (d: Buffer) => (err += d.toString()));
      const killer = setTimeout(() => py.kill("SIGKILL"), 40_000);
      try {
        const until = Date.now() + 15_000;
        while (!out.includes("ready") && Date.now() < until && py.exitCode === null)
          await new Promise((r) => setTimeout(r, 20));
        assert.ok(out.includes("ready"), `the slow clients did not start: ${err}`);
        await waitFor(
          () => s.counters.active === 1000,
          15_000,
          "the server to accept the 1,000 slow clients",
        );
        const t0 = Date.now();
        const a = await raw(s.address, "GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        const took = Date.now() - t0;
        assert.equal(statusOf(a), 200);
        assert.ok(a.endsWith("hello, web\n"));
        assert.ok(took < 1000, `the normal client waited ${took} ms`);
        py.stdin.write("go\n");
        const [code] = (await once(py, "close")) as [number | null];
        assert.equal(code, 0, err);
        const m = /^\{'HTTP\/1\.1 408 Request Timeout': 1000\} ([\d.]+)$/m.exec(out);
        assert.ok(m, `every slow client gets 408 and is closed: ${out}`);
        assert.equal(s.counters.timeouts, 1000);
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(s.counters.active, 0);
      } finally {
        clearTimeout(killer);
        py.kill("SIGKILL");
        await s.close();
      }
    },
  );

  test("a handler of one's own mounts on the same server machinery; one that throws answers 500 and the server goes on", async () => {
    const own = await serveHttp({
      address: "127.0.0.1:0",
      handler: (req, res) => {
        if (req.url === "/boom") throw new Error("bug in the handler");
        res.setHeader("Content-Type", "text/plain");
        res.end(`own ${req.method} ${req.url}\n`);
      },
    });
    try {
      const a = await raw(own.address, "GET /messages?x=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      assert.equal(statusOf(a), 200);
      assert.ok(a.endsWith("own GET /messages?x=1\n"), a);
      const boom = await raw(own.address, "GET /boom HTTP/1.1\r\nHost: t\r\n\r\n");
      assert.equal(statusOf(boom), 500, boom);
      const after = await raw(own.address, "GET /again HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      assert.ok(after.endsWith("own GET /again\n"), after);
    } finally {
      await own.close();
    }
  });

  test(
    "a client that stops reading an answer is reset after the send timeout and its slot freed",
    LIMIT,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "sockit-stall-"));
      let s: HttpServer | undefined;
      let conn: Conn | undefined;
      try {
        writeFileSync(join(dir, "huge.bin"), "");
        truncateSync(join(dir, "huge.bin"), 1024 ** 3); // sparse: no disk used
        s = await start(dir, { limits: { sendTimeoutMs: 500, keepAliveMs: 60_000 } });
        const srv = s;
        conn = await dial("tcp", s.address);
        await conn.write("GET /huge.bin HTTP/1.1\r\nHost: t\r\n\r\n");
        await waitFor(() => srv.counters.active === 1, 5000, "the server to take the connection");
        const t0 = Date.now();
        // never read: 1 GiB does not fit in the socket buffers, so the server's send stalls
        await waitFor(() => srv.counters.active === 0, 10_000, "the stalled connection to be cut");
        assert.ok(Date.now() - t0 < 5000, `cut after ${Date.now() - t0} ms`);
      } finally {
        conn?.abort();
        await s?.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  // in the page cache (a sparse file: its holes never touch the disk), and on the disk (written,
  // synced and dropped from the page cache: the server's first read waits for the disk and the
  // rest of the download is read on the thread pool)
  for (const where of ["in the page cache", "read from the disk"] as const) {
    test(
      `a file that shrinks during its download (${where}) cuts the connection: fewer bytes than Content-Length, logged as such, never a short answer kept alive`,
      LIMIT,
      async () => {
        const dir = mkdtempSync(join(tmpdir(), "sockit-shrink-"));
        const lines: string[] = [];
        let s: HttpServer | undefined;
        let conn: Conn | undefined;
        try {
          const file = join(dir, "shrink.bin");
          const size = where === "in the page cache" ? 256 * 1024 * 1024 : 96 * 1024 * 1024;
          if (where === "in the page cache") {
            writeFileSync(file, "");
            truncateSync(file, size); // sparse: no disk used
          } else {
            writeFileSync(file, Buffer.alloc(size, 0x5a));
            const py = `import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.fsync(fd)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
os.close(fd)`;
            const r = await runPython(py, [file]);
            assert.equal(r.code, 0, r.stderr);
          }
          s = await start(dir, { limits: { keepAliveMs: 60_000 } }, lines);
          conn = await dial("tcp", s.address);
          conn.setReadDeadline(Date.now() + 10_000);
          await conn.write("GET /shrink.bin HTTP/1.1\r\nHost: t\r\n\r\n");
          let got = Buffer.alloc(0);
          while (!got.includes("\r\n\r\n")) {
            const b = await conn.read();
            assert.ok(b !== null, "the server closed before its headers");
            got = Buffer.concat([got, b]);
          }
          const head = got.subarray(0, got.indexOf("\r\n\r\n")).toString("latin1");
          assert.match(head, /^HTTP\/1\.1 200 /);
          assert.match(head, new RegExp(`\r\ncontent-length: ${size}\r\n`, "i"));
          // the server is at most a few MiB ahead (socket buffers, two pieces): cut the file far below
          truncateSync(file, 32 * 1024 * 1024);
          let body = got.length - got.indexOf("\r\n\r\n") - 4;
          let end = "EOF";
          try {
            for (;;) {
              const b = await conn.read(); // a deadline error here: the server kept the connection open
              if (b === null) break;
              body += b.length;
            }
          } catch (err) {
            assert.equal((err as { code?: string }).code, "ECONNRESET", String(err));
            end = "reset";
          }
          assert.ok(body < size, `${body} body bytes ended by ${end}: the whole file?`);
          assert.ok(body >= 1024 * 1024, `only ${body} body bytes before the cut`);
          // logged with the bytes that reached the connection: fewer than its Content-Length
          await waitFor(() => lines.some((l) => l.includes("GET /shrink.bin")), 5_000, "the log line");
          const logged = lines.find((l) => l.includes("GET /shrink.bin"))!;
          const m = / 200 (\d+)$/.exec(logged);
          assert.ok(m, `the cut answer's log line: ${logged}`);
          assert.ok(Number(m[1]) < size, `a cut answer logged as complete: ${logged}`);
        } finally {
          conn?.abort();
          await s?.close();
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  }

  test(
    "after a Connection: close answer the server half-closes, and resets a client that never closes after the linger time",
    LIMIT,
    async () => {
      const s = await start(www);
      const conn = await dial("tcp", s.address);
      try {
        conn.setReadDeadline(Date.now() + 10_000);
        await conn.write("GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        const got: Buffer[] = [];
        for await (const b of conn) got.push(b); // ends at the server's FIN
        assert.ok(Buffer.concat(got).toString().endsWith("hello, web\n"));
        assert.equal(s.counters.active, 1, "the server waits for the client to close");
        // this client never closes: the slot is freed anyway
        await waitFor(() => s.counters.active === 0, 5000, "the lingering connection to be reset");
      } finally {
        conn.abort();
        await s.close();
      }
    },
  );
});
