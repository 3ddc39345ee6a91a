import assert from "node:assert/strict";
import { test } from "node:test";
import { Command } from "commander";
import { UsageError } from "../exit.js";
import { DEFAULT_MAX_CLIENTS } from "../listen/accept.js";
import { argsOf } from "../args.js";
import { CommandRegistry } from "./registry.js";
import { type ListenFlags, type ListenPlan, planListen, register } from "./listen.js";

/** argv (after "sockit") → plan, through the real commander definition. */
async function plan(argv: string[]): Promise<ListenPlan> {
  const reg = new CommandRegistry();
  const program = new Command("sockit")
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  register(program, reg);
  await program.parseAsync(argv, { from: "user" });
  const cmd = reg.chosen!.command;
  const [host, port] = cmd.processedArgs as Array<string | undefined>;
  return planListen(argsOf(host, port), cmd.opts<ListenFlags>());
}

test("listen argv becomes a plan: address, dual-stack fallback, families, Unix, UDP", async () => {
  const table: Array<[string[], Partial<ListenPlan>]> = [
    [
      ["listen", "8000"],
      { network: "tcp", address: "[::]:8000", fallback: "0.0.0.0:8000", ipv6Only: false, portZero: false },
    ],
    [["listen", "0"], { address: "[::]:0", portZero: true }],
    [["listen", "-4", "8000"], { network: "tcp4", address: "0.0.0.0:8000", fallback: undefined }],
    [
      ["listen", "-6", "8000"],
      { network: "tcp6", address: "[::]:8000", ipv6Only: true, fallback: undefined },
    ],
    [["listen", "127.0.0.1", "0"], { network: "tcp", address: "127.0.0.1:0", fallback: undefined }],
    [["listen", "::1", "0"], { network: "tcp", address: "[::1]:0" }],
    [["listen", "-6", "::", "0"], { network: "tcp6", address: "[::]:0", ipv6Only: true }],
    [["listen", "localhost", "http"], { address: "localhost:http" }],
    [["listen", "-U", "/tmp/s.sock"], { network: "unix", address: "/tmp/s.sock", fallback: undefined }],
    [["listen", "-u", "5353"], { network: "udp", address: "[::]:5353", udpPeers: "all" }],
    [["listen", "-u", "--udp-peers", "first", "-4", "0"], { network: "udp4", udpPeers: "first" }],
  ];
  for (const [argv, want] of table) {
    const got = await plan(argv);
    for (const [k, v] of Object.entries(want)) {
      assert.deepEqual(got[k as keyof ListenPlan], v, `${argv.join(" ")}: ${k}`);
    }
  }
});

test("listen argv chooses one client, many (-k, -m), and the serving mode", async () => {
  const table: Array<[string[], Partial<ListenPlan>]> = [
    [["listen", "0"], { keep: false, mode: "stdio", max: DEFAULT_MAX_CLIENTS, shutdown: true }],
    [["listen", "-k", "0"], { keep: true, max: DEFAULT_MAX_CLIENTS }],
    [["listen", "-k", "-m", "3", "0"], { keep: true, max: 3 }],
    [["listen", "--no-shutdown", "--crlf", "-i", "2", "0"], { shutdown: false, crlf: true, idleMs: 2000 }],
    [["listen", "--exec", "cat -n", "0"], { mode: "exec", keep: false, modeOptions: { exec: "cat -n" } }],
    [
      ["listen", "-k", "--sh-exec", "echo hi", "0"],
      { mode: "sh-exec", keep: true, modeOptions: { shExec: "echo hi" } },
    ],
    [["listen", "--broker", "0"], { mode: "broker", keep: true, modeOptions: { broker: true } }],
    [
      ["listen", "--chat", "--crlf", "-m", "2", "0"],
      { mode: "chat", keep: true, max: 2, modeOptions: { chat: true, crlf: true } },
    ],
  ];
  for (const [argv, want] of table) {
    const got = await plan(argv);
    for (const [k, v] of Object.entries(want)) {
      assert.deepEqual(got[k as keyof ListenPlan], v, `${argv.join(" ")}: ${k}`);
    }
  }
});

test("--allow and --deny are repeatable and deny wins in the plan's policy", async () => {
  const p = await plan(["listen", "--allow", "127.0.0.0/8", "--allow", "::1", "--deny", "127.0.0.2", "0"]);
  assert.deepEqual(
    p.policy.allow.map((c) => c.text),
    ["127.0.0.0/8", "::1/128"],
  );
  assert.deepEqual(
    p.policy.deny.map((c) => c.text),
    ["127.0.0.2/32"],
  );
  assert.equal(p.policy.check("127.0.0.1").ok, true);
  assert.equal(p.policy.check("127.0.0.2").ok, false);
  assert.equal(p.policy.check("::1").ok, true);
  assert.equal(p.policy.check("10.0.0.1").ok, false);
});

test("listen argv mistakes are UsageErrors that say what to write", async () => {
  const table: Array<[string[], RegExp]> = [
    [["listen"], /give \[HOST\] PORT/],
    [["listen", "-U"], /with -U give one PATH/],
    [["listen", "-U", "/tmp/s", "80"], /with -U give one PATH/],
    [["listen", "-U", "-u", "/tmp/s"], /-U and -u/],
    [["listen", "-U", "--allow", "::1", "/tmp/s"], /--allow\/--deny need IP clients/],
    [["listen", "-U", "-6", "/tmp/s"], /-4\/-6 do not apply/],
    [["listen", "70000"], /PORT must be 0\.\.65535/],
    [["listen", "-4", "-6", "0"], /exclude each other/],
    [["listen", "-4", "::1", "0"], /IPv6 address but -4/],
    [["listen", "-m", "2", "0"], /use it with -k/],
    [["listen", "-k", "-m", "0", "0"], /-m needs a number/],
    [["listen", "-k", "-m", "x", "0"], /-m needs a number/],
    [["listen", "--udp-peers", "first", "0"], /--udp-peers applies to -u/],
    [["listen", "-u", "--udp-peers", "some", "0"], /--udp-peers must be first or all/],
    [["listen", "--broker", "--chat", "0"], /choose one of --broker, --chat/],
    [["listen", "--exec", "cat", "--sh-exec", "cat", "0"], /choose one of/],
    [["listen", "--exec", " ", "0"], /need a command/],
    [["listen", "-u", "--broker", "0"], /does not work with -u/],
    [["listen", "--chat", "-i", "5", "0"], /-i applies to the default/],
    [["listen", "--broker", "--no-shutdown", "0"], /--no-shutdown applies/],
    [["listen", "--allow", "10.0.0.0/33", "0"], /bad CIDR/],
    [["listen", "--deny", "example.test", "0"], /bad CIDR/],
    [["listen", "-i", "0", "0"], /-i must be more than 0/],
  ];
  for (const [argv, re] of table) {
    await assert.rejects(
      plan(argv),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
      argv.join(" "),
    );
  }
});
