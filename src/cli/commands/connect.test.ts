import assert from "node:assert/strict";
import { test } from "node:test";
import { Command, CommanderError } from "commander";
import { UsageError } from "../exit.js";
import { argsOf, parseSeconds } from "../args.js";
import { setupLimit, setupTimeoutError } from "../connect/setup.js";
import { parseHost, parsePort } from "../session/address.js";
import {
  type ConnectFlags,
  type ConnectPlan,
  planConnect,
  register,
  UDP_DEFAULT_LINGER_MS,
} from "./connect.js";
import { CommandRegistry } from "./registry.js";

/** argv (after "sockit") → plan, through the real commander definition. */
async function plan(argv: string[]): Promise<ConnectPlan> {
  const reg = new CommandRegistry();
  const program = new Command("sockit")
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  register(program, reg);
  await program.parseAsync(argv, { from: "user" });
  const cmd = reg.chosen!.command;
  const [host, port] = cmd.processedArgs as Array<string | undefined>;
  return planConnect(argsOf(host, port), cmd.opts<ConnectFlags>());
}

const TCP_DEFAULTS = {
  source: undefined,
  connectTimeoutMs: undefined,
  idleMs: undefined,
  lingerMs: undefined,
  crlf: false,
  shutdown: true,
};

test("connect argv becomes a plan: network, address, timeouts, source, crlf, shutdown", async () => {
  const table: Array<[string[], Partial<ConnectPlan>]> = [
    [["connect", "127.0.0.1", "80"], { ...TCP_DEFAULTS, network: "tcp", address: "127.0.0.1:80" }],
    [["connect", "::1", "80"], { network: "tcp", address: "[::1]:80" }],
    [["connect", "[::1]", "8080"], { network: "tcp", address: "[::1]:8080" }],
    [["connect", "localhost", "http"], { network: "tcp", address: "localhost:http" }],
    [["connect", "-4", "localhost", "7"], { network: "tcp4", address: "localhost:7" }],
    [["connect", "-6", "localhost", "7"], { network: "tcp6", address: "localhost:7" }],
    [["connect", "-u", "127.0.0.1", "53"], { network: "udp", lingerMs: UDP_DEFAULT_LINGER_MS }],
    [["connect", "-u", "-6", "::1", "53"], { network: "udp6", address: "[::1]:53" }],
    [["connect", "-u", "-q", "0", "127.0.0.1", "53"], { network: "udp", lingerMs: 0 }],
    [["connect", "-u", "-w", "3", "127.0.0.1", "53"], { lingerMs: undefined, connectTimeoutMs: 3000 }],
    [["connect", "-u", "-w", "3", "-q", "5", "127.0.0.1", "53"], { lingerMs: 5000 }],
    [["connect", "-U", "/tmp/s.sock"], { ...TCP_DEFAULTS, network: "unix", address: "/tmp/s.sock" }],
    [["connect", "-w", "2", "h", "1"], { connectTimeoutMs: 2000 }],
    [["connect", "-w", "0.25", "h", "1"], { connectTimeoutMs: 250 }],
    [["connect", "-i", "5", "-q", "1.5", "h", "1"], { idleMs: 5000, lingerMs: 1500 }],
    [["connect", "--crlf", "--no-shutdown", "h", "1"], { crlf: true, shutdown: false }],
    [["connect", "-s", "127.0.0.2", "h", "1"], { source: { address: "127.0.0.2" } }],
    [["connect", "-p", "40000", "h", "1"], { source: { port: 40000 } }],
    [["connect", "-s", "::1", "-p", "1234", "::1", "1"], { source: { address: "::1", port: 1234 } }],
    [["connect", "h", "1", "--idle", "3"], { idleMs: 3000 }],
    [["connect", "-v", "-x", "h", "1"], { address: "h:1" }],
  ];
  for (const [argv, want] of table) {
    const got = await plan(argv);
    for (const [k, v] of Object.entries(want)) {
      assert.deepEqual(got[k as keyof ConnectPlan], v, `${argv.join(" ")}: ${k}`);
    }
  }
});

