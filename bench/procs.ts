/**
 * Helpers for figures that run servers as processes of their own: a free port, start and wait
 * until it accepts, stop, and the CPU time a process tree used (Linux `/proc`).
 *
 * @module
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { dial, listen } from "../src/net/index.js";
import { promisify } from "node:util";
import { HOST } from "./lib.js";

const run = promisify(execFile);

/** A loopback port free now (bound, then closed). */
export async function freePort(): Promise<number> {
  const ln = await listen("tcp", `${HOST}:0`);
  const p = ln.port;
  await ln.close();
  return p;
}

/** Waits until something accepts on 127.0.0.1:`port` (at most `ms`). */
export async function accepting(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const c = await dial("tcp", `${HOST}:${port}`);
      await c.close();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Starts `cmd args` (no output kept) and waits until it accepts on `port`. */
export async function server(
  cmd: string,
  args: string[],
  port: number,
  env?: NodeJS.ProcessEnv,
): Promise<ChildProcess> {
  const p = spawn(cmd, args, { stdio: "ignore", ...(env ? { env } : {}) }); // python logs every request (and every reset) on stderr
  await accepting(port);
  return p;
}

/** Stops a child (SIGTERM, then SIGKILL after 5 s) and waits for its exit. */
export async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill("SIGTERM");
  const t = setTimeout(() => p.kill("SIGKILL"), 5000);
  await once(p, "exit");
  clearTimeout(t);
}

/** The pid and its descendants (nginx: the master and its worker). */
export function processTree(pid: number): number[] {
  const out = [pid];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const kids = readFileSync(`/proc/${pid}/task/${t}/children`, "latin1").trim();
      for (const k of kids === "" ? [] : kids.split(" ")) out.push(...processTree(Number(k)));
    }
  } catch {
    // gone meanwhile
  }
  return out;
}

const TICK = 100; // USER_HZ: the unit of /proc/PID/stat's times on Linux

/** CPU seconds (user + system) used so far by `pid` and its descendants. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "latin1");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    } catch {
      // gone meanwhile
    }
  }
  return ticks / TICK;
}

/**
 * One `wrk -t1 -cCONNS -dSECSs URL` round: requests/s and requests done. Throws when wrk saw an
 * answer other than 2xx/3xx.
 */
export async function wrkRound(
  url: string,
  conns: number,
  secs: number,
): Promise<{ rps: number; requests: number }> {
  const { stdout } = await run("wrk", ["-t1", `-c${conns}`, `-d${secs}s`, url], {
    timeout: (secs + 20) * 1000,
  });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const n = /(\d+) requests in/.exec(stdout);
  if (!m || !n) throw new Error(`wrk printed no Requests/sec: ${stdout}`);
  if (/Non-2xx or 3xx responses/.test(stdout)) throw new Error(`wrk saw error answers: ${stdout}`);
  return { rps: Number(m[1]), requests: Number(n[1]) };
}
