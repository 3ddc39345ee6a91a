import assert from "node:assert/strict";
import { test } from "node:test";
import { Command } from "commander";
import { UsageError } from "../exit.js";
import { CommandRegistry } from "./registry.js";
import { parseBytes, planRecv, planSend, register, type RecvPlan, type SendPlan } from "./transfer.js";

/** argv (after "sockit") → the chosen command and its parsed options, through the real definition. */
async function parse(argv: string[]): Promise<{ args: unknown[]; opts: Record<string, unknown> }> {
  const reg = new CommandRegistry();
  const program = new Command("sockit")
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  register(program, reg);
  await program.parseAsync(argv, { from: "user" });
  const cmd = reg.chosen!.command;
  return { args: cmd.processedArgs as unknown[], opts: cmd.opts() };
}

async function sendPlan(argv: string[]): Promise<SendPlan> {
  const { args, opts } = await parse(["send", ...argv]);
  return planSend(args[0] as string[], opts);
}

async function recvPlan(argv: string[]): Promise<RecvPlan> {
  const { args, opts } = await parse(["recv", ...argv]);
  return planRecv(args[0] as string, opts);
}

test("send: FILE... then HOST:PORT, flags into the plan", async () => {
  for (const [argv, want] of [
    [["a", "127.0.0.1:9000"], { files: ["a"], address: "127.0.0.1:9000", recursive: false, rate: undefined }],
    [
      ["-r", "a", "b", "[::1]:9"],
      { files: ["a", "b"], address: "[::1]:9", recursive: true, rate: undefined },
    ],
    [["--rate", "1MiB", "a", "h:1"], { files: ["a"], address: "h:1", recursive: false, rate: 1_048_576 }],
  ] as const) {
    const p = await sendPlan([...argv]);
    assert.deepEqual(
      { files: p.files, address: p.address, recursive: p.recursive, rate: p.rate },
      want,
      argv.join(" "),
    );
  }
  const p = await sendPlan(["--follow-symlinks", "--no-progress", "-t", "2.5", "a", "h:1"]);
  assert.deepEqual([p.followSymlinks, p.progress, p.timeoutMs], [true, false, 2500]);
  // protocol version 2 unless --hash-first asks for version 1
  assert.equal(p.hashFirst, false);
  assert.equal((await sendPlan(["--hash-first", "a", "h:1"])).hashFirst, true);
});

test("send: a missing HOST:PORT, a bad address or a bad --rate is a usage error", async () => {
  for (const argv of [
    ["a"],
    ["a", "nohostport"],
    ["a", "h:0"],
    ["a", "h:99999"],
    ["--rate", "fast", "a", "h:1"],
    ["--rate", "0", "a", "h:1"],
  ])
    await assert.rejects(sendPlan(argv), UsageError, argv.join(" "));
});

test("recv: [HOST:]PORT, --dir, --force, --max-size", async () => {
  for (const [argv, want] of [
    [["9000"], { address: ":9000", dir: ".", force: false, maxSize: undefined }],
    [
      ["--dir", "/srv/in", "-f", "127.0.0.1:0"],
      { address: "127.0.0.1:0", dir: "/srv/in", force: true, maxSize: undefined },
    ],
    [["--max-size", "10M", "[::1]:0"], { address: "[::1]:0", dir: ".", force: false, maxSize: 10_000_000 }],
  ] as const) {
    const p = await recvPlan([...argv]);
    assert.deepEqual(
      { address: p.address, dir: p.dir, force: p.force, maxSize: p.maxSize },
      want,
      argv.join(" "),
    );
  }
  assert.equal((await recvPlan(["--idle", "0", "1"])).idleMs, 0);
  for (const argv of [
    ["--max-size", "-1", "1"],
    ["--max-size", "1X", "1"],
    ["--dir", "", "1"],
    ["--idle", "soon", "1"],
    ["70000"],
  ])
    await assert.rejects(recvPlan(argv), UsageError, argv.join(" "));
});

test("parseBytes: SI and binary suffixes, an optional B; nothing else", () => {
  for (const [text, n] of [
    ["1", 1],
    ["1500", 1500],
    ["10k", 10_000],
    ["10K", 10_000],
    ["2M", 2_000_000],
    ["2MB", 2_000_000],
    ["1.5G", 1_500_000_000],
    ["1Ki", 1024],
    ["1GiB", 2 ** 30],
  ] as const)
    assert.equal(parseBytes("--x", text), n, text);
  for (const text of ["", "0", "-1", "1e6", "k", "1 M", "1m", "0x10", "99999999999T"])
    assert.throws(() => parseBytes("--x", text), UsageError, text);
});
