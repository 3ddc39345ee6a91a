/**
 * Runs Python 3 as an independent peer or oracle. Python is on every machine this project runs on.
 */
import { spawn } from "node:child_process";

/** Result of a finished Python process. */
export interface PyResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `python3 -c code` with `args`, feeding `input` on stdin; rejects after `timeoutMs`.
 */
export function runPython(
  code: string,
  args: string[] = [],
  input?: string | Buffer,
  timeoutMs = 60_000,
): Promise<PyResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("python3", ["-c", code, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`python3 timed out after ${timeoutMs} ms; stderr: ${Buffer.concat(err).toString()}`));
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on("error", () => {}); // EPIPE if python exits before reading its input
    child.stdin.end(input);
  });
}

/**
 * Asks Python to evaluate `fn` (a Python expression over `x`, e.g. `socket.inet_aton(x).hex()`)
 * for each input; returns one result per input: `{ ok: value }` or `{ err: exceptionClassName }`.
 */
export async function pythonOracle(
  imports: string,
  fn: string,
  inputs: unknown[],
): Promise<Array<{ ok?: unknown; err?: string }>> {
  const code = `
import json, sys
${imports}
def f(x):
    return ${fn}
out = []
for x in json.load(sys.stdin):
    try:
        out.append({"ok": f(x)})
    except Exception as e:
        out.append({"err": type(e).__name__})
json.dump(out, sys.stdout)
`;
  const r = await runPython(code, [], JSON.stringify(inputs));
  if (r.code !== 0) throw new Error(`python oracle failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Array<{ ok?: unknown; err?: string }>;
}
