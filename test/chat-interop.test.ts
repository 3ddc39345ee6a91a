/**
 * Software nobody here wrote as clients of `serveChat`: the npm `irc-framework` library (two
 * clients: register, join, message each other, topic, part, quit).
 */
import assert from "node:assert/strict";
import { EventEmitter, once } from "node:events";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";
import { type ChatServer, serveChat } from "../src/services/chat/index.js";

/** The part of irc-framework's Client these tests use (the package has no types). */
interface IrcClient extends EventEmitter {
  connect(o: Record<string, unknown>): void;
  join(channel: string): void;
  part(channel: string, message?: string): void;
  say(target: string, message: string): void;
  setTopic(channel: string, topic: string): void;
  quit(message?: string): void;
  connection: { end(): void };
}
const { Client } = createRequire(import.meta.url)("irc-framework") as {
  Client: new () => IrcClient;
};

/** The next `event` on `c` whose payload passes `pick`, waiting at most `ms`. */
async function next<T = Record<string, string>>(
  c: EventEmitter,
  event: string,
  pick: (e: T) => boolean = () => true,
  ms = 5000,
): Promise<T> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  try {
    for (;;) {
      const [e] = (await once(c, event, { signal: ac.signal }).catch(() => {
        throw new Error(`no ${event} event within ${ms} ms`);
      })) as [T];
      if (pick(e)) return e;
    }
  } finally {
    clearTimeout(timer);
  }
}

describe("irc-framework clients on sockit's chat server", () => {
  let server: ChatServer;
  const clients: IrcClient[] = [];
  before(async () => {
    server = await serveChat({ port: 0 });
  });
  after(async () => {
    for (const c of clients) c.connection?.end();
    await server.close();
  });

  const connect = async (nick: string): Promise<IrcClient> => {
    const c = new Client();
    clients.push(c);
    const registered = next(c, "registered");
    c.connect({
      host: "127.0.0.1",
      port: server.port,
      nick,
      username: nick,
      gecos: `${nick} (irc-framework)`,
      auto_reconnect: false,
    });
    await registered;
    return c;
  };

  test("register, join, message between two clients, topic, part, quit", async () => {
    const alice = await connect("alice");
    const bob = await connect("bob");

    const aliceJoined = next(alice, "join", (e) => e.nick === "alice");
    alice.join("#talk");
    await aliceJoined;
    const bobSeen = next(alice, "join", (e) => e.nick === "bob");
    const bobNames = next<{ channel: string; users: Array<{ nick: string; modes: string[] }> }>(
      bob,
      "userlist",
    );
    bob.join("#talk");
    await bobSeen;
    const names = await bobNames;
    assert.deepEqual(names.users.map((u) => u.nick).sort(), ["alice", "bob"]);
    assert.deepEqual(names.users.find((u) => u.nick === "alice")!.modes, ["o"]);

    const toBob = next(bob, "message", (e) => e.message === "hello bob");
    alice.say("#talk", "hello bob");
    const m = await toBob;
    assert.equal(m.nick, "alice");
    assert.equal(m.target, "#talk");
    const toAlice = next(alice, "message", (e) => e.message === "hi alice, privately");
    bob.say("alice", "hi alice, privately");
    assert.equal((await toAlice).target, "alice");

    const topic = next(bob, "topic", (e) => e.topic === "irc-framework was here");
    alice.setTopic("#talk", "irc-framework was here");
    assert.equal((await topic).nick, "alice");

    const parted = next(alice, "part", (e) => e.nick === "bob");
    bob.part("#talk", "see you");
    assert.equal((await parted).message, "see you");
    bob.join("#talk");
    await next(alice, "join", (e) => e.nick === "bob");
    const quit = next(alice, "quit", (e) => e.nick === "bob");
    const closed = once(bob, "close");
    bob.quit("done here");
    assert.equal((await quit).message, "Quit: done here");
    await closed;
  });
});
