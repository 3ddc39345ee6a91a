/**
 * Which command modules a command line loads: only the named command's (and `serve` for its
 * subcommands), everything when no command is named or for `serve --help`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Command } from "commander";
import { modulesFor, registerFor } from "./index.js";
import { CommandRegistry } from "./registry.js";

test("modulesFor: the named command's module only", () => {
  assert.deepEqual(modulesFor(["connect", "127.0.0.1", "7"]), ["connect"]);
  assert.deepEqual(modulesFor(["--version"]), [], "--version needs no command");
  assert.deepEqual(modulesFor(["-V"]), []);
  assert.equal(modulesFor(["--version", "--help"]), undefined, "help lists them all");
  assert.equal(modulesFor([]), undefined);
  assert.deepEqual(modulesFor(["-v", "--color", "never", "listen", "8000"]), ["listen"]);
  assert.deepEqual(modulesFor(["--trace", "echo", "127.0.0.1:7"]), ["rfcClients"]);
  assert.deepEqual(modulesFor(["send", "a.bin", "127.0.0.1:9000"]), ["transfer"]);
  assert.deepEqual(modulesFor(["rpc", "call", "127.0.0.1:7070", "add"]), ["serve", "rpc"]);
  assert.deepEqual(modulesFor(["serve", "http", "."]), ["serve", "http"]);
  assert.deepEqual(modulesFor(["serve", "--port", "0", "ftp", "/srv"]), ["serve", "ftp"]);
  assert.deepEqual(modulesFor(["serve", "--port", "all=0"]), ["serve"]);
  assert.deepEqual(modulesFor(["cert", "create", "--host", "localhost"]), ["cert"]);
  assert.deepEqual(modulesFor(["game", "join", "127.0.0.1", "--name", "a"]), ["game"]);
  assert.deepEqual(modulesFor(["game", "serve", "--port", "0"]), ["game"]);
  assert.deepEqual(modulesFor(["trace-view", "--port", "0", "trace.json"]), ["traceView"]);
});

test("modulesFor: everything without a command, for serve --help and for an unknown name", () => {
  assert.equal(modulesFor([]), undefined);
  assert.equal(modulesFor(["--help"]), undefined);
  assert.equal(modulesFor(["serve", "--help"]), undefined);
  assert.equal(modulesFor(["nosuchcommand"]), undefined);
});

test("registerFor: `sockit connect` registers connect alone; no command registers them all", async () => {
  const one = new Command("sockit");
  await registerFor(one, new CommandRegistry(), ["connect", "127.0.0.1", "7"]);
  assert.deepEqual(
    one.commands.map((c) => c.name()),
    ["connect"],
  );
  const viewer = new Command("sockit");
  await registerFor(viewer, new CommandRegistry(), ["trace-view", "--port", "0"]);
  assert.deepEqual(
    viewer.commands.map((c) => c.name()),
    ["trace-view"],
  );
  const all = new Command("sockit");
  await registerFor(all, new CommandRegistry(), []);
  const names = all.commands.map((c) => c.name());
  for (const n of [
    "connect",
    "listen",
    "serve",
    "rpc",
    "mail",
    "chat",
    "ftp",
    "get",
    "send",
    "recv",
    "cert",
    "echo",
    "game",
    "trace-view",
  ])
    assert.ok(names.includes(n), `${n} in ${names.join(", ")}`);
  const serve = all.commands.find((c) => c.name() === "serve")!;
  assert.deepEqual(serve.commands.map((c) => c.name()).sort(), ["chat", "ftp", "http", "rpc", "smtp"]);
});
