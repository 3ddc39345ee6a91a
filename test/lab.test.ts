/**
 * The classic daytime lab (examples/02-client-server/daytime-*.ts) runs as two processes and exchanges what the
 * lab says: the date and time one way, the acknowledgement the other.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { start } from "./support/spawn.js";

const server = fileURLToPath(new URL("../examples/02-client-server/daytime-server.js", import.meta.url));
const client = fileURLToPath(new URL("../examples/02-client-server/daytime-client.js", import.meta.url));
const tracePreload = new URL("./support/trace-preload.js", import.meta.url).href;

test("the daytime lab: the client gets the time, the server gets the acknowledgement with the client's address", async () => {
  const srv = start(process.execPath, [server, "0", "127.0.0.1"]);
  try {
    const [, host, port] = await srv.line(/listening on (\S+):(\d+)/);
    const cli = start(process.execPath, [client, host!, port!]);
    assert.equal(await cli.exit(), 0, cli.stderr());
    const [, clientPort] = cli.stdout().match(/client address: \('127\.0\.0\.1', (\d+)\)/) ?? [];
    assert.ok(clientPort, `client prints its address: ${cli.stdout()}`);
    const [, time] = cli.stdout().match(/server time: (.+)/) ?? [];
    const when = Date.parse(time!.replace(/ \(.*\)$/, ""));
    assert.ok(Math.abs(when - Date.now()) < 60_000, `a current date: ${time}`);
    const [, ackPort, ack] = (await srv.line(/from \('127\.0\.0\.1', (\d+)\): (.+)/)) ?? [];
    assert.equal(ackPort, clientPort, "the server prints the client's address");
    assert.equal(ack, "acknowledgement received from the server");
  } finally {
    srv.kill("SIGTERM");
    assert.equal(await srv.exit(), 0, "SIGTERM stops the server cleanly");
  }
});

test("the daytime client reports a refused connection clearly and exits 1", async () => {
  const cli = start(process.execPath, [client, "127.0.0.1", "1"]);
  assert.equal(await cli.exit(), 1);
  assert.match(
    cli.stderr(),
    /connect 127\.0\.0\.1:1: connection refused \(ECONNREFUSED\) — is a server listening there\?/,
  );
});

test("traced, the lab server makes the textbook sequence of calls", async () => {
  const srv = start(process.execPath, ["--import", tracePreload, server, "0", "127.0.0.1"]);
  try {
    const [, host, port] = await srv.line(/listening on (\S+):(\d+)/);
    const cli = start(process.execPath, ["--import", tracePreload, client, host!, port!]);
    assert.equal(await cli.exit(), 0, cli.stderr());
    await srv.line(/acknowledgement/);
    srv.kill("SIGTERM");
    await srv.exit();
    const calls = srv
      .stderr()
      .split("\n")
      .filter(Boolean)
      .map((l) => l.replace(/\(.*/, ""));
    assert.deepEqual(calls, [
      "socket",
      "bind",
      "listen",
      "getsockname",
      "accept",
      "sendall",
      "recv",
      "close",
      "close", // SIGTERM closes the listener…
      "accept", // …and the accept() that was waiting fails with EBADF
    ]);
    const lines = srv.stderr().split("\n");
    assert.equal(lines[0], "socket(AF_INET, SOCK_STREAM) = 3");
    assert.equal(lines[1], "bind(3, ('127.0.0.1', 0)) = 0");
    assert.equal(lines[2], "listen(3, 5) = 0");
    assert.match(lines[4]!, /^accept\(3\) = 4 \('127\.0\.0\.1', \d+\)$/);
    assert.match(lines[5]!, /^sendall\(4, b'.+'(\.\.\.)?, \d+\) = \d+$/);
    assert.equal(lines[6], "recv(4, 1024) = 40 b'acknowledgement received from the server'");
    assert.equal(lines[7], "close(4) = 0");
    assert.equal(lines[8], "close(3) = 0");
    assert.equal(lines[9], "accept(3) = -1 EBADF (OSError)");
    const cliCalls = cli
      .stderr()
      .split("\n")
      .filter(Boolean)
      .map((l) => l.replace(/\(.*/, ""));
    assert.deepEqual(cliCalls, ["socket", "connect", "getsockname", "recv", "sendall", "close"]);
  } finally {
    srv.kill("SIGKILL");
  }
});
