/**
 * The state tables are the truth twice over: docs/api.md shows them exactly as the code has them,
 * and real sockets on loopback, put in each state, answer every call as the table's cell says —
 * the errno it names, or the state it leads to.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { SockAddr } from "../addr/address.js";
import { AF_INET, AF_UNSPEC, SOCK_DGRAM, SOCK_STREAM } from "../addr/constants.js";
import { OSError } from "../errors/index.js";
import { MSG_DONTWAIT, SHUT_RDWR } from "./constants.js";
import { type Socket, socket } from "./socket.js";
import {
  type Call,
  DATAGRAM_STATES,
  isRefusal,
  renderStateTable,
  type SocketState,
  STREAM_STATES,
  type Table,
} from "./states.js";

describe("the state tables", () => {
  test("docs/api.md shows both tables exactly as the code has them", () => {
    const doc = readFileSync(fileURLToPath(new URL("../../../docs/api.md", import.meta.url)), "utf8");
    const section = doc.slice(doc.indexOf("### States"), doc.indexOf("### Resets"));
    assert.ok(section.length > 0, "docs/api.md has a States section");
    assert.ok(section.includes(renderStateTable(STREAM_STATES)), "the stream table");
    assert.ok(section.includes(renderStateTable(DATAGRAM_STATES)), "the datagram table");
  });

  test("every refusal is an errno with its Linux number", () => {
    for (const table of [STREAM_STATES, DATAGRAM_STATES] as Table<string>[])
      for (const row of Object.values(table))
        for (const cell of Object.values(row))
          if (isRefusal(cell!)) assert.ok(new OSError(cell).errno > 0, `${cell} has a number`);
  });

  for (const [kind, type, table] of [
    ["stream", SOCK_STREAM, STREAM_STATES],
    ["datagram", SOCK_DGRAM, DATAGRAM_STATES],
  ] as const) {
    test(`a ${kind} socket in each state answers every call as its table says`, async () => {
      // the peer: a listening stream socket, or a bound datagram socket
      const peer = socket(AF_INET, type);
      const opened: Socket[] = [peer];
      try {
        await peer.bind(["127.0.0.1", 0]);
        if (type === SOCK_STREAM) await peer.listen(64);
        const to = peer.getsockname();
        const checked: string[] = [];
        for (const state of Object.keys(table) as SocketState[]) {
          for (const call of Object.keys(table[state as keyof typeof table]) as Call[]) {
            const cell = (table as Table<string>)[state]![call]!;
            const s = socket(AF_INET, type);
            opened.push(s);
            await enterState(s, state, to);
            assert.equal(s.state, state, `set up ${state}`);
            const err = await run(s, call, to).then(
              () => undefined,
              (e: unknown) => e,
            );
            const where = `${kind} ${state} ${call}`;
            if (isRefusal(cell)) {
              assert.ok(err instanceof OSError, `${where}: refused (${String(err)})`);
              assert.equal(err.code, cell, `${where}: ${err.message}`);
              assert.equal(s.state, state, `${where}: a refusal leaves the state`);
            } else {
              // allowed; a call that would wait says so (EAGAIN), and a send without a peer
              // fails after the autobind, as Linux (docs/api.md, "States")
              if (err !== undefined) {
                assert.ok(err instanceof OSError, `${where}: ${String(err)}`);
                assert.ok(["EAGAIN", "EDESTADDRREQ"].includes(err.code), `${where}: ${err.message}`);
              }
              assert.equal(s.state, cell, where);
            }
            checked.push(where);
            await s.close();
          }
        }
        assert.equal(checked.length, Object.values(table).flatMap((r) => Object.keys(r)).length);
      } finally {
        for (const s of opened) await s.close();
      }
    });
  }
});

/** Puts a fresh socket in `state` (the peer at `to` answers connects). */
async function enterState(s: Socket, state: SocketState, to: SockAddr): Promise<void> {
  switch (state) {
    case "created":
      return;
    case "bound":
      return s.bind(["127.0.0.1", 0]);
    case "listening":
      await s.bind(["127.0.0.1", 0]);
      return s.listen();
    case "connecting": {
      // a non-blocking connect stays "connecting" until the event loop hears the answer
      s.setblocking(false);
      assert.equal(await s.connect_ex(to), 115, "EINPROGRESS");
      return;
    }
    case "connected":
      return s.connect(to);
    case "closed":
      return s.close();
  }
}

/** Makes `call` with arguments that are right for it, so only the state can refuse it. */
function run(s: Socket, call: Call, to: SockAddr): Promise<unknown> {
  try {
    switch (call) {
      case "bind":
        return s.bind(["127.0.0.1", 0]);
      case "listen":
        return s.listen();
      case "accept":
        if (s.state !== "connecting") s.setblocking(false); // EAGAIN rather than a wait
        return s.accept().then(([c]) => c.close());
      case "connect":
        return s.connect(to);
      case "disconnect":
        return s.connect(AF_UNSPEC);
      case "send":
        s.setblocking(true); // while connecting: waits for the connection
        return s.send("x");
      case "sendto":
        return s.sendto("x", to);
      case "recv":
        s.setblocking(true);
        return s.recv(1, MSG_DONTWAIT);
      case "shutdown":
        return Promise.resolve(s.shutdown(SHUT_RDWR));
      case "getpeername":
        return Promise.resolve(s.getpeername());
      case "close":
        return s.close();
    }
  } catch (err) {
    return Promise.reject(err);
  }
}
