/**
 * Child processes for end-to-end tests: spawn, read lines as they come, wait for exit, bounded.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";

/** A spawned child with its output collected and a way to wait for a line. */
export interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves the first stdout line matching `re` (waits at most `ms`). */
  line: (re: RegExp, ms?: number) => Promise<RegExpMatchArray>;
  /** Resolves the exit code (waits at most `ms`, then kills and rejects). */
  exit: (ms?: number) => Promise<number | null>;
  kill: (sig?: NodeJS.Signals) => void;
}

/** Spawns `cmd args` with piped stdio. */
export function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Child {
  const proc = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env });
  // a child that exits before reading all its input closes the pipe: EPIPE here is not a failure
  proc.stdin!.on("error", () => {});
  let out = "";
  let err = "";
  const waiters: Array<() => void> = [];
  proc.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = once(proc, "exit").then(([code]) => code as number | null);
  exited.catch(() => {});
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    line: (re, ms = 10_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no line matching ${re} within ${ms} ms; stdout: ${out}; stderr: ${err}`)),
          ms,
        );
        const check = () => {
          const m = out.match(re);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          } else waiters.push(check);
        };
        check();
      }),
    exit: async (ms = 10_000) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          exited,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              proc.kill("SIGKILL");
              reject(new Error(`${cmd} did not exit within ${ms} ms; stderr: ${err}`));
            }, ms);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    kill: (sig = "SIGTERM") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    },
  };
}
