/**
 * `sockit chat` (the terminal client) as a child process with piped stdin/stdout: against
 * sockit's own server (messages both ways, timestamps, coloured nicknames and NO_COLOR, control
 * bytes escaped, reconnect with back-off) and against Debian's `ngircd`, started on a loopback
 * port with a generated configuration: plain, and with `--tls --ca` on ngircd's TLS port.
 */
import assert from "node:assert/strict";
import { getDiffieHellman } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { serveChat } from "../src/services/chat/index.js";
import { LineClient } from "./support/chat.js";
import { closedPort, waitFor } from "./support/kit.js";
import { needs, peerPath } from "./support/peers.js";
import { SOCKIT } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";
import { tlsFiles } from "./support/tls-fixture.js";

function chat(address: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const e = { ...process.env, ...env };
  if (env.NO_COLOR === undefined) delete e.NO_COLOR;
  if (env.FORCE_COLOR === undefined) delete e.FORCE_COLOR;
  return start(process.execPath, [SOCKIT, "chat", address, ...args], e);
}

/** A timestamp, dimmed when colours are on. */
const TS = String.raw`(?:\x1b\[2m)?\[\d\d:\d\d\](?:\x1b\[0m)?`;

async function quit(c: Child): Promise<void> {
  c.proc.stdin!.end("/quit done\n");
  assert.equal(await c.exit(10_000), 0, c.stderr());
}

