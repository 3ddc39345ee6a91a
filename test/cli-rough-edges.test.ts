/**
 * The CLI's rough edges, end to end with the built `sockit` against real sockets: one output
 * path (a closed stdout ends every command quietly), global options that work for the service
 * clients, exit codes and messages as the table and the usage say, colour, naming of Unix
 * peers, and the -v summary line.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { listen } from "../src/net/index.js";
import { SOCKIT, type Served, sockit, startServe } from "./support/sockit-serve.js";

const LIMIT = { timeout: 30_000 };

/** Runs a bash script (bounded), with $SOCKIT set; resolves its exit code and output. */
function bash(
  script: string,
  env: NodeJS.ProcessEnv = {},
  ms = 15_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "bash",
      ["-c", script],
      { env: { ...process.env, SOCKIT: `${process.execPath} ${SOCKIT}`, ...env }, timeout: ms },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number) : 0;
        resolve({ code: typeof code === "number" ? code : -1, stdout, stderr });
      },
    );
  });
}

describe("the service clients share the one output path", () => {
  let served: Served;
  before(async () => {
    served = await startServe([]);
  });
  after(async () => {
    assert.equal(await served.stop(), 0);
  });

  for (const [name, args] of [
    ["chargen", ["chargen", "-n", "0"]],
    ["chargen -v", ["-v", "chargen", "-n", "0"]],
  ] as const) {
    test(`sockit ${name} HOST | head -c 100: quiet, exit 0 (was: write EPIPE, exit 6)`, LIMIT, async () => {
      const at = `127.0.0.1:${served.port("chargen")}`;
      const r = await bash(
        `$SOCKIT ${args.join(" ")} ${at} 2>/tmp/sockit-epipe.$$ | head -c 100 >/dev/null; ` +
          `c=\${PIPESTATUS[0]}; cat /tmp/sockit-epipe.$$ >&2; rm -f /tmp/sockit-epipe.$$; exit $c`,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /EPIPE|Error:|at /);
    });
  }

  test("-x dumps the bytes on the wire of echo (both ways) and daytime (what came in)", LIMIT, async () => {
    const e = await sockit(["-x", "echo", `127.0.0.1:${served.port("echo")}`, "hi"]);
    assert.equal(e.code, 0, e.stderr);
    assert.equal(e.stdout, "hi\n");
    assert.match(e.stderr, /> 00000000 {2}68 69 0a .*\|hi\.\|$/m);
    assert.match(e.stderr, /< 00000000 {2}68 69 0a .*\|hi\.\|$/m);
    const d = await sockit(["daytime", "-x", `127.0.0.1:${served.port("daytime")}`]);
    assert.equal(d.code, 0, d.stderr);
    // the dump is what the server sent: the line printed plus its CRLF (0d 0a)
    const hex = Buffer.from(d.stdout.replace(/\n$/, "\r\n"))
      .subarray(0, 8)
      .toString("hex")
      .replace(/(..)/g, "$1 ")
      .trim();
    assert.match(d.stderr, new RegExp(`< 00000000 {2}${hex}`));
    assert.match(d.stderr, /0d 0a +\|.*\.\.\|$/m);
  });

  for (const service of ["time", "daytime", "qotd"] as const) {
    test(`-v ${service} prints the round-trip time`, LIMIT, async () => {
      const r = await sockit(["-v", service, `127.0.0.1:${served.port(service)}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^sockit: \\d+ bytes from TCP 127\\.0\\.0\\.1:${served.port(service)} in \\d+\\.\\d\\d ms$`,
          "m",
        ),
      );
    });
  }

  test(
    "--color always beats NO_COLOR: hexdump offsets and the error prefix are coloured",
    LIMIT,
    async () => {
      const r = await bash(`$SOCKIT --color always -x echo 127.0.0.1:${served.port("echo")} hi`, {
        NO_COLOR: "1",
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /> \x1b\[36m00000000\x1b\[39m {2}68 69 0a/);
      const plain = await bash(`$SOCKIT -x echo 127.0.0.1:${served.port("echo")} hi`, { NO_COLOR: "1" });
      assert.doesNotMatch(plain.stderr, /\x1b\[/);
      const err = await bash(`$SOCKIT --color always info -s nosuchsvc`, { NO_COLOR: "1" });
      assert.match(err.stderr, /^\x1b\[31msockit:\x1b\[39m getservbyname nosuchsvc/);
    },
  );

  test("--trace with colour: the call names stand out", LIMIT, async () => {
    const r = await bash(`$SOCKIT --color always --trace echo 127.0.0.1:${served.port("echo")} hi`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^\x1b\[36mconnect\x1b\[39m\x1b\[2m\(\d+, /m);
  });
});

describe("exit codes and messages", () => {
  test("info -s nosuchsvc exits 2 (name resolution), as the table says", LIMIT, async () => {
    const r = await sockit(["info", "-s", "nosuchsvc"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^sockit: getservbyname nosuchsvc\/tcp: .*ENOENT/m);
  });

  test("info -s 7 prints just the service", LIMIT, async () => {
    const r = await sockit(["info", "-s", "7"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "service: echo = 7/tcp\n");
  });

  test(
    "--json only where a command has a report: connect/listen/relay refuse it, info/scan take it",
    LIMIT,
    async () => {
      for (const args of [
        ["--json", "connect", "127.0.0.1", "9"],
        ["connect", "--json", "127.0.0.1", "9"],
        ["listen", "--json", "0"],
        ["relay", "--json", "tcp-listen:0", "tcp:127.0.0.1:9"],
      ]) {
        const r = await sockit(args);
        assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, /^sockit: .*json/m, args.join(" "));
        assert.match(r.stderr, /^usage: sockit /m, args.join(" "));
      }
      for (const args of [
        ["--json", "info", "-s", "7"],
        ["info", "-s", "7", "--json"],
      ]) {
        const r = await sockit(args);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout), { service: { port: 7, proto: "tcp", name: "echo" } });
      }
    },
  );

  test("a negative PORT: 'sockit: PORT must be 1..65535, got -1' and the usage line", LIMIT, async () => {
    const r = await sockit(["connect", "127.0.0.1", "-1"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "sockit: PORT must be 1..65535, got -1\n" +
        "usage: sockit connect [options] <host|path> [port]\n" +
        "(run sockit connect --help for more)\n",
    );
  });

  test("other argument errors read like the rest: sockit: …, usage line, never 'error:'", LIMIT, async () => {
    for (const args of [
      ["connect", "--bogus", "h", "1"],
      ["listen", "--color", "pink", "1"],
      ["nosuchcmd"],
      ["connect", "127.0.0.1", "70000"],
    ]) {
      const r = await sockit(args);
      assert.equal(r.code, 1, args.join(" "));
      assert.match(r.stderr, /^sockit: /, args.join(" "));
      assert.match(r.stderr, /^usage: sockit/m, args.join(" "));
      assert.doesNotMatch(r.stderr, /^error:/m, args.join(" "));
    }
  });

  test("a bad -s names the source address, not the destination", LIMIT, async () => {
    const ln = await listen("tcp", "127.0.0.1:0");
    try {
      const port = ln.port;
      const r = await sockit(["connect", "-s", "192.0.2.123", "127.0.0.1", String(port)]);
      assert.equal(r.code, 6, r.stderr);
      assert.match(
        r.stderr,
        /^sockit: bind 192\.0\.2\.123 \(source, to reach 127\.0\.0\.1:\d+\): cannot assign requested address \(EADDRNOTAVAIL\) — -s 192\.0\.2\.123 is not one of this host's addresses/m,
      );
    } finally {
      await ln.close();
    }
  });

  test("serve on a busy port points to --port-base / --port NAME=N, not port 0", LIMIT, async () => {
    const ln = await listen("tcp", "127.0.0.1:0");
    try {
      const port = ln.port;
      const r = await sockit(["serve", "echo", "--port", `echo=${port}`]);
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, /address already in use \(EADDRINUSE\) — .*--port-base N .*--port NAME=N/);
      assert.doesNotMatch(r.stderr, /port 0/);
    } finally {
      await ln.close();
    }
  });

  test("a scan with nothing open says so", LIMIT, async () => {
    // ports bound and closed again: nothing listens there
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      const ln = await listen("tcp", "127.0.0.1:0");
      ports.push(ln.port);
      await ln.close();
    }
    const r = await sockit(["scan", "127.0.0.1", ports.join(",")]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "no open port among the 3 scanned on 127.0.0.1: 3 closed (--all lists them)\n");
  });
});

describe("Unix peers and the -v summary", () => {
  test("listen -U --chat -v names a Unix client 'unix', never '()'", LIMIT, async () => {
    const dir = mkdtempSync(join(tmpdir(), "sockit-unix-"));
    try {
      const path = join(dir, "s.sock");
      const log = join(dir, "log");
      const r = await bash(
        `$SOCKIT -v listen -U ${path} --chat 2>${log} & pid=$!; ` +
          `for i in $(seq 50); do [ -S ${path} ] && break; sleep 0.1; done; ` +
          `python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(0.3); s.close()' ${path}; ` +
          `sleep 0.3; kill -INT $pid; wait $pid; c=$?; cat ${log} >&2; exit $c`,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /client 1 \(unix\) joined the chat/);
      assert.doesNotMatch(r.stderr, /\(\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("-v connect ends with 'N bytes sent, M received in S s (RATE)'", LIMIT, async () => {
    const ln = await listen("tcp", "127.0.0.1:0");
    const port = ln.port;
    const server = (async () => {
      const c = await ln.accept();
      let n = 0;
      for (let b = await c.read(); b !== null; b = await c.read()) n += b.length;
      await c.write(Buffer.from(`got ${n}\n`));
      await c.close();
    })();
    try {
      const r = await bash(`head -c 100000 /dev/zero | $SOCKIT -v connect 127.0.0.1 ${port}`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "got 100000\n");
      assert.match(
        r.stderr,
        /^sockit: 100000 bytes sent, 11 received in \d+\.\d\d s \(\d+(\.\d+)? [kMG]?B\/s\)$/m,
      );
      await server;
    } finally {
      await ln.close();
    }
  });
});
