/**
 * Leak check for every test file, not opt-in: `node --test --import ./build/test/support/leak-hook.js`
 * (scripts/run-tests.mjs passes it) loads this before each file. When the file's tests are done,
 * a root `after` hook waits (bounded, 3 s) for handles and socket descriptors to come back to what
 * the process had before the file started; if they do not, the hook fails naming what is left
 * (`TCPSocketWrap 127.0.0.1:41234 -> 127.0.0.1:38122`, `ProcessWrap python3 …`, `socket fd 23`),
 * and the process exits non-zero even when a leaked handle would keep it alive.
 *
 * Its `after` is registered first, so it runs before a test file's own root-level `after` hooks:
 * a file that closes shared resources in an `after` does so inside a `describe` (whose hooks run
 * before the root's).
 *
 * Counted: sockets, servers, pipes, UDP sockets, child processes, ref'd timers and immediates
 * (`process.getActiveResourcesInfo()`), and `socket:[…]` links under /proc/self/fd.
 *
 * @example
 * ```sh
 * node --test --import ./build/test/support/leak-hook.js build/test/unix.test.js
 * ```
 * @module
 */
import { readdirSync, readlinkSync } from "node:fs";
import { after } from "node:test";

const WATCHED = new Set([
  "TCPSocketWrap",
  "TCPServerWrap",
  "PipeWrap",
  "PipeServerWrap",
  "UDPWrap",
  "ProcessWrap",
  "Timeout",
  "Immediate",
]);

/** Counts of the watched resource types active now. */
export function resourceCounts(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) if (WATCHED.has(r)) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

/** The descriptors under /proc/self/fd that are sockets (empty where /proc is missing). */
export function socketFds(): Set<number> {
  const out = new Set<number>();
  let names: string[];
  try {
    names = readdirSync("/proc/self/fd");
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      if (readlinkSync(`/proc/self/fd/${n}`).startsWith("socket:")) out.add(Number(n));
    } catch {
      // closed between readdir and readlink
    }
  }
  return out;
}

interface HandleLike {
  constructor?: { name?: string };
  localAddress?: string;
  localPort?: number;
  remoteAddress?: string;
  remotePort?: number;
  spawnargs?: string[];
  pid?: number;
  address?: () => unknown;
}

/** What Node says about its live handles, one short line each (best effort, for the message). */
function describeHandles(): string[] {
  const get = (process as unknown as { _getActiveHandles?: () => HandleLike[] })._getActiveHandles;
  if (typeof get !== "function") return [];
  const out: string[] = [];
  const stdio = new Set<unknown>([process.stdin, process.stdout, process.stderr]);
  for (const h of get.call(process)) {
    if (stdio.has(h)) continue;
    const name = h.constructor?.name ?? "?";
    if (h.spawnargs) out.push(`${name} pid ${h.pid}: ${h.spawnargs.join(" ").slice(0, 120)}`);
    else if (h.remoteAddress !== undefined)
      out.push(`${name} ${h.localAddress}:${h.localPort} -> ${h.remoteAddress}:${h.remotePort}`);
    else if (typeof h.address === "function") {
      let a: unknown;
      try {
        a = h.address();
      } catch {
        a = undefined;
      }
      out.push(`${name} ${JSON.stringify(a)}`);
    } else out.push(name);
  }
  return out;
}

/** What is open now beyond `before`/`fdsBefore`, as human-readable parts; empty if nothing. */
export function excess(before: Map<string, number>, fdsBefore: Set<number>): string[] {
  const out: string[] = [];
  for (const [k, v] of resourceCounts()) {
    const was = before.get(k) ?? 0;
    if (v > was) out.push(`${k} +${v - was}`);
  }
  const fds = [...socketFds()].filter((fd) => !fdsBefore.has(fd));
  if (fds.length > 0) out.push(`socket fd ${fds.join(", ")}`);
  return out;
}

const before = resourceCounts();
const fdsBefore = socketFds();
const GRACE_MS = 3000;

after(async () => {
  const until = Date.now() + GRACE_MS;
  let left = excess(before, fdsBefore);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 25));
    left = excess(before, fdsBefore);
  }
  if (left.length === 0) return;
  // A leaked handle keeps the process alive: exit once the failure has been reported.
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 2000).unref();
  const detail = describeHandles();
  throw new Error(
    `${process.argv[1] ?? "this test file"} left resources open after its tests ended: ${left.join("; ")}` +
      (detail.length > 0 ? `\n  live handles:\n    ${detail.join("\n    ")}` : "") +
      "\n  close every socket, server, child process and timer a test opens (in finally, or with await using)",
  );
});
