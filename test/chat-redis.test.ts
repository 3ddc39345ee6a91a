/**
 * `sockit serve chat --redis`: three server processes joined through a real `redis-server`
 * (started here on a loopback port and a Unix socket, nothing saved; the nodes join by
 * redis://127.0.0.1:PORT, unix:/PATH and redis+unix:///PATH): rooms, nicknames, NAMES/WHO/LIST
 * and private messages span the nodes; a SIGKILLed node's users vanish from the others within the
 * documented expiry; a node that loses Redis tells its users and keeps its own rooms working.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { listen } from "../src/net/index.js";
import { DEFAULT_NETWORK_EXPIRY_MS } from "../src/services/chat/index.js";
import { LineClient } from "./support/chat.js";
import { needs, peerPath } from "./support/peers.js";
import { type Child, start } from "./support/spawn.js";
import { waitFor } from "./support/kit.js";

const SOCKIT = new URL("../src/cli/main.js", import.meta.url).pathname;
const skip = needs(["redis-server"]);

describe("sockit serve chat --redis: three nodes, one network", { skip, timeout: 90_000 }, () => {
  let dir = "";
  let sock = "";
  let port = 0; // Redis also on a loopback port: node 0 joins by redis://127.0.0.1:PORT
  let redis: Child | undefined;
  const nodes: Array<{ child: Child; address: string }> = [];
  const clients: LineClient[] = [];

  async function startRedis(): Promise<void> {
    if (port === 0) {
      // a free loopback port (Redis cannot pick one itself: its port 0 means "no TCP")
      const ln = await listen("tcp", "127.0.0.1:0");
      port = ln.port;
      await ln.close();
    }
    const r = start(peerPath("redis-server"), [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--unixsocket",
      sock,
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ]);
    redis = r; // closed by the suite's after, even if it never gets ready
    await r.line(/ready to accept connections/i, 10_000);
    await waitFor(() => existsSync(sock), 5000, "the Redis socket");
  }

  async function client(node: number): Promise<LineClient> {
    const c = await LineClient.connect(nodes[node]!.address);
    clients.push(c);
    return c;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sockit-chat-redis-"));
    sock = join(dir, "redis.sock");
    await startRedis();
    for (let i = 0; i < 3; i++) {
      const child = start(process.execPath, [
        SOCKIT,
        "serve",
        "chat",
        "--port",
        "0",
        "--json",
        "--redis",
        [`redis://127.0.0.1:${port}`, `unix:${sock}`, `redis+unix://${sock}`][i]!,
      ]);
      nodes.push({ child, address: "" });
      const [line] = await child.line(/^\{"listening".*\}$/m, 10_000);
      nodes[i]!.address = (JSON.parse(line) as { listening: string }).listening;
    }
  });

  after(async () => {
    for (const c of clients) await c.close();
    for (const n of nodes) {
      n.child.kill("SIGTERM");
      await n.child.exit(10_000).catch(() => n.child.kill("SIGKILL"));
    }
    redis?.kill("SIGKILL");
    await redis?.exit(5000).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  test("clients on different nodes talk, collide on nicks, see each other in NAMES/WHO/LIST", async () => {
    const alice = await client(0);
    const bob = await client(1);
    const carol = await client(2); // plain (nc-style) user
    await alice.register("alice");
    await bob.register("bob");
    await alice.send("JOIN #net");
    await alice.wait(/^:alice!\S+ JOIN #net$/);
    await bob.send("JOIN #net");
    // alice (node 0) sees bob (node 1) arrive
    await alice.wait(/^:bob!\S+ JOIN #net$/);
    await carol.send("hello");
    await carol.wait(/welcome to sockit chat, you are (guest\d+)/);
    await carol.send("/nick carol", "/join #net");
    await carol.wait(/you are now carol/);
    await alice.wait(/^:carol!\S+ JOIN #net$/);
    await bob.wait(/^:carol!\S+ JOIN #net$/);

    // a message reaches every other member on every node, exactly once
    await alice.send("PRIVMSG #net :hi from node zero");
    await bob.wait(/^:alice!\S+ PRIVMSG #net :hi from node zero$/);
    await carol.wait(/^<alice> hi from node zero$/);
    await carol.send("plain words");
    await alice.wait(/^:carol!\S+ PRIVMSG #net :plain words$/);
    await bob.wait(/^:carol!\S+ PRIVMSG #net :plain words$/);
    assert.equal(bob.lines.filter((l) => / PRIVMSG #net :hi from node zero$/.test(l)).length, 1);

    // a private message to someone on another node
    await bob.send("PRIVMSG alice :psst");
    await alice.wait(/^:bob!\S+ PRIVMSG alice :psst$/);

    // NAMES, WHO and LIST on node 1 see the members of all three nodes
    let from = bob.lines.length;
    await bob.send("NAMES #net");
    const names = await bob.wait(/ 353 bob = #net :/, 5000, from);
    assert.deepEqual(names.split(":").at(-1)!.replace(/@/g, "").split(" ").sort(), ["alice", "bob", "carol"]);
    from = bob.lines.length;
    await bob.send("WHO #net");
    await bob.wait(/ 315 bob #net /, 5000, from);
    const who = bob.lines.slice(from).filter((l) => / 352 bob #net /.test(l));
    assert.equal(who.length, 3, who.join("\n"));
    from = bob.lines.length;
    await bob.send("LIST");
    await bob.wait(/ 322 bob #net 3 /, 5000, from);

    // nicknames are unique across the network, in any case
    const dave = await client(2);
    from = dave.lines.length;
    await dave.send("NICK ALICE", "USER dave 0 * :dave");
    await dave.wait(/ 433 \* ALICE :Nickname is already in use$/, 5000, from);
    await dave.send("NICK dave");
    await dave.wait(/ 001 dave /);
    await dave.send("NICK Bob");
    await dave.wait(/ 433 dave Bob :Nickname is already in use$/);
    // a name given back is free again on every node
    await bob.send("NICK bobby");
    await alice.wait(/^:bob!\S+ NICK bobby$/);
    await waitFor(
      async () => {
        const at = dave.lines.length;
        await dave.send("NICK bob");
        await new Promise((r) => setTimeout(r, 200));
        return dave.lines.slice(at).some((l) => /^:dave!\S+ NICK :?bob$/.test(l));
      },
      5000,
      "bob free again for dave",
    );
  });

  test("a name given back by QUIT is free at once on another node, and stays with its new user", async () => {
    const kate = await client(0);
    const leo = await client(1);
    await kate.register("kate");
    await leo.register("leo");
    await kate.send("JOIN #q");
    await kate.wait(/ 366 kate #q /);
    await leo.send("JOIN #q");
    await kate.wait(/^:leo!\S+ JOIN #q$/);
    await kate.send("QUIT :bye");
    await leo.wait(/^:kate!\S+ QUIT :/);
    const again = await client(1);
    await again.register("kate");
    // the claim in Redis must not take it back from the new kate (renamed to a guest, with a NOTICE)
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(
      !again.lines.some((l) => / NICK :?guest|taken on another server/.test(l)),
      again.lines.join("\n"),
    );
  });

  test("two nodes giving the same free name at the same instant: Redis lets one keep it", async () => {
    const a = await client(0);
    const b = await client(1);
    await Promise.all([a.send("NICK samename", "USER a 0 * :a"), b.send("NICK SameName", "USER b 0 * :b")]);
    await a.wait(/ (001|433) /);
    await b.wait(/ (001|433) /);
    // whoever lost (refused with 433, or renamed with a NOTICE after the claim in Redis) does not hold it
    const holds = async (c: LineClient): Promise<boolean> => {
      const from = c.lines.length;
      await c.send("WHOIS samename");
      await c.wait(/ 318 /, 5000, from);
      const me = c.lines.find((l) => / 001 (\S+) /.test(l))?.split(" ")[2];
      const renamed = c.lines.find((l) => /^:\S+ NICK :?(\S+)$/.test(l));
      const nick = renamed ? /NICK :?(\S+)$/.exec(renamed)![1]! : me;
      return nick !== undefined && nick.toLowerCase() === "samename";
    };
    await waitFor(
      async () => (await holds(a)) !== (await holds(b)),
      5000,
      "exactly one of the two to hold samename",
    );
  });

  test(`a SIGKILLed node's users vanish from the others within the expiry (${DEFAULT_NETWORK_EXPIRY_MS} ms)`, async () => {
    const erin = await client(0);
    const frank = await client(2);
    await erin.register("erin");
    await frank.register("frank");
    await erin.send("JOIN #kill");
    await erin.wait(/ 366 erin #kill /);
    await frank.send("JOIN #kill");
    await erin.wait(/^:frank!\S+ JOIN #kill$/);
    const killedAt = Date.now();
    nodes[2]!.child.kill("SIGKILL");
    await nodes[2]!.child.exit(5000);
    await erin.wait(/^:frank!\S+ QUIT :/, DEFAULT_NETWORK_EXPIRY_MS + 5000);
    const took = Date.now() - killedAt;
    assert.ok(took <= DEFAULT_NETWORK_EXPIRY_MS + 3000, `took ${took} ms`);
    const from = erin.lines.length;
    await erin.send("NAMES #kill");
    const names = await erin.wait(/ 353 erin = #kill :/, 5000, from);
    assert.doesNotMatch(names, /frank/);
    // the nickname claim expired with it: frank can be taken on node 1
    await waitFor(
      async () => {
        const c = await LineClient.connect(nodes[1]!.address);
        clients.push(c);
        await c.send("NICK frank", "USER frank 0 * :frank");
        try {
          await c.wait(/ (001|433) /, 3000);
        } catch {
          return false;
        }
        return c.lines.some((l) => / 001 frank /.test(l));
      },
      8000,
      "frank free again",
    );
  });

  test("a node that loses Redis tells its users, keeps its rooms working, and says when it is back", async () => {
    const gina = await client(0);
    const hank = await client(0);
    const ivan = await client(1);
    await gina.register("gina");
    await hank.register("hank");
    await ivan.register("ivan");
    for (const c of [gina, hank, ivan]) await c.send("JOIN #local");
    await gina.wait(/^:ivan!\S+ JOIN #local$/);
    await gina.wait(/^:hank!\S+ JOIN #local$/);

    redis!.kill("SIGKILL");
    await redis!.exit(5000);
    await gina.wait(/ NOTICE gina :\*\*\* lost the chat network/, 10_000);
    await hank.wait(/ NOTICE hank :\*\*\* lost the chat network/, 10_000);
    await gina.send("PRIVMSG #local :still here");
    await hank.wait(/^:gina!\S+ PRIVMSG #local :still here$/);
    assert.ok(!ivan.lines.some((l) => /still here/.test(l)), "ivan (node 1) cannot have it without Redis");

    rmSync(sock, { force: true });
    await startRedis();
    await gina.wait(/ NOTICE gina :\*\*\* back on the chat network/, 15_000);
    await ivan.wait(/ NOTICE ivan :\*\*\* back on the chat network/, 15_000);
    await waitFor(
      async () => {
        const at = ivan.lines.length;
        await gina.send("PRIVMSG #local :together again");
        await new Promise((r) => setTimeout(r, 300));
        return ivan.lines.slice(at).some((l) => /together again/.test(l));
      },
      8000,
      "node 1 to hear node 0 again",
    );
  });
});
