// WaitList and Watchers: who is woken, in what order, and how a bounded wait ends (timeout,
// signal, non-blocking, fail). Pure logic over timers and AbortSignals: no socket is needed.
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, test } from "node:test";
import { assertOSError, rejectsOSError } from "../../test/support/errors.js";
import { stillPending } from "../../test/support/leaks.js";
import { BlockingIOError, InterruptedError, makeOSError, OSError, TimeoutError } from "../errors/index.js";
import { WaitList, Watchers } from "./wait.js";

/** Ref'd timers alive now (a waiter's timeout is one until it is cleared). */
function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

describe("WaitList", () => {
  test("wakeOne wakes the first waiter only, in arrival order; wake wakes all that are left", async () => {
    const list = new WaitList();
    const order: number[] = [];
    const ps = [1, 2, 3, 4].map((i) => list.wait(undefined, "accept").then(() => order.push(i)));
    assert.equal(list.size, 4);
    list.wakeOne();
    await ps[0];
    assert.deepEqual(order, [1]);
    assert.equal(list.size, 3);
    list.wakeOne();
    await ps[1];
    assert.deepEqual(order, [1, 2]);
    list.wake();
    await Promise.all(ps);
    assert.deepEqual(order, [1, 2, 3, 4]);
    assert.equal(list.size, 0);
  });

  test("a single waiter is woken by wake(), and a wake with nobody waiting is not remembered", async () => {
    const list = new WaitList();
    list.wake();
    list.wakeOne();
    const p = list.wait({}, "recv");
    assert.equal(await stillPending(p, 20), true, "an earlier wake must not release a later wait");
    list.wake();
    await p;
    assert.equal(list.size, 0);
  });

  test("a timeout rejects TimeoutError ETIMEDOUT naming op, address and seconds; the others keep waiting", async () => {
    const list = new WaitList();
    const other = list.wait(undefined, "recv");
    const t0 = Date.now();
    const err = await rejectsOSError(
      list.wait({ timeout: 30 }, "recv", "127.0.0.1:9"),
      TimeoutError,
      "ETIMEDOUT",
      "recv",
    );
    assert.ok(Date.now() - t0 >= 25, `timed out after ${Date.now() - t0} ms, asked 30`);
    assert.equal(err.address, "127.0.0.1:9");
    assert.match(err.message, /0\.03 s/);
    assert.match(err.message, /still usable/);
    assert.equal(list.size, 1, "the timed-out waiter left the list");
    list.wakeOne();
    await other; // the one left is the other waiter, not a stale slot
  });

  test("a wake before the timeout clears its timer (no timer outlives the wait)", async () => {
    const list = new WaitList();
    const before = timers();
    const p = list.wait({ timeout: 60_000 }, "recv");
    assert.equal(timers(), before + 1);
    list.wake();
    await p;
    assert.equal(timers(), before);
  });

  test("an aborted signal rejects InterruptedError EINTR with the reason as cause, and its listener goes", async () => {
    const list = new WaitList();
    const ac = new AbortController();
    const p = list.wait({ signal: ac.signal, timeout: 60_000 }, "accept", { peerText: () => "[::1]:80" });
    assert.equal(getEventListeners(ac.signal, "abort").length, 1);
    const reason = new Error("user pressed ^C");
    ac.abort(reason);
    const err = await rejectsOSError(p, InterruptedError, "EINTR", "accept");
    assert.equal(err.cause, reason);
    assert.equal(err.address, "[::1]:80");
    assert.equal(getEventListeners(ac.signal, "abort").length, 0);
    assert.equal(list.size, 0);
  });

  test("an already aborted signal rejects at once without queueing", async () => {
    const list = new WaitList();
    const p = list.wait({ signal: AbortSignal.abort("gone") }, "recv");
    assert.equal(list.size, 0);
    const err = await rejectsOSError(p, InterruptedError, "EINTR", "recv");
    assert.equal(err.cause, "gone");
  });

  test("woken waiters drop their abort listener", async () => {
    const list = new WaitList();
    const ac = new AbortController();
    const ps = [list.wait({ signal: ac.signal }, "recv"), list.wait({ signal: ac.signal }, "recv")];
    assert.equal(getEventListeners(ac.signal, "abort").length, 2);
    list.wakeOne();
    await ps[0];
    assert.equal(getEventListeners(ac.signal, "abort").length, 1);
    list.wake();
    await ps[1];
    assert.equal(getEventListeners(ac.signal, "abort").length, 0);
  });

  test("non-blocking rejects BlockingIOError EAGAIN at once and queues nothing", async () => {
    const list = new WaitList();
    let asked = 0;
    const err = await rejectsOSError(
      list.wait({ nonblocking: true }, "recv", {
        peerText: () => {
          asked++;
          return "127.0.0.1:7";
        },
      }),
      BlockingIOError,
      "EAGAIN",
      "recv",
    );
    assert.equal(err.address, "127.0.0.1:7");
    assert.equal(asked, 1);
    assert.equal(list.size, 0);
  });

  test("a lazy address is formatted only when an error needs it", async () => {
    const list = new WaitList();
    let asked = 0;
    const p = list.wait({ timeout: 60_000 }, "recv", {
      peerText: () => {
        asked++;
        return "x";
      },
    });
    list.wake();
    await p;
    assert.equal(asked, 0);
  });

  test("fail rejects every waiter with an error made for its own op and clears their timers", async () => {
    const list = new WaitList();
    const before = timers();
    const ps = [
      list.wait({ timeout: 60_000 }, "recv"),
      list.wait({ timeout: 60_000 }, "send"),
      list.wait(undefined, "accept"),
    ];
    const results = Promise.allSettled(ps);
    list.fail((op) => makeOSError("EBADF", { op, hint: "the socket is closed" }));
    assert.equal(list.size, 0);
    assert.equal(timers(), before);
    const ops: string[] = [];
    for (const r of await results) {
      assert.equal(r.status, "rejected");
      assertOSError((r as PromiseRejectedResult).reason, OSError, "EBADF");
      ops.push((r as PromiseRejectedResult).reason.op);
    }
    assert.deepEqual(ops, ["recv", "send", "accept"]);
  });

  test("a waiter that times out in the middle keeps the order of the rest", async () => {
    const list = new WaitList();
    const order: string[] = [];
    const a = list.wait(undefined, "accept").then(() => order.push("a"));
    const b = list.wait({ timeout: 10 }, "accept").catch(() => order.push("b timed out"));
    const c = list.wait(undefined, "accept").then(() => order.push("c"));
    await b;
    list.wakeOne();
    await a;
    list.wakeOne();
    await c;
    assert.deepEqual(order, ["b timed out", "a", "c"]);
  });
});

describe("Watchers", () => {
  test("notify runs every callback; the returned function removes one, even during a notify", () => {
    const w = new Watchers();
    w.notify(); // nobody watches: nothing to do
    const seen: string[] = [];
    const stopA = w.add(() => {
      seen.push("a");
      stopB(); // removing another watcher while notifying is safe
    });
    const stopB = w.add(() => seen.push("b"));
    w.notify();
    assert.deepEqual(seen, ["a", "b"], "b was in the set when the notify began");
    w.notify();
    assert.deepEqual(seen, ["a", "b", "a"]);
    stopA();
    w.notify();
    assert.deepEqual(seen, ["a", "b", "a"]);
  });
});
