/**
 * Stop handling: SIGINT/SIGTERM handlers that count and go away, the first-signal-only variant
 * (a second Ctrl-C kills the default way), the shell's exit code for a signal, and withStop: a
 * stdout closed by its reader ends quietly, any other stdout failure is the command's error.
 */
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { Context } from "../context.js";
import { onSignals, onStopSignals, signalExitCode, STOP_SIGNALS, withStop } from "./stop.js";

const baseline = () => STOP_SIGNALS.map((s) => process.listenerCount(s));

/** Sends `sig` to this process and waits until the handlers ran. */
async function raise(sig: "SIGINT" | "SIGTERM"): Promise<void> {
  process.kill(process.pid, sig);
  await new Promise((resolve) => setTimeout(resolve, 50));
}

test("onSignals hands every SIGINT/SIGTERM to the handler with a count, and off() removes it", async () => {
  const before = baseline();
  const seen: Array<[string, number]> = [];
  const off = onSignals((sig, n) => seen.push([sig, n]));
  try {
    assert.deepEqual(
      baseline(),
      before.map((n) => n + 1),
    );
    await raise("SIGTERM");
    await raise("SIGINT");
    assert.deepEqual(seen, [
      ["SIGTERM", 1],
      ["SIGINT", 2],
    ]);
  } finally {
    off();
  }
  assert.deepEqual(baseline(), before);
});

test("onStopSignals stops on the first signal and removes its handlers at once", async () => {
  const before = baseline();
  // keep one handler of our own so that no signal can end the test process
  const keep = onSignals(() => {});
  try {
    const stops: string[] = [];
    onStopSignals((sig) => stops.push(sig));
    await raise("SIGINT");
    assert.deepEqual(stops, ["SIGINT"]);
    assert.deepEqual(
      baseline(),
      before.map((n) => n + 1),
      "only our keeper is left: a second Ctrl-C would take the default path",
    );
    await raise("SIGTERM");
    assert.deepEqual(stops, ["SIGINT"]);
  } finally {
    keep();
  }
  assert.deepEqual(baseline(), before);
});

test("signalExitCode is 128 + the signal number", () => {
  assert.equal(signalExitCode("SIGINT"), 130);
  assert.equal(signalExitCode("SIGTERM"), 143);
});

function ctxWith(stdout: PassThrough, stdin = new PassThrough()) {
  const stderr = new PassThrough();
  const err: Buffer[] = [];
  stderr.on("data", (d: Buffer) => err.push(d));
  const ctx = new Context(
    { verbose: false, hexdump: false, trace: false, json: false, color: "never" },
    { stdin, stdout, stderr, env: {} },
  );
  return { ctx, err: () => Buffer.concat(err).toString() };
}

test("withStop: stdout closed by its reader (EPIPE) aborts the body quietly", async () => {
  const stdout = new PassThrough();
  const { ctx } = ctxWith(stdout);
  const code = await withStop(ctx, async (signal) => {
    stdout.destroy(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    return 0;
  });
  assert.equal(code, 0);
});

test("withStop: any other stdout failure (ENOSPC) is rethrown after the body ends", async () => {
  const stdout = new PassThrough();
  const { ctx } = ctxWith(stdout);
  await assert.rejects(
    withStop(ctx, async (signal) => {
      stdout.destroy(Object.assign(new Error("no space left on device"), { code: "ENOSPC" }));
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      return 0;
    }),
    (e: unknown) => (e as { code?: string }).code === "ENOSPC",
  );
});

test("withStop: SIGTERM aborts the body; the handlers are gone afterwards", async () => {
  const before = baseline();
  const { ctx } = ctxWith(new PassThrough());
  const keep = onSignals(() => {});
  try {
    const code = await withStop(ctx, async (signal) => {
      await raise("SIGTERM");
      assert.equal(signal.aborted, true);
      return 7;
    });
    assert.equal(code, 7);
    assert.deepEqual(
      baseline(),
      before.map((n) => n + 1),
    );
  } finally {
    keep();
  }
});

test("withStop: a stdin read error is a warning and reads as EOF", async () => {
  const stdin = new PassThrough();
  const { ctx, err } = ctxWith(new PassThrough(), stdin);
  const got = await withStop(ctx, async (_signal, reader) => {
    const pending = reader.read();
    stdin.destroy(new Error("EIO reading the terminal"));
    assert.equal(await pending, null);
    return 0;
  });
  assert.equal(got, 0);
  assert.match(err(), /warning: reading stdin: EIO reading the terminal/);
});
