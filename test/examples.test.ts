/**
 * The examples the tutorial walks through run as documented.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { needs, peerPath } from "./support/peers.js";
import { start } from "./support/spawn.js";

const example = (name: string) => fileURLToPath(new URL(`../examples/${name}.js`, import.meta.url));

test("examples/04-udp/udp-echo: three datagrams out, three replies back, boundaries kept", async () => {
  const run = start(process.execPath, [example("04-udp/udp-echo")]);
  assert.equal(await run.exit(10_000), 0, run.stderr());
  const replies = run.stdout().match(/reply "(\w+)" from \('127\.0\.0\.1', \d+\)/g) ?? [];
  assert.deepEqual(
    replies.map((r) => /"(\w+)"/.exec(r)![1]),
    ["one", "two", "three"],
  );
});

const NC = { skip: needs(["nc"]) };

test("examples/04-udp/udp-echo with a PORT keeps serving a real nc -u client until SIGTERM", NC, async () => {
  const exe = peerPath("nc");
  const srv = start(process.execPath, [example("04-udp/udp-echo"), "0"]);
  try {
    const [, port] = await srv.line(/udp echo server on 127\.0\.0\.1:(\d+)/);
    const nc = start(exe, ["-u", "127.0.0.1", port!]);
    nc.proc.stdin!.write("hello\n"); // stdin stays open until the reply is in
    await nc.line(/hello/, 5000);
    nc.proc.stdin!.end();
    nc.kill();
    await nc.exit(5000).catch(() => undefined);
  } finally {
    srv.kill("SIGTERM");
    assert.equal(await srv.exit(10_000), 0);
  }
});