describe("sockit chat against sockit serve chat", () => {
  test("messages both ways with timestamps; coloured nicknames unless NO_COLOR; control bytes escaped", async () => {
    const server = await serveChat({ port: 0 });
    const peer = await LineClient.connect(server.address);
    try {
      await peer.register("peer");
      await peer.send("JOIN #t");
      for (const [env, coloured] of [
        [{ FORCE_COLOR: "1" }, true],
        [{ FORCE_COLOR: "1", NO_COLOR: "1" }, false],
      ] as const) {
        const c = chat(server.address, ["--nick", "cli", "--join", "t"], env);
        try {
          await c.line(new RegExp(`^${TS} \\*\\*\\* you joined #t$`, "m"));
          await peer.wait(/^:cli!\S+ JOIN #t$/, 5000, peer.lines.length - 1);
          await peer.send("PRIVMSG #t :hello \x1b[31mred\x1b[0m cli");
          const [got] = await c.line(new RegExp(`^${TS} #t <.*peer.*> hello .*$`, "m"));
          assert.equal(/\x1b\[\d+mpeer\x1b\[0m/.test(got), coloured, got);
          assert.ok(got.includes("hello \\x1b[31mred\\x1b[0m cli"), `escaped: ${got}`);
          const from = peer.lines.length;
          c.proc.stdin!.write("hi from the client\n/me waves\n");
          await peer.wait(/^:cli!\S+ PRIVMSG #t :hi from the client$/, 5000, from);
          await peer.wait(/^:cli!\S+ PRIVMSG #t :\x01ACTION waves\x01$/, 5000, from);
          await quit(c);
          await peer.wait(/^:cli!\S+ QUIT :Quit: done$/, 5000, from);
        } finally {
          c.kill("SIGKILL");
        }
      }
    } finally {
      await peer.close();
      await server.close();
    }
  });

  test("a lost connection is retried with back-off and the rooms are joined again", async () => {
    let server = await serveChat({ port: 0 });
    const port = server.port;
    const c = chat(server.address, ["--nick", "again", "--join", "#r"]);
    let peer: LineClient | undefined;
    try {
      await c.line(/you joined #r$/m);
      await server.close(); // the client reads the goodbye, then the connection is gone
      await c.line(/\*\*\* reconnecting in 1 s$/m);
      server = await serveChat({ port });
      await waitFor(
        () => (c.stdout().match(/you joined #r$/gm) ?? []).length === 2,
        10_000,
        "the client to join again",
      );
      peer = await LineClient.connect(server.address);
      await peer.register("peer2");
      await peer.send("JOIN #r", "PRIVMSG #r :welcome back");
      await c.line(/#r <peer2> welcome back$/m);
      await quit(c);
    } finally {
      c.kill("SIGKILL");
      await peer?.close();
      await server.close();
    }
  });
});

/**
 * RFC 3526's 2048-bit MODP group as PEM "DH PARAMETERS" (PKCS #3), for ngircd's DHFile: without
 * one ngircd generates parameters at start-up, which takes seconds.
 */
function dhParamsPem(): string {
  const dh = getDiffieHellman("modp14");
  const der = (tag: number, body: Buffer): Buffer => {
    const n = body.length;
    const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
    return Buffer.concat([Buffer.from([tag, ...len]), body]);
  };
  const int = (b: Buffer) => der(0x02, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
  const seq = der(0x30, Buffer.concat([int(dh.getPrime()), int(dh.getGenerator())]));
  const b64 = seq
    .toString("base64")
    .match(/.{1,64}/g)!
    .join("\n");
  return `-----BEGIN DH PARAMETERS-----\n${b64}\n-----END DH PARAMETERS-----\n`;
}

/**
 * Debian's ngircd on free loopback ports with a generated configuration in `dir` (and, with
 * `ssl`, an [SSL] section: TLS on its own port with that certificate); resolves once a plain
 * client, `peer` registered on it, can talk. `stop()` ends it.
 */
async function startNgircd(
  dir: string,
  ssl?: { certFile: string; keyFile: string },
): Promise<{ port: number; sslPort: number; peer: LineClient; stop: () => Promise<void> }> {
  const free = async () => {
    const hold = await closedPort();
    await hold.close();
    return hold.port;
  };
  const port = await free();
  const sslPort = ssl === undefined ? 0 : await free();
  const conf = join(dir, "ngircd.conf");
  let text = `[Global]
Name = irc.test.local
Info = sockit test
AdminInfo1 = test
AdminInfo2 = test
AdminEMail = test@localhost
Listen = 127.0.0.1
Ports = ${port}
MotdPhrase = hello from ngircd
PidFile = ${join(dir, "ngircd.pid")}
[Options]
PAM = no
Ident = no
DNS = no
`;
  if (ssl !== undefined) {
    const dhFile = join(dir, "dh.pem");
    writeFileSync(dhFile, dhParamsPem());
    text += `[SSL]
CertFile = ${ssl.certFile}
KeyFile = ${ssl.keyFile}
DHFile = ${dhFile}
Ports = ${sslPort}
`;
  }
  writeFileSync(conf, text);
  const ngircd = start(peerPath("ngircd"), ["-n", "-f", conf]);
  const stop = async () => {
    ngircd.kill("SIGTERM");
    await ngircd.exit(5000).catch(() => ngircd.kill("SIGKILL"));
  };
  let peer: LineClient | undefined;
  try {
    await waitFor(
      async () => {
        try {
          peer = await LineClient.connect(`127.0.0.1:${port}`);
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      `ngircd to listen (its output: ${ngircd.stderr()}${ngircd.stdout()})`,
      100,
    );
    return { port, sslPort, peer: peer!, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

describe("sockit chat against ngircd", () => {
  test("register, join, talk with another client of ngircd", { skip: needs(["ngircd"]) }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "sockit-ngircd-"));
    let ng: Awaited<ReturnType<typeof startNgircd>> | undefined;
    let c: Child | undefined;
    try {
      ng = await startNgircd(dir);
      const { port, peer } = ng;
      await peer.register("ngpeer");
      await peer.send("JOIN #ng");
      await peer.wait(/ 366 ngpeer #ng /);
      c = chat(`127.0.0.1:${port}`, ["--nick", "sockitcli", "--join", "#ng"]);
      await c.line(/\*\*\* connected to 127\.0\.0\.1 as sockitcli$/m);
      await c.line(/you joined #ng$/m);
      await c.line(/\*\*\* in #ng: .*ngpeer/m);
      c.proc.stdin!.write("hello ngircd\n");
      await peer.wait(/^:sockitcli!\S+ PRIVMSG #ng :hello ngircd$/);
      await peer.send("PRIVMSG #ng :hello sockit");
      await c.line(/#ng <ngpeer> hello sockit$/m);
      await quit(c);
      await peer.wait(/^:sockitcli!\S+ QUIT :/);
    } finally {
      c?.kill("SIGKILL");
      await ng?.peer.close();
      await ng?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(
    "--tls --ca: register, join, talk and quit on ngircd's TLS port (its [SSL] section, GnuTLS)",
    { skip: needs(["ngircd"]), timeout: 60_000 },
    async () => {
      const tls = tlsFiles("ngircd-tls");
      let ng: Awaited<ReturnType<typeof startNgircd>> | undefined;
      let c: Child | undefined;
      try {
        ng = await startNgircd(tls.dir, { certFile: tls.certFile, keyFile: tls.keyFile });
        const { sslPort, peer } = ng;
        await peer.register("plainpeer");
        await peer.send("JOIN #sec");
        await peer.wait(/ 366 plainpeer #sec /);
        c = chat(`127.0.0.1:${sslPort}`, ["--tls", "--ca", tls.caFile, "--nick", "tlscli", "--join", "#sec"]);
        await c.line(/\*\*\* connected to 127\.0\.0\.1 as tlscli$/m, 15_000);
        await c.line(/you joined #sec$/m);
        await c.line(/\*\*\* in #sec: .*plainpeer/m);
        c.proc.stdin!.write("hello over tls\n");
        await peer.wait(/^:tlscli!\S+ PRIVMSG #sec :hello over tls$/);
        await peer.send("PRIVMSG #sec :hello back");
        await c.line(/#sec <plainpeer> hello back$/m);
        await quit(c);
        await peer.wait(/^:tlscli!\S+ QUIT :/);
        // the same port without the CA: the certificate does not verify, exit 3 at once
        const no = chat(`127.0.0.1:${sslPort}`, ["--tls", "--nick", "nocert"]);
        assert.equal(await no.exit(10_000), 3, no.stderr());
        assert.match(no.stderr(), /issuer|self-signed|certificate/i);
      } finally {
        c?.kill("SIGKILL");
        await ng?.peer.close();
        await ng?.stop();
        tls.remove();
      }
    },
  );
});
