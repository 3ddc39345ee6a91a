/**
 * `sockit listen --exec / --sh-exec`, driven directly over real loopback connections: a small
 * accept loop (test/support/listen-modes.ts) builds the Client objects that listen.ts would and
 * hands them to mode.serve(). Broker and chat: cli-modes-rooms.test.ts.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { execMode } from "../src/cli/listen/exec.js";
import { dial } from "../src/net/index.js";
import { leakFree, within } from "./support/leaks.js";
import { readAll, serveMode, sha, testContext, until } from "./support/listen-modes.js";

describe("listen --exec / --sh-exec", () => {
  test(
    "--exec cat echoes all of 16 MiB when the client writes and half-closes at once",
    leakFree(async () => {
      const t = testContext();
      const srv = await serveMode(execMode({ exec: "cat" }, t.ctx));
      const c = await dial("tcp", srv.address);
      try {
        const data = randomBytes(16 * 1024 * 1024);
        const reading = readAll(c);
        await within(
          (async () => {
            await c.write(data);
            await c.closeWrite();
          })(),
          30_000,
          "write 16 MiB",
        );
        const got = await within(reading, 30_000, "echo of 16 MiB");
        assert.equal(got.length, data.length);
        assert.equal(sha(got), sha(data));
        await srv.idle();
        assert.match(t.stderr(), /client 1 \(127\.0\.0\.1:\d+\): cat exited with code 0/);
      } finally {
        await c.close();
        await srv.close();
      }
    }),
  );

  test(
    "a child that writes first and exits: the client gets its output and EOF while still sending",
    leakFree(async () => {
      const t = testContext();
      const srv = await serveMode(execMode({ exec: "printf hello" }, t.ctx));
      const c = await dial("tcp", srv.address);
      let sending = true;
      let sent = 0;
      const sender = (async () => {
        const chunk = Buffer.alloc(1024, "x");
        while (sending) {
          try {
            await c.write(chunk);
            sent += chunk.length;
          } catch {
            return;
          }
          await sleep(2);
        }
      })();
      try {
        const got = await within(readAll(c), 10_000, "output then EOF");
        assert.equal(got.toString(), "hello");
        // the server keeps reading (discarding) what we send after the child is gone
        const before = sent;
        await within(
          until(() => sent > before + 16 * 1024, 10_000, "more sends accepted"),
          11_000,
          "sends",
        );
        assert.equal(srv.served(), 0, "the connection stays until the client closes");
        sending = false;
        await sender;
        await c.closeWrite();
        await srv.idle();
        assert.equal(srv.served(), 1);
        assert.match(t.stderr(), /printf hello exited with code 0/);
      } finally {
        sending = false;
        await sender;
        await c.close();
        await srv.close();
      }
    }),
  );

  test(
    "after the child's stdout ends, the client's bytes still reach its stdin until EOF",
    leakFree(async () => {
      const t = testContext(false);
      // says "ready", closes its stdout, then counts its stdin on stderr
      const srv = await serveMode(execMode({ shExec: "printf ready; exec >&-; wc -c >&2" }, t.ctx));
      const c = await dial("tcp", srv.address);
      try {
        assert.equal((await within(readAll(c), 10_000, "ready + EOF")).toString(), "ready");
        await c.write(Buffer.alloc(1024 * 1024, 1));
        await c.closeWrite();
        await srv.idle();
        assert.match(t.stderr(), /^\s*1048576\s*$/m);
      } finally {
        await c.close();
        await srv.close();
      }
    }),
  );

  test(
    "the child sees SOCKIT_PEER_ADDR and SOCKIT_PEER_PORT (and the parent environment)",
    leakFree(async () => {
      const t = testContext(true, { ...process.env, SOCKIT_TEST_INHERITED: "inherited" });
      const srv = await serveMode(
        execMode({ shExec: 'echo "$SOCKIT_PEER_ADDR $SOCKIT_PEER_PORT $SOCKIT_TEST_INHERITED"' }, t.ctx),
      );
      const c = await dial("tcp", srv.address);
      const port = Number(c.localAddress.split(":").pop());
      try {
        await c.closeWrite();
        const got = (await within(readAll(c), 10_000, "env line")).toString();
        assert.equal(got, `127.0.0.1 ${port} inherited\n`);
      } finally {
        await c.close();
        await srv.close();
      }
    }),
  );

  test(
    "a command that cannot be started is reported, its client closed, and the listener goes on",
    leakFree(async () => {
      const t = testContext();
      const srv = await serveMode(execMode({ exec: "sockit-no-such-command-xyz --flag" }, t.ctx));
      try {
        for (let i = 1; i <= 2; i++) {
          const c = await dial("tcp", srv.address);
          try {
            assert.equal((await within(readAll(c), 10_000, "EOF")).length, 0);
          } finally {
            await c.close();
          }
          await until(() => srv.served() === i, 5000, `client ${i} served`);
        }
        assert.match(t.stderr(), /warning:.*client 1 .*cannot run sockit-no-such-command-xyz: .*ENOENT/);
        assert.match(t.stderr(), /client 2 .*ENOENT/);
        assert.deepEqual(srv.failures, []);
      } finally {
        await srv.close();
      }
    }),
  );

  test(
    "a client reset kills the child",
    leakFree(async () => {
      const t = testContext();
      const srv = await serveMode(execMode({ exec: "sleep 30" }, t.ctx));
      const c = await dial("tcp", srv.address);
      try {
        await until(() => /started sleep 30/.test(t.stderr()), 5000, "child started");
        c.abort();
        await srv.idle();
        assert.match(t.stderr(), /sleep 30 killed by SIGTERM/);
      } finally {
        await c.close();
        await srv.close();
      }
    }),
  );

  test(
    "-v reports the exit code; close() stops running children",
    leakFree(async () => {
      const t = testContext();
      const mode = execMode({ exec: "sleep 30" }, t.ctx);
      const exit3 = execMode({ shExec: "exit 3" }, t.ctx);
      const srv = await serveMode(mode);
      const srv3 = await serveMode(exit3);
      const c = await dial("tcp", srv.address);
      const c3 = await dial("tcp", srv3.address);
      try {
        await c3.closeWrite();
        await within(readAll(c3), 10_000, "EOF");
        await srv3.idle();
        assert.match(t.stderr(), /exit 3 exited with code 3/);
        await until(() => mode.running === 1, 5000, "child running");
        await within(mode.close(), 5000, "close()");
        assert.equal(mode.running, 0);
        assert.match(t.stderr(), /killed by SIGTERM/);
      } finally {
        await c.close();
        await c3.close();
        await srv.close();
        await srv3.close();
      }
    }),
  );

  test(
    "--crlf turns the child's LF into CRLF on the way out",
    leakFree(async () => {
      const t = testContext();
      const srv = await serveMode(execMode({ exec: "printf 'a\\nb\\r\\nc\\n'", crlf: true }, t.ctx));
      const c = await dial("tcp", srv.address);
      try {
        await c.closeWrite();
        assert.equal((await within(readAll(c), 10_000, "output")).toString(), "a\r\nb\r\nc\r\n");
      } finally {
        await c.close();
        await srv.close();
      }
    }),
  );
});
