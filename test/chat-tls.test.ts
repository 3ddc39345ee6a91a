/**
 * `sockit serve chat --tls`: npm `irc-framework` (in a child process that trusts the test CA
 * through NODE_EXTRA_CA_CERTS, with `tls: true` and `rejectUnauthorized: true`) registers and
 * talks in a room over TLS; without the CA it is refused; the default port with --tls is 6697.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createCertificate } from "../src/core/cert.js";
import { planServeChat } from "../src/cli/commands/chat.js";
import { serveChat } from "../src/services/chat/index.js";
import { SOCKIT } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";

const LIMIT = { timeout: 60_000 };
const dir = mkdtempSync(join(tmpdir(), "sockit-chat-tls-"));
const ca = createCertificate({ hosts: ["localhost"], ca: true });
const good = createCertificate({ hosts: ["localhost", "127.0.0.1"], issuer: ca });
const file = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text, { mode: 0o600 });
  return f;
};
const caFile = file("ca.pem", ca.cert);
const certFile = file("cert.pem", good.cert);
const keyFile = file("key.pem", good.key);
const IRC = createRequire(import.meta.url).resolve("irc-framework");
const servers = new Set<Child>();

/** An irc-framework client in a child process: registers as NICK, joins #tls, says a line. */
const CLIENT = `
const { Client } = require(process.argv[1]);
const c = new Client();
const bye = (s) => { console.log(s); process.exit(0); };
setTimeout(() => bye("TIMEOUT"), 10000).unref();
c.on("registered", () => c.join("#tls"));
c.on("join", (e) => {
  if (e.nick !== process.argv[3]) return;
  if (process.argv[4] === "say") { c.say("#tls", "hello over tls"); setTimeout(() => bye("SAID"), 300); }
  else console.log("JOINED");
});
c.on("message", (e) => { if (e.target === "#tls") bye("HEARD " + e.nick + ": " + e.message); });
c.on("socket close", () => bye("CLOSED"));
c.connect({ host: "localhost", port: Number(process.argv[2]), nick: process.argv[3], username: "u", gecos: "g",
  tls: true, rejectUnauthorized: true, auto_reconnect: false });
`;

async function run(
  env: NodeJS.ProcessEnv,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = start(process.execPath, ["-e", CLIENT, IRC, ...args], env);
  c.proc.stdin?.end();
  const code = await c.exit(20_000);
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

describe("chat over TLS", { timeout: 120_000 }, () => {
  after(async () => {
    for (const c of servers) {
      c.kill("SIGKILL");
      await c.exit(5000).catch(() => {});
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test("--tls listens on 6697 unless --port is given; --cert without --tls is refused", () => {
    assert.equal(planServeChat({ tls: true }).port, 6697);
    assert.equal(planServeChat({}).port, 6667);
    assert.equal(planServeChat({ tls: true, port: "7000" }).port, 7000);
    assert.throws(() => planServeChat({ cert: "c.pem" }), /need --tls/);
  });

  test("irc-framework with tls and rejectUnauthorized talks through serve chat --tls", LIMIT, async () => {
    const child = start(process.execPath, [
      SOCKIT,
      "serve",
      "chat",
      "--json",
      "--tls",
      "--cert",
      certFile,
      "--key",
      keyFile,
      "--port",
      "0",
    ]);
    servers.add(child);
    const [line] = await child.line(/^\{"listening".*\}$/m, 15_000);
    const j = JSON.parse(line) as { port: number; tls: boolean };
    assert.equal(j.tls, true);
    const trusted = { ...process.env, NODE_EXTRA_CA_CERTS: caFile };
    // alice waits in #tls and reports what bob says there
    const alice = start(process.execPath, ["-e", CLIENT, IRC, String(j.port), "alice"], trusted);
    await alice.line(/^JOINED$/m, 10_000);
    const bob = await run(trusted, [String(j.port), "bob", "say"]);
    assert.equal(bob.stdout.trim(), "SAID", bob.stderr);
    const code = await alice.exit(20_000);
    assert.equal(code, 0, alice.stderr());
    assert.equal(alice.stdout().trim(), "JOINED\nHEARD bob: hello over tls");
    // without the CA, irc-framework refuses our certificate and never registers
    const untrusted = { ...process.env };
    delete untrusted.NODE_EXTRA_CA_CERTS;
    const refused = await run(untrusted, [String(j.port), "carol"]);
    assert.match(refused.stdout.trim(), /^(CLOSED|TIMEOUT)$/); // never JOINED
    child.kill("SIGTERM");
    assert.equal(await child.exit(10_000), 0, child.stderr());
    servers.delete(child);
  });

  test(
    "sockit chat --tls --ca talks to serve chat --tls; without the CA exit 3 at once; --insecure warns",
    LIMIT,
    async () => {
      const server = await serveChat({ port: 0, tls: { cert: good.cert, key: good.key } });
      try {
        const c = start(process.execPath, [
          SOCKIT,
          "chat",
          "--tls",
          "--ca",
          caFile,
          `localhost:${server.port}`,
          "--nick",
          "dave",
          "--join",
          "t",
        ]);
        await c.line(/\*\*\* you joined #t$/m, 10_000);
        c.proc.stdin!.end("/quit done\n");
        assert.equal(await c.exit(10_000), 0, c.stderr());
        const no = start(process.execPath, [
          SOCKIT,
          "chat",
          "--tls",
          `localhost:${server.port}`,
          "--nick",
          "eve",
        ]);
        assert.equal(await no.exit(10_000), 3, no.stderr());
        assert.match(no.stderr(), /issuer|self-signed|certificate/i);
        const insecure = start(process.execPath, [
          SOCKIT,
          "chat",
          "--tls",
          "--insecure",
          `localhost:${server.port}`,
          "--nick",
          "fay",
          "--join",
          "t",
        ]);
        await insecure.line(/\*\*\* you joined #t$/m, 10_000);
        insecure.proc.stdin!.end("/quit done\n");
        assert.equal(await insecure.exit(10_000), 0, insecure.stderr());
        assert.match(insecure.stderr(), /--insecure: the server's certificate is NOT verified/);
      } finally {
        await server.close();
      }
    },
  );
});
