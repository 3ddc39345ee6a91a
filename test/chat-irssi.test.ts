/**
 * A real terminal IRC client, `irssi`, on `sockit serve chat`: irssi runs in a detached `tmux`
 * session on its own tmux server (`tmux -L NAME`, never the user's), with a temporary home;
 * keys are typed with `tmux send-keys` and what irssi shows is read with `tmux capture-pane`.
 * It joins a room and exchanges messages with an `nc` plain user there.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { waitFor } from "./support/kit.js";
import { needs, peerPath } from "./support/peers.js";
import { SOCKIT } from "./support/sockit-serve.js";
import { start } from "./support/spawn.js";

/** The environment for tmux: not nested in a tmux the tests may run in, a known terminal. */
function tmuxEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: "xterm-256color" };
  delete env.TMUX;
  delete env.TMUX_PANE;
  return env;
}

/** Runs `tmux -L socket -f /dev/null ARGS` (bounded); resolves its stdout. */
function tmux(socket: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      peerPath("tmux"),
      ["-L", socket, "-f", "/dev/null", ...args],
      { env: tmuxEnv(), timeout: 5000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`tmux ${args[0]}: ${err.message} ${stderr}`)) : resolve(stdout),
    );
  });
}

test(
  "irssi in tmux joins a room of serve chat and talks with an nc plain user",
  { skip: needs(["irssi", "tmux", "nc"]), timeout: 90_000 },
  async () => {
    const home = mkdtempSync(join(tmpdir(), "sockit-irssi-"));
    const socket = `sockit-irssi-${process.pid}-${randomBytes(4).toString("hex")}`;
    const server = start(process.execPath, [SOCKIT, "serve", "chat", "--port", "0", "--json"]);
    let nc: ReturnType<typeof spawn> | undefined;
    let tmuxStarted = false;
    let socketPath = "";
    const screen = () => tmux(socket, ["capture-pane", "-p", "-J", "-t", "irc", "-S", "-200"]);
    /** Waits until the irssi window shows a line matching `re` (polling, bounded). */
    const shows = async (re: RegExp, what: string) => {
      let last = "";
      await waitFor(
        async () => {
          last = await screen();
          return re.test(last);
        },
        15_000,
        `irssi to show ${what}`,
        100,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n--- irssi's screen ---\n${last}`);
      });
    };
    try {
      const [json] = await server.line(/^\{"listening".*\}$/m, 15_000);
      const { port } = JSON.parse(json) as { port: number };
      await tmux(socket, [
        "new-session",
        "-d",
        "-s",
        "irc",
        "-x",
        "200",
        "-y",
        "50",
        peerPath("irssi"),
        `--home=${home}`,
        "-n",
        "irssiuser",
        "-c",
        "127.0.0.1",
        "-p",
        String(port),
      ]);
      tmuxStarted = true;
      socketPath = (await tmux(socket, ["display-message", "-p", "#{socket_path}"])).trim();
      await shows(/Welcome to the sockit chat network irssiuser!/, "the 001 welcome");
      await tmux(socket, ["send-keys", "-t", "irc", "-l", "/join #room"]);
      await tmux(socket, ["send-keys", "-t", "irc", "Enter"]);
      await shows(/Total of 1 nicks/, "its join of #room");

      nc = spawn(peerPath("nc"), ["127.0.0.1", String(port)], { stdio: ["pipe", "pipe", "pipe"] });
      let ncOut = "";
      nc.stdout!.on("data", (d: Buffer) => (ncOut += d.toString()));
      nc.stdin!.write("/nick ncuser\n/join #room\n");
      await waitFor(() => /^\*\*\* in #room: irssiuser\r?$/m.test(ncOut), 10_000, "the nc user in #room");
      await shows(/ncuser \[plain@127\.0\.0\.1\] has joined #room/, "the nc user joining");
      nc.stdin!.write("hello irssi, from nc\n");
      await shows(/<[ @+]?ncuser> hello irssi, from nc/, "the nc user's message");

      await tmux(socket, ["send-keys", "-t", "irc", "-l", "hello nc, from irssi"]);
      await tmux(socket, ["send-keys", "-t", "irc", "Enter"]);
      await waitFor(() => ncOut.includes("<irssiuser> hello nc, from irssi"), 10_000, "nc to hear irssi");
      await shows(/<[ @+]?irssiuser> hello nc, from irssi/, "its own message");

      await tmux(socket, ["send-keys", "-t", "irc", "-l", "/quit bye from irssi"]);
      await tmux(socket, ["send-keys", "-t", "irc", "Enter"]);
      await waitFor(
        () => ncOut.includes("*** irssiuser quit (Quit: bye from irssi)"),
        10_000,
        `nc to see irssi quit; nc got:\n${ncOut}`,
      );
    } finally {
      if (tmuxStarted) await tmux(socket, ["kill-server"]).catch(() => {});
      if (socketPath !== "") rmSync(socketPath, { force: true }); // tmux leaves its socket file
      if (nc !== undefined) {
        const exited = nc.exitCode !== null ? Promise.resolve() : once(nc, "exit");
        nc.kill("SIGTERM");
        await exited;
      }
      server.kill("SIGTERM");
      await server.exit(10_000).catch(() => server.kill("SIGKILL"));
      rmSync(home, { recursive: true, force: true });
    }
    assert.equal(server.proc.exitCode, 0, server.stderr());
  },
);
