/**
 * The classic daytime lab (examples/daytime-*.ts) runs as two processes and exchanges what the
 * lab says: the date and time one way, the acknowledgement the other.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { start } from "./support/spawn.js";

const server = fileURLToPath(new URL("../examples/daytime-server.js", import.meta.url));
const client = fileURLToPath(new URL("../examples/daytime-client.js", import.meta.url));

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
  assert.match(cli.stderr(), /connect 127\.0\.0\.1:1: connection refused \(ECONNREFUSED\) — is a server listening there\?/);
});
