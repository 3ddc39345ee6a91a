/**
 * A child process as a splice end, with a real child: its stdout is read to EOF, a half-close
 * ends its stdin, a child that stops reading makes writes fail (EPIPE, as an OSError) or be
 * discarded, and abort() kills it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { OSError } from "../../errors/index.js";
import { childEnd } from "./child.js";

function started(argv: string[]) {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "ignore"] });
  return new Promise<typeof child>((resolve, reject) => {
    child.once("spawn", () => resolve(child));
    child.once("error", reject);
  });
}

async function readAll(end: { read(): Promise<Buffer | null> }): Promise<string> {
  let s = "";
  for (let b = await end.read(); b !== null; b = await end.read()) s += b.toString();
  return s;
}

test("childEnd: writes reach the child, closeWrite ends its stdin, its stdout reads to EOF", async () => {
  const end = childEnd(await started(["tr", "a-z", "A-Z"]), "exec tr", {
    discardWhenDeaf: false,
    killGraceMs: 1000,
  });
  await end.write(Buffer.from("hello\n"));
  await end.closeWrite();
  assert.equal(await readAll(end), "HELLO\n");
  await end.close(true);
  await end.exited;
});

test("childEnd: a child that stopped reading fails writes with EPIPE, or swallows them when asked", async () => {
  for (const discard of [false, true]) {
    const child = await started(["sh", "-c", "exec 0<&-; sleep 0.2"]);
    const end = childEnd(child, "exec deaf", { discardWhenDeaf: discard, killGraceMs: 1000 });
    const big = Buffer.alloc(1 << 20);
    let failure: unknown;
    try {
      for (let i = 0; i < 8; i++) await end.write(big);
    } catch (e) {
      failure = e;
    }
    if (discard) assert.equal(failure, undefined, "discarded, not failed");
    else assert.ok(failure instanceof OSError && failure.code === "EPIPE", `EPIPE, got ${String(failure)}`);
    await end.close(true);
  }
});

test("childEnd.abort kills the child (SIGTERM) and ends its pipes", async () => {
  const child = await started(["sleep", "30"]);
  const end = childEnd(child, "exec sleep", { discardWhenDeaf: true, killGraceMs: 1000 });
  const pending = end.read();
  end.abort();
  assert.equal(await pending, null);
  await end.exited;
  assert.equal(child.signalCode, "SIGTERM");
});
