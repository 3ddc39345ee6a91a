/**
 * The one connect path under both faces (`dial`, `create_connection`, the CLI): a name with an
 * IPv6 and an IPv4 address. The name exists only inside a private mount namespace whose
 * /etc/hosts says `::1 dual.test` and `127.0.0.1 dual.test` (unshare -m, bind mount), so the
 * real resolver answers with two addresses while all traffic stays on loopback.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "src");

/** Why the private namespace cannot be made here, or false when it can. */
function unshareMissing(): string | false {
  if (process.getuid?.() !== 0) return "needs root for unshare -m and a bind mount of /etc/hosts";
  const r = spawnSync("unshare", ["-m", "true"], { timeout: 5000 });
  return r.status === 0 ? false : "unshare -m is not available here (util-linux)";
}

/** Runs `body` (an ES module's text) with dual.test resolving to ::1 then 127.0.0.1; its JSON. */
function inDualStackNamespace(body: string, resolvConf?: string): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), "sockit-dual-"));
  try {
    const hosts = join(dir, "hosts");
    writeFileSync(hosts, "::1 dual.test\n127.0.0.1 dual.test\n");
    const resolv = join(dir, "resolv.conf");
    writeFileSync(resolv, resolvConf ?? "");
    const script = join(dir, "run.mjs");
    const net = pathToFileURL(join(dist, "net", "index.js")).href;
    const bsd = pathToFileURL(join(dist, "bsd", "index.js")).href;
    writeFileSync(
      script,
      `import * as net from ${JSON.stringify(net)};\nimport * as bsd from ${JSON.stringify(bsd)};\n` +
        `const out = {};\ntry {\n${body}\n} catch (e) { out.thrown = String(e?.stack ?? e); }\n` +
        "process.stdout.write(JSON.stringify(out));\n",
    );
    const r = spawnSync(
      "unshare",
      [
        "-m",
        "sh",
        "-c",
        resolvConf === undefined
          ? 'mount --bind "$0" /etc/hosts && exec node "$1"'
          : 'mount --bind "$0" /etc/hosts && mount --bind "$2" /etc/resolv.conf && exec node "$1"',
        hosts,
        script,
        resolv,
      ],
      { timeout: 30_000, encoding: "utf8" },
    );
    assert.equal(r.status, 0, `child failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out.thrown, undefined, String(out.thrown));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("one connect path: a name with an IPv6 and an IPv4 address", { skip: unshareMissing() }, () => {
  test("dial and create_connection reach a server on either address; IPv6 is tried first", () => {
    const out = inDualStackNamespace(`
      const v4 = await net.listen("tcp", "127.0.0.1:0");
      const t0 = Date.now();
      const a = await net.dial("tcp", "dual.test:" + v4.port, { timeout: 5000 });
      out.v4 = { remote: a.remoteAddress, ms: Date.now() - t0 };
      await a.close();
      const b = await bsd.create_connection(["dual.test", v4.port], 5);
      out.v4bsd = { peer: b.getpeername(), family: b.family, timeout: b.gettimeout() };
      await b.close();
      await v4.close();
      const v6 = await net.listen("tcp", "[::1]:0");
      const c = await net.dial("tcp", "dual.test:" + v6.port);
      out.v6 = { remote: c.remoteAddress };
      await c.close();
      const d = await bsd.create_connection(["dual.test", v6.port]);
      out.v6bsd = { peer: d.getpeername(), family: d.family };
      await d.close();
      await v6.close();
    `);
    const v4 = out.v4 as { remote: string; ms: number };
    assert.equal(v4.remote, `127.0.0.1:${v4.remote.split(":")[1]}`);
    // ::1 refused at once, so IPv4 follows at once (not after the 250 ms fallback delay)
    assert.ok(v4.ms < 250, `fell back on the refusal, not the timer (${v4.ms} ms)`);
    const v4bsd = out.v4bsd as { peer: [string, number]; family: number; timeout: number };
    assert.equal(v4bsd.peer[0], "127.0.0.1");
    assert.equal(v4bsd.family, 2, "the socket's family is the one that connected (AF_INET)");
    assert.equal(v4bsd.timeout, 5, "the timeout stays set on the socket");
    assert.match((out.v6 as { remote: string }).remote, /^\[::1\]:\d+$/);
    const v6bsd = out.v6bsd as { peer: unknown[]; family: number };
    assert.equal(v6bsd.peer[0], "::1");
    assert.equal(v6bsd.family, 10);
  });

  test("when no address answers, one error names both (dial, create_connection, all_errors)", () => {
    const out = inDualStackNamespace(`
      // a port bound but not listening on both families (Python: Node cannot bind without
      // listening), so connects are refused and nobody else can take the port meanwhile
      const { spawn } = await import("node:child_process");
      const code = [
        "import socket, sys",
        "for _ in range(50):",
        "    a = socket.socket(); a.bind(('127.0.0.1', 0)); p = a.getsockname()[1]",
        "    b = socket.socket(socket.AF_INET6)",
        "    try: b.bind(('::1', p)); break",
        "    except OSError: a.close(); b.close()",
        "print(p, flush=True)",
        "sys.stdin.read()",
      ].join("\\n");
      const py = spawn("python3", ["-c", code], { stdio: ["pipe", "pipe", "inherit"] });
      const port = await new Promise((r) => py.stdout.once("data", (d) => r(Number(String(d).trim()))));
      out.port = port;
      try { await net.dial("tcp", "dual.test:" + port); } catch (e) { out.dial = { name: e.name, errno: e.errno, message: e.message, causes: e.cause?.errors?.length }; }
      try { await bsd.create_connection(["dual.test", port]); } catch (e) { out.cc = { name: e.name, message: e.message }; }
      try { await bsd.create_connection(["dual.test", port], null, null, true); } catch (e) { out.all = { name: e.name, n: e.errors?.length, names: e.errors?.map((x) => x.name) }; }
      py.stdin.end();
    `);
    const port = out.port as number;
    const dial = out.dial as { name: string; errno: number; message: string; causes: number };
    assert.equal(dial.name, "ConnectionRefusedError");
    assert.equal(dial.errno, 111);
    assert.ok(dial.message.includes(`[::1]:${port} (ECONNREFUSED)`), dial.message);
    assert.ok(dial.message.includes(`127.0.0.1:${port} (ECONNREFUSED)`), dial.message);
    assert.equal(dial.causes, 2);
    const cc = out.cc as { name: string; message: string };
    assert.equal(cc.name, "ConnectionRefusedError");
    assert.ok(cc.message.includes(`[::1]:${port}`) && cc.message.includes(`127.0.0.1:${port}`), cc.message);
    assert.deepEqual(out.all, {
      name: "AggregateError",
      n: 2,
      names: ["ConnectionRefusedError", "ConnectionRefusedError"],
    });
  });

  test("an IPv6 address that never answers does not hold up IPv4: it wins after the fallback delay", () => {
    const out = inDualStackNamespace(`
      // [::1]:P never answers: a Python listener with backlog 0 whose queue one connection fills
      const { spawn } = await import("node:child_process");
      const py = spawn("python3", ["-c", "import socket,sys\\ns=socket.socket(socket.AF_INET6)\\ns.bind(('::1',0))\\ns.listen(0)\\nprint(s.getsockname()[1],flush=True)\\nsys.stdin.read()"], { stdio: ["pipe", "pipe", "inherit"] });
      const port = await new Promise((r) => py.stdout.once("data", (d) => r(Number(String(d).trim()))));
      const filler = await net.dial("tcp", "[::1]:" + port);
      // readiness: the kernel holds the filler in the listener's queue (its server end is established)
      const { execFileSync } = await import("node:child_process");
      for (let i = 0; !/ESTAB/.test(execFileSync("ss", ["-tanH", "sport = :" + port], { encoding: "utf8" })); i++) {
        if (i >= 500) throw new Error("the filler never reached the accept queue");
        await new Promise((r) => setTimeout(r, 10));
      }
      const v4 = await net.listen("tcp", "127.0.0.1:" + port);
      const t0 = Date.now();
      const c = await net.dial("tcp", "dual.test:" + port, { timeout: 5000 });
      out.ms = Date.now() - t0;
      out.remote = c.remoteAddress;
      await c.close(); await v4.close(); await filler.close();
      py.stdin.end();
    `);
    assert.match(out.remote as string, /^127\.0\.0\.1:\d+$/);
    const ms = out.ms as number;
    assert.ok(ms >= 200 && ms < 2000, `IPv4 started after the ~250 ms fallback delay (${ms} ms)`);
  });
  test("sockit connect NAME PORT tries both addresses too: refused on ::1, connected on 127.0.0.1", () => {
    const main = join(dist, "cli", "main.js");
    const out = inDualStackNamespace(`
      const { spawn } = await import("node:child_process");
      const v4 = await net.listen("tcp", "127.0.0.1:0");
      const served = (async () => {
        const c = await v4.accept();
        const b = await c.readExactly(3);
        await c.write("ok\\n");
        await c.closeWrite();
        await c.read();
        await c.close();
        return b.toString();
      })();
      const cli = spawn(process.execPath, [${JSON.stringify(main)}, "-v", "connect", "-w", "5", "dual.test", String(v4.port)], { stdio: ["pipe", "pipe", "pipe"] });
      let so = "", se = "";
      cli.stdout.on("data", (d) => (so += d));
      cli.stderr.on("data", (d) => (se += d));
      cli.stdin.end("hi\\n");
      out.code = await new Promise((r) => cli.on("exit", r));
      out.stdout = so;
      out.stderr = se;
      served.catch(() => {});
      if (out.code === 0) out.served = await served;
      await v4.close(); // a pending accept (the CLI never came) rejects EBADF
    `);
    assert.equal(out.code, 0, String(out.stderr));
    assert.equal(out.stdout, "ok\n");
    assert.equal(out.served, "hi\n");
    assert.match(String(out.stderr), /connected to 127\.0\.0\.1:\d+/);
  });
  test("dial's timeout bounds the name's lookup too: a resolver that never answers is ETIMEDOUT in time", () => {
    // the only nameserver is a UDP socket on 127.0.0.2:53 that swallows every query
    const out = inDualStackNamespace(
      `
      const { spawn } = await import("node:child_process");
      const py = spawn("python3", ["-c", "import socket,sys\\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\\ns.bind(('127.0.0.2',53))\\nprint('ready',flush=True)\\nsys.stdin.read()"], { stdio: ["pipe", "pipe", "inherit"] });
      await new Promise((r) => py.stdout.once("data", r));
      const t0 = Date.now();
      try { await net.dial("tcp", "nowhere.invalid-sockit:80", { timeout: 400 }); out.result = "connected?"; }
      catch (e) { out.result = { name: e.name, code: e.code, message: e.message }; }
      out.ms = Date.now() - t0;
      py.stdin.end();
    `,
      "nameserver 127.0.0.2\noptions timeout:1 attempts:1\n",
    );
    const r = out.result as { name: string; code: string; message: string };
    assert.equal(r.name, "TimeoutError", JSON.stringify(r));
    assert.equal(r.code, "ETIMEDOUT");
    assert.match(r.message, /looking the name up took longer/);
    const ms = out.ms as number;
    assert.ok(ms >= 350 && ms < 900, `gave up at the timeout (${ms} ms)`);
  });
});
