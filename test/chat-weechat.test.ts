/**
 * A real IRC client, `weechat-headless` (scripted from its command line), in one room of
 * sockit's chat server with an npm `irc-framework` client and an `nc` plain user: each sees what
 * the others say (WeeChat's side read from its own log files).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { EventEmitter, once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { serveChat } from "../src/services/chat/index.js";
import { waitFor } from "./support/kit.js";
import { needs, peerPath } from "./support/peers.js";
import { start } from "./support/spawn.js";

interface IrcClient extends EventEmitter {
  connect(o: Record<string, unknown>): void;
  join(channel: string): void;
  say(target: string, message: string): void;
  quit(message?: string): void;
  connection: { end(): void };
}
const { Client } = createRequire(import.meta.url)("irc-framework") as { Client: new () => IrcClient };

test("weechat, irc-framework and nc in one room", { skip: needs(["weechat-headless", "nc"]) }, async () => {
  const server = await serveChat({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), "sockit-weechat-"));
  const ifw = new Client();
  const heard: Array<{ nick: string; message: string }> = [];
  ifw.on("message", (e: { nick: string; message: string }) => heard.push(e));
  const nc = spawn(peerPath("nc"), ["127.0.0.1", String(server.port)], { stdio: ["pipe", "pipe", "pipe"] });
  let ncOut = "";
  nc.stdout.on("data", (d: Buffer) => (ncOut += d.toString()));
  const ncExit = once(nc, "exit");
  let wee: ReturnType<typeof start> | undefined;
  try {
    const registered = once(ifw, "registered");
    ifw.connect({ host: "127.0.0.1", port: server.port, nick: "ifw", auto_reconnect: false });
    await registered;
    ifw.join("#room");
    nc.stdin.write("/nick ncuser\n/join #room\n");
    await waitFor(() => ncOut.includes("*** in #room"), 5000, "the nc user in #room");
    const commands = [
      "/set logger.file.flush_delay 0",
      "/set irc.server_default.nicks wee",
      `/server add t 127.0.0.1/${server.port} -notls`,
      "/set irc.server.t.autojoin #room",
      "/connect t",
      "/wait 2 /msg -server t #room hello from weechat",
      "/wait 7 /quit",
    ];
    wee = start(peerPath("weechat-headless"), ["--dir", dir, "-r", commands.join(";")]);
    await waitFor(
      () => heard.some((e) => e.nick === "wee" && e.message === "hello from weechat"),
      10_000,
      "irc-framework to hear weechat",
    );
    await waitFor(() => ncOut.includes("<wee> hello from weechat"), 5000, "nc to hear weechat");
    ifw.say("#room", "hi weechat, from irc-framework");
    nc.stdin.write("hi weechat, from nc\n");
    await waitFor(
      () => ncOut.includes("<ifw> hi weechat, from irc-framework"),
      5000,
      "nc to hear irc-framework",
    );
    await waitFor(
      () => heard.some((e) => e.nick === "ncuser" && e.message === "hi weechat, from nc"),
      5000,
      "irc-framework to hear nc",
    );
    assert.equal(await wee.exit(15_000), 0, wee.stderr());
    const log = readFileSync(join(dir, "logs", "irc.t.#room.weechatlog"), "utf8");
    assert.match(log, /\twee \(\S+@127\.0\.0\.1\) has joined #room/);
    assert.match(log, /\t@?wee\thello from weechat$/m);
    assert.match(log, /\t@?ifw\thi weechat, from irc-framework$/m);
    assert.match(log, /\tncuser\thi weechat, from nc$/m);
  } finally {
    wee?.kill("SIGKILL");
    ifw.connection?.end();
    nc.stdin.end("/quit\n");
    const t = setTimeout(() => nc.kill("SIGKILL"), 3000);
    await ncExit;
    clearTimeout(t);
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
