/**
 * `sockit game` end to end: the server and bot players as separate processes over loopback play
 * a whole match and agree on its result; a terminal client driven in a private tmux server draws
 * the arena, plays, leaves with q, and gives the terminal back.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { after, describe, test } from "node:test";
import { needs } from "./support/peers.js";
import { SOCKIT } from "./support/sockit-serve.js";
import { botMatch, MATCH_MS } from "./support/game.js";
import { type Child, start } from "./support/spawn.js";

/** Starts `sockit game serve` on loopback; resolves it and its address. */
async function serve(players: number): Promise<{ server: Child; address: string }> {
  const server = start(process.execPath, [
    SOCKIT,
    "game",
    "serve",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--players",
    String(players),
  ]);
  const address = (await server.line(/listening on (\S+) \(udp\)/))[1]!;
  return { server, address };
}

describe("sockit game", () => {
  test(
    "server and three bots over loopback: one match, every bot prints the server's result, exit 0",
    { timeout: MATCH_MS + 20_000 },
    async () => {
      await botMatch(
        () => serve(3),
        (address, name) =>
          start(process.execPath, [SOCKIT, "-v", "game", "join", address, "--name", name, "--bot"]),
        0.95,
      );
    },
  );

  test("game join refuses a bad name before sending anything; a port with no server is refused", async () => {
    const bad = start(process.execPath, [SOCKIT, "game", "join", "127.0.0.1:9", "--name", " x"]);
    assert.equal(await bad.exit(), 1);
    assert.match(bad.stderr(), /--name must be 1 to 16 printable ASCII/);
    const { server, address } = await serve(2);
    server.kill("SIGTERM");
    assert.equal(await server.exit(), 0);
    const none = start(process.execPath, [SOCKIT, "game", "join", address, "--name", "x", "--timeout", "2"]);
    const code = await none.exit();
    assert.ok(code === 3 || code === 4, `exit ${code}: ${none.stderr()}`);
    assert.match(none.stderr(), /sockit game serve/);
  });
});

const TMUX = `sockit-game-${process.pid}`;

describe("sockit game join in a terminal (tmux)", { skip: needs(["tmux"]) }, () => {
  const tmux = (...args: string[]) =>
    execFileSync("tmux", ["-L", TMUX, ...args], { encoding: "utf8", timeout: 5000 });
  const capture = (target: string) => tmux("capture-pane", "-p", "-t", target);
  async function screen(target: string, re: RegExp, ms = 15_000): Promise<string> {
    const t0 = Date.now();
    let last = "";
    while (Date.now() - t0 < ms) {
      last = capture(target);
      if (re.test(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no ${re} on the screen within ${ms} ms:\n${last}`);
  }
  after(() => {
    const socket = spawnSync("tmux", ["-L", TMUX, "display-message", "-p", "#{socket_path}"], {
      encoding: "utf8",
      timeout: 5000,
    }).stdout?.trim();
    spawnSync("tmux", ["-L", TMUX, "kill-server"], { stdio: "ignore", timeout: 5000 });
    // the private server's socket file stays behind otherwise
    if (socket) rmSync(socket, { force: true });
  });
  const session = (name: string, address: string) =>
    tmux(
      "new-session",
      "-d",
      "-s",
      name,
      "-x",
      "80",
      "-y",
      "40",
      `NO_COLOR=1 '${process.execPath}' '${SOCKIT}' game join ${address} --name human; echo EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e echo -e -echo -e icanon -e -icanon | tr '\\n' ' '; echo; sleep 120`,
    );

  test(
    "draws the walls and the players' names, plays a match to its result, then restores the screen",
    { timeout: MATCH_MS },
    async () => {
      const { server, address } = await serve(2);
      let bot: Child | undefined;
      try {
        session("play", address);
        const lobby = await screen("play", /1 human \(you\): alive/);
        assert.ok(lobby.includes("#".repeat(50)), `the top and bottom walls:\n${lobby}`);
        assert.match(lobby, /waiting for players/);
        assert.match(lobby, /^#.*@.*#$/m, "the cycle inside the walls");
        bot = start(process.execPath, [SOCKIT, "game", "join", address, "--name", "robot", "--bot"]);
        const both = await screen("play", /2 robot: alive/);
        assert.match(both, /1 human \(you\)/);
        tmux("send-keys", "-t", "play", "s"); // turn down: the human keeps clear of the robot
        const over = await screen("play", /over: (winner \S+|draw)/, 60_000);
        assert.match(over, /^#+$/m);
        assert.equal(await bot.exit(30_000), 0);
        const result = bot.stdout().trim();
        const done = await screen("play", /EXIT=\d+/);
        assert.match(done, /EXIT=0/);
        assert.ok(done.includes(result), `the same result on both clients: ${result}\n${done}`);
        assert.ok(!done.includes("#".repeat(50)), `the arena is gone (alternate screen left):\n${done}`);
      } finally {
        bot?.kill("SIGKILL");
        server.kill("SIGTERM");
        await server.exit(5000).catch(() => server.kill("SIGKILL"));
      }
    },
  );

  test(
    "q leaves the game at once, exit 0, terminal restored (echo and cursor back)",
    { timeout: 30_000 },
    async () => {
      const { server, address } = await serve(2);
      try {
        session("quit", address);
        await screen("quit", /1 human \(you\)/);
        tmux("send-keys", "-t", "quit", "q");
        const done = await screen("quit", /EXIT=\d+\n\S/); // and the stty line after it
        assert.match(done, /result: left the game/);
        assert.match(done, /EXIT=0/);
        assert.ok(!done.includes("#".repeat(50)), done);
        assert.match(done, /^icanon echo *$/m, "the terminal is out of raw mode");
        await server.line(/leave: human/);
      } finally {
        server.kill("SIGTERM");
        await server.exit(5000).catch(() => server.kill("SIGKILL"));
      }
    },
  );

  test("SIGTERM while playing: the terminal is restored too", { timeout: 30_000 }, async () => {
    const { server, address } = await serve(2);
    try {
      session("term", address);
      const before = await screen("term", /1 human \(you\)/);
      assert.ok(before.includes("#".repeat(50)));
      const shell = tmux("list-panes", "-t", "term", "-F", "#{pane_pid}").trim();
      const pid = Number(execFileSync("pgrep", ["-P", shell, "-x", "node"], { encoding: "utf8" }).trim());
      assert.ok(pid > 0, `the client's pid under shell ${shell}`);
      process.kill(pid, "SIGTERM"); // the client this test started, by its pid
      const done = await screen("term", /EXIT=\d+\n\S/); // and the stty line after it
      assert.match(done, /result: left the game/);
      assert.ok(!done.includes("#".repeat(50)), `the alternate screen was left:\n${done}`);
      assert.match(done, /^icanon echo *$/m, "the terminal is out of raw mode");
      await server.line(/leave: human/);
    } finally {
      server.kill("SIGTERM");
      await server.exit(5000).catch(() => server.kill("SIGKILL"));
    }
  });
});
