/**
 * Bounded waits for tests ({@link within}, {@link stillPending}) and {@link leakFree}, a per-test
 * socket check for the few tests that need their own.
 *
 * Every test file already gets a leak check from `leak-hook.ts` (preloaded by
 * scripts/run-tests.mjs): handles, child processes, timers and socket descriptors after the file.
 * Wrapping each test in `leakFree` as well only repeats that check, so tests do not: use it only
 * where a test must prove that *its own* body released its sockets before the next test starts
 * (the file-level hook would name the file, not the test).
 *
 * @example
 * ```ts
 * test("accept loop releases every connection", leakFree(async () => { … }));
 * ```
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";

const WATCHED = new Set([
  "TCPSocketWrap",
  "TCPServerWrap",
  "PipeWrap",
  "PipeServerWrap",
  "UDPWrap",
  "TCPWRAP",
  "PIPEWRAP",
]);

function handles(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) if (WATCHED.has(r)) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

function excess(before: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [k, v] of handles()) if (v > (before.get(k) ?? 0)) out.push(`${k} +${v - (before.get(k) ?? 0)}`);
  return out;
}

/**
 * Wraps a test body: after it finishes, every socket handle it opened must be released within
 * `graceMs` (closes complete asynchronously). Per test and opt-in; the file-level hook checks
 * every file without it (see the module comment for when a test still wants this).
 *
 * @example
 * ```ts
 * test("closes what it opens", leakFree(async () => { await using p = await tcpPair(); }));
 * ```
 */
export function leakFree(fn: () => Promise<void>, graceMs = 2000): () => Promise<void> {
  return async () => {
    const before = handles();
    await fn();
    const until = Date.now() + graceMs;
    let left = excess(before);
    while (left.length > 0 && Date.now() < until) {
      await sleep(20);
      left = excess(before);
    }
    assert.deepEqual(left, [], `handles left open: ${left.join(", ")}`);
  };
}

/**
 * Rejects if `p` does not settle within `ms` (keeps every wait in tests bounded).
 * @example `const conn = await within(ln.accept(), 5000, "accept");`
 */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * True if `p` is still pending after giving the event loop `ms` to run: for tests whose scenario
 * is that nothing happens for a while.
 * @example `assert.equal(await stillPending(sock.recv(1), 50), true);`
 */
export async function stillPending(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await sleep(ms);
  return !settled;
}