test("connect argv mistakes are UsageErrors that say what to write", async () => {
  const table: Array<[string[], RegExp]> = [
    [["connect", "127.0.0.1"], /give HOST and PORT/],
    [["connect", "-U", "/tmp/s", "80"], /with -U give one PATH/],
    [["connect", "-U", "-u", "/tmp/s"], /-U and -u/],
    [["connect", "-U", "-4", "/tmp/s"], /-4\/-6 do not apply/],
    [["connect", "-U", "-s", "::1", "/tmp/s"], /-s\/-p do not apply/],
    [["connect", "h", "0"], /PORT must be 1\.\.65535/],
    [["connect", "h", "70000"], /PORT must be 1\.\.65535/],
    [["connect", "h", "no such!"], /port number or a service name/],
    [["connect", "-4", "-6", "h", "1"], /exclude each other/],
    [["connect", "-4", "::1", "1"], /IPv6 address but -4/],
    [["connect", "-6", "127.0.0.1", "1"], /IPv4 address but -6/],
    [["connect", "-w", "0", "h", "1"], /-w must be more than 0/],
    [["connect", "-w", "-1", "h", "1"], /-w needs seconds/],
    [["connect", "-w", "abc", "h", "1"], /-w needs seconds/],
    [["connect", "-i", "1e3", "h", "1"], /-i needs seconds/],
    [["connect", "-q", "9999999", "h", "1"], /-q must be 0\.\./],
    [["connect", "-p", "http", "h", "1"], /-p needs a port number/],
    [["connect", "-p", "0", "h", "1"], /-p PORT must be 1/],
    [["connect", "", "1"], /HOST must be/],
    [["connect", "a b", "1"], /HOST must be/],
  ];
  for (const [argv, re] of table) {
    await assert.rejects(
      plan(argv),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
      argv.join(" "),
    );
  }
});

test("unknown connect options are commander usage errors", async () => {
  await assert.rejects(plan(["connect", "--bogus", "h", "1"]), (e: unknown) => e instanceof CommanderError);
  await assert.rejects(plan(["connect", "-w"]), (e: unknown) => e instanceof CommanderError);
});

test("parseSeconds, parsePort and parseHost accept what a user types and nothing else", () => {
  assert.equal(parseSeconds("-w", "3"), 3000);
  assert.equal(parseSeconds("-w", ".5"), 500);
  assert.equal(parseSeconds("-q", "0", true), 0);
  assert.throws(() => parseSeconds("-q", "0"), UsageError);
  assert.throws(() => parseSeconds("-q", ""), UsageError);
  assert.equal(parsePort("65535"), 65535);
  assert.equal(parsePort("0", true), 0);
  assert.equal(parsePort("domain"), "domain");
  assert.throws(() => parsePort("-1"), UsageError);
  assert.throws(() => parsePort("x".repeat(40)), UsageError);
  assert.equal(parseHost("[fe80::1%lo]"), "fe80::1%lo");
  assert.equal(parseHost("example.test"), "example.test");
  assert.throws(() => parseHost("[::1"), UsageError);
  assert.throws(() => parseHost("a/b"), UsageError);
});

test("set-up is bounded by -w, or by -i when that is shorter; the error names the flag", () => {
  const table: Array<[number | undefined, number | undefined, ReturnType<typeof setupLimit>]> = [
    [undefined, undefined, undefined],
    [2000, undefined, { ms: 2000, flag: "-w" }],
    [undefined, 1000, { ms: 1000, flag: "-i" }],
    [5000, 1000, { ms: 1000, flag: "-i" }],
    [1000, 5000, { ms: 1000, flag: "-w" }],
    [1000, 1000, { ms: 1000, flag: "-w" }],
  ];
  for (const [w, i, want] of table) {
    assert.deepEqual(setupLimit({ connectTimeoutMs: w, idleMs: i }), want, `-w ${w} -i ${i}`);
  }
  const e = setupTimeoutError({ ms: 1500, flag: "-w" }, "10.0.0.1:80");
  assert.equal(e.code, "ETIMEDOUT");
  assert.match(
    e.message,
    /^connect 10\.0\.0\.1:80: connection timed out \(ETIMEDOUT\) — not connected within 1\.5 s \(-w 1\.5\)/,
  );
  assert.match(
    setupTimeoutError({ ms: 500, flag: "-i" }, "h:1").message,
    /no answer for 0\.5 s while connecting \(-i 0\.5\)/,
  );
});
