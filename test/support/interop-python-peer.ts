/**
 * Python 3 as a long-running interop peer: spawned (not run to completion) so a test can read the
 * first stdout line (a Python server's port) while the peer is still running, talk to it, then
 * collect its output. Every peer is killed by `close()`; tests call it in `finally`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { PyResult } from "./python.js";

/** A running Python process. */
export interface PythonPeer {
  /** The child process itself. */
  readonly child: ChildProcess;
  /** The first line of stdout (without the newline); rejects if Python exits before writing one. */
  readonly firstLine: Promise<string>;
  /** Resolves when Python has exited (code, all of stdout, stderr); rejects after the time limit. */
  readonly exited: Promise<PyResult>;
  /** Waits for exit and returns stdout's lines, failing with stderr if the exit code is not 0. */
  ok(): Promise<string[]>;
  /** Kills Python (SIGKILL) if it still runs and waits for it to go. Idempotent. */
  close(): Promise<void>;
}

/**
 * Spawns `python3 -u -c code args…` (stdin closed). The process is killed after `timeoutMs`.
 * @example
 * ```ts
 * const py = spawnPython("import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])");
 * try { const port = Number(await py.firstLine); … } finally { await py.close(); }
 * ```
 */
export function spawnPython(code: string, args: string[] = [], timeoutMs = 60_000): PythonPeer {
  const child = spawn("python3", ["-u", "-c", code, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let stdoutText = "";
  let resolveLine: (line: string) => void = () => {};
  let rejectLine: (e: Error) => void = () => {};
  const firstLine = new Promise<string>((resolve, reject) => {
    resolveLine = resolve;
    rejectLine = reject;
  });
  firstLine.catch(() => {}); // a test that never asks for the line must not see an unhandled rejection
  let lineSeen = false;
  child.stdout!.on("data", (d: Buffer) => {
    out.push(d);
    if (!lineSeen) {
      stdoutText += d.toString();
      const nl = stdoutText.indexOf("\n");
      if (nl >= 0) {
        lineSeen = true;
        resolveLine(stdoutText.slice(0, nl));
      }
    }
  });
  child.stderr!.on("data", (d: Buffer) => err.push(d));
  const stderrText = () => Buffer.concat(err).toString();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const exited = new Promise<PyResult>((resolve, reject) => {
    child.on("error", (e) => {
      clearTimeout(timer);
      rejectLine(e);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const result = { code, stdout: Buffer.concat(out).toString(), stderr: stderrText() };
      if (!lineSeen) {
        rejectLine(
          new Error(
            `python3 exited (code ${code}, signal ${signal}) before its first line; stderr: ${result.stderr}`,
          ),
        );
      }
      if (timedOut) reject(new Error(`python3 killed after ${timeoutMs} ms; stderr: ${result.stderr}`));
      else resolve(result);
    });
  });
  exited.catch(() => {});
  return {
    child,
    firstLine,
    exited,
    async ok() {
      const r = await exited;
      if (r.code !== 0) throw new Error(`python3 exited with code ${r.code}; stderr:\n${r.stderr}`);
      return r.stdout.split("\n").filter((l) => l.length > 0);
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited.catch(() => {});
    },
  };
}
