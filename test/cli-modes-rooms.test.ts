/**
 * `sockit listen --broker` and `--chat`, driven directly over real loopback connections (see
 * cli-modes.test.ts): relaying, bounded per-client send queues (a client that never reads is
 * dropped while the others keep receiving), nicknames, rooms, escaping, long lines. `--chat` is
 * the chat hub of `sockit serve chat` in its plain mode.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { brokerMode } from "../src/cli/listen/broker.js";
import { chatMode } from "../src/cli/listen/chat.js";
import { lines } from "../src/codec/index.js";
import { type Conn, dial } from "../src/net/index.js";
import { MAX_LINE, NICKLEN } from "../src/services/chat/index.js";
import { leakFree, within } from "./support/leaks.js";
import {
  join,
  line,
  Progress,
  readUntilGone,
  serveMode,
  sha,
  testContext,
  until,
} from "./support/listen-modes.js";

describe("listen --broker", () => {
  test(
    "relays every client's bytes to every other client, not back to the sender",
    leakFree(async () => {
      const t = testContext();
      const srv = await serveMode(brokerMode({ broker: true }, t.ctx));
      const cs: Conn[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          cs.push(await dial("tcp", srv.address));
          await until(() => (t.stderr().match(/joined the broker/g) ?? []).length === i + 1, 5000, "join");
        }
        const [a, b, c] = cs as [Conn, Conn, Conn];
        const big = randomBytes(512 * 1024);
        await a.write(big);
        const [gotB, gotC] = await within(
          Promise.all([b.readExactly(big.length), c.readExactly(big.length)]),
          10_000,
          "relay of 512 KiB",
        );
        assert.equal(sha(gotB), sha(big));
        assert.equal(sha(gotC), sha(big));
        await b.write("from b\n");
        assert.equal((await within(a.readExactly(7), 5000, "a")).toString(), "from b\n");
        assert.equal((await within(c.readExactly(7), 5000, "c")).toString(), "from b\n");
        // a leaves: the others no longer relay to it, and it got nothing of its own
        await a.closeWrite();
        assert.equal(await within(a.read(), 5000, "a EOF"), null);
        await c.write("from c");
        assert.equal((await within(b.readExactly(6), 5000, "b")).toString(), "from c");
      } finally {
        for (const c of cs) await c.close();
        await srv.close();
      }
    }),
  );

  test(
    "a client that does not read is dropped once its queue is full; the others keep receiving",
    leakFree(async () => {
      const t = testContext();
      const bound = 256 * 1024;
      const mode = brokerMode({ broker: true, sendQueueBytes: bound }, t.ctx);
      const srv = await serveMode(mode);
      const cs: Conn[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          cs.push(await dial("tcp", srv.address));
          await until(() => mode.stats.clients === i + 1, 5000, "join");
        }
        const [talker, reader, sleeper] = cs as [Conn, Conn, Conn];
        const total = 16 * 1024 * 1024;
        const received = new Progress();
        const reading = (async () => {
          const h = createHash("sha256");
          while (received.value < total) {
            const b = await reader.read();
            if (b === null) break;
            h.update(b);
            received.advance(b.length);
          }
          return { n: received.value, hash: h.digest("hex") };
        })();
        const data = randomBytes(total);
        // the talker stays at most 64 KiB ahead of the reader: only the sleeper can fall behind
        const step = 32 * 1024;
        const talking = (async () => {
          for (let off = 0; off < total; off += step) {
            await received.reach(off - 2 * step);
            await talker.write(data.subarray(off, off + step));
          }
        })();
        await within(talking, 30_000, "talk 16 MiB");
        const got = await within(reading, 30_000, "reader gets everything");
        assert.equal(got.n, total);
        assert.equal(got.hash, sha(data));
        assert.equal(mode.stats.dropped, 1);
        assert.ok(mode.stats.peakQueued <= bound, `peak ${mode.stats.peakQueued} ≤ ${bound}`);
        const slept = await within(readUntilGone(sleeper), 10_000, "sleeper reset");
        assert.ok(slept < total, `the dropped client got ${slept} of ${total} bytes`);
        assert.match(t.stderr(), /client 3 .*dropped: it is not reading/);
      } finally {
        for (const c of cs) await c.close();
        await srv.close();
      }
    }),
  );
});

describe("listen --chat (the chat hub's plain mode)", () => {
  test(
    "two readers exchange 20k lines each while a client that never reads is dropped (bounded queue)",
    leakFree(async () => {
      const t = testContext();
      const bound = 256 * 1024;
      const mode = chatMode({ chat: true, sendQueueBytes: bound }, t.ctx);
      const srv = await serveMode(mode);
      const cs: Conn[] = [];
      try {
        const a = await join(srv.address);
        cs.push(a);
        const b = await join(srv.address);
        cs.push(b);
        assert.equal(await line(a), "*** guest2 joined #lobby");
        const sleeper = await dial("tcp", srv.address); // never reads anything
        cs.push(sleeper);
        assert.equal(await line(a), "*** guest3 joined #lobby");
        assert.equal(await line(b), "*** guest3 joined #lobby");
        await a.write("/nick alice\n");
        assert.equal(await line(a), "*** you are now alice");
        assert.equal(await line(b), "*** guest1 is now alice");

        const N = 20_000;
        const pad = "x".repeat(280);
        // each talker stays at most two batches (~60 KB) ahead of its reader, so the readers'
        // queues stay far below the bound whatever the scheduling; only the sleeper falls behind
        const batch = 100;
        const talk = async (c: Conn, tag: string, heard: Progress) => {
          for (let i = 0; i < N; i += batch) {
            await heard.reach(i - 2 * batch);
            let text = "";
            for (let j = i; j < i + batch; j++) text += `${tag} ${j} ${pad}\r\n`;
            await c.write(text);
          }
        };
        const listenFor = async (c: Conn, prefix: string, tag: string, heard: Progress) => {
          const notices: string[] = [];
          const d = lines({ maxLine: 64 * 1024 }).decoder(); // the codec, independent of the hub
          while (heard.value < N) {
            const chunk = await c.read();
            if (chunk === null) throw new Error(`EOF after ${heard.value} lines from ${tag}`);
            for (const l of d.push(chunk)) {
              if (l.startsWith("*** ")) notices.push(l);
              else {
                assert.equal(l, `${prefix} ${tag} ${heard.value} ${pad}`);
                heard.advance();
              }
            }
          }
          return notices;
        };
        const aHeard = new Progress(); // lines from b that a has read
        const bHeard = new Progress();
        const [, , notesA, notesB] = await within(
          Promise.all([
            talk(a, "from-a", bHeard),
            talk(b, "from-b", aHeard),
            listenFor(a, "<guest2>", "from-b", aHeard),
            listenFor(b, "<alice>", "from-a", bHeard),
          ]),
          60_000,
          "exchange",
        );
        assert.deepEqual(notesA, ["*** guest3 quit (SendQ exceeded)"]);
        assert.deepEqual(notesB, ["*** guest3 quit (SendQ exceeded)"]);
        assert.equal(mode.stats.dropped, 1);
        assert.equal(mode.stats.clients, 2);
        assert.equal(mode.stats.lines, 2 * N);
        assert.ok(mode.stats.peakQueued <= bound, `peak queue ${mode.stats.peakQueued} ≤ ${bound}`);
        const slept = await within(readUntilGone(sleeper), 10_000, "sleeper reset");
        assert.ok(slept < 2 * N * 300, `the dropped client got ${slept} bytes, not everything`);
        assert.match(t.stderr(), /client 3 .*dropped: it is not reading \(send queue over 262144 bytes\)/);
        // the operator saw the room
        assert.match(t.stdout(), /^\*\*\* guest3 joined #lobby$/m);
        assert.match(t.stdout(), new RegExp(`^<alice> from-a ${N - 1} x+$`, "m"));
        assert.match(t.stdout(), /^\*\*\* guest3 quit \(SendQ exceeded\)$/m);
        await a.close();
        assert.equal(await line(b), "*** alice quit (Connection closed)");
      } finally {
        for (const c of cs) await c.close();
        await srv.close();
      }
    }),
  );

  test(
    "nicknames: validated, unique (rfc1459 case), announced; rooms, /who, /msg; unknown commands are explained",
    leakFree(async () => {
      const t = testContext();
      const srv = await serveMode(chatMode({ chat: true }, t.ctx));
      const cs: Conn[] = [];
      try {
        const a = await join(srv.address);
        cs.push(a);
        const b = await join(srv.address);
        cs.push(b);
        assert.equal(await line(a), "*** guest2 joined #lobby");
        for (const bad of ["bad nick", "x".repeat(NICKLEN + 1), "123", "é", ""]) {
          await b.write(`/nick ${bad}\n`);
          assert.match(
            (await line(b)) ?? "",
            /^\*\*\* ".*" is not a valid nickname: 1-16 letters, digits, - _ \[ \] \{ \} \| \^ `, not starting with a digit or -$/,
          );
        }
        await a.write("/nick Alice\n");
        assert.equal(await line(a), "*** you are now Alice");
        assert.equal(await line(b), "*** guest1 is now Alice");
        await b.write("/nick alice\n");
        assert.equal(await line(b), "*** the nickname alice is taken");
        await b.write("/nick bob_2\n");
        assert.equal(await line(b), "*** you are now bob_2");
        assert.equal(await line(a), "*** guest2 is now bob_2");
        await a.write("/who\n");
        assert.equal(await line(a), "*** in #lobby: Alice (you), bob_2");
        await a.write("/frob\n");
        assert.match(
          (await line(a)) ?? "",
          /^\*\*\* unknown command \/frob; commands: \/nick NAME, \/join #room, \/who, /,
        );
        await a.write("//slash\nhello bob\n\n");
        assert.equal(await line(b), "<Alice> /slash");
        assert.equal(await line(b), "<Alice> hello bob");
        // rooms: bob moves to #side, gets a private message there, and comes back
        await b.write("/join side\n");
        assert.equal(await line(b), "*** bob_2 left #lobby");
        assert.equal(await line(b), "*** in #side: nobody else");
        assert.equal(await line(a), "*** bob_2 left #lobby");
        await a.write("/msg BOB_2 psst\nnot for bob\n/me waves\n");
        assert.equal(await line(b), "*Alice* psst");
        await b.write("/join #lobby\n");
        assert.equal(await line(b), "*** bob_2 left #side");
        assert.equal(await line(b), "*** in #lobby: Alice");
        assert.equal(await line(a), "*** bob_2 joined #lobby");
        await a.write("/quit\n");
        assert.equal(await line(a), "*** Closing Link: 127.0.0.1 (Quit)");
        assert.equal(await line(a), null);
        assert.equal(await line(b), "*** Alice quit (Quit)");
        assert.match(t.stdout(), /^\*\*\* bob_2 joined #side$/m);
        assert.match(t.stdout(), /^\* Alice waves$/m);
        assert.doesNotMatch(t.stdout(), /psst/, "private messages are not shown to the operator");
      } finally {
        for (const c of cs) await c.close();
        await srv.close();
      }
    }),
  );

  test(
    "control bytes are escaped, overlong lines are refused and skipped, CRLF in and --crlf out",
    leakFree(async () => {
      const t = testContext();
      const srv = await serveMode(chatMode({ chat: true, crlf: true }, t.ctx));
      const cs: Conn[] = [];
      try {
        const a = await join(srv.address);
        cs.push(a);
        const b = await join(srv.address);
        cs.push(b);
        assert.equal(await line(a), "*** guest2 joined #lobby\r");
        await a.write(
          Buffer.concat([
            Buffer.from("hi \x1b[2J\x1b]0;pwned\x07 \x7f\tok é "),
            Buffer.from([0xc2, 0x9b, 0xff]),
            Buffer.from("\r\n"),
          ]),
        );
        assert.equal(await line(b), "<guest1> hi \\x1b[2J\\x1b]0;pwned\\x07 \\x7f\tok é \\xc2\\x9b\\xff\r");
        // 510 bytes and CR LF is a line; one byte more is refused (the sender is told), and
        // the rest of it, up to its newline, is skipped without being held
        await a.write(
          `${"w".repeat(MAX_LINE - 2)}\r\n${"y".repeat(MAX_LINE - 1)}${"z".repeat(100_000)}\nafter\n`,
        );
        assert.equal(await line(b), `<guest1> ${"w".repeat(MAX_LINE - 2)}\r`);
        assert.equal(await line(a), "*** line too long (at most 510 bytes); not sent\r");
        assert.equal(await line(b), "<guest1> after\r");
        await a.write("no newline at the end");
        await a.closeWrite();
        assert.equal(await line(b), "<guest1> no newline at the end\r");
        assert.equal(await line(b), "*** guest1 quit (Connection closed)\r");
        assert.equal(await line(a), null);
        // the operator's copy ends in "\n" only, escaped the same way
        assert.match(t.stdout(), /^<guest1> hi \\x1b\[2J.*\\xff\n/m);
      } finally {
        for (const c of cs) await c.close();
        await srv.close();
      }
    }),
  );
});
