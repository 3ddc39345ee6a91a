/**
 * `npm run bench`: runs every figure as its own child process (`node build/bench/<figure>.js`),
 * one after another so they never compete for the two cores, and prints each figure's JSON line.
 * Names on the command line pick figures: `node build/bench/run.js pingpong accept-rate`.
 *
 * A missed target is a result, not a failure; the exit code is non-zero only when a figure could
 * not be measured (it crashed, printed no JSON line, or ran over its time bound).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const FIGURES = [
  "bulk-tcp",
  "pingpong",
  "accept-rate",
  "idle-memory",
  "udp-recv",
  "udp-pingpong",
  "codec-lines",
  "cli-pipe",
  "echo-vs-xinetd",
  "rpc",
  "transfer",
  "chat",
  "http",
  "tls",
  "smtp",
  "tracing",
  "tracing-ab",
  "tracing-procs",
  "tracing-http",
] as const;
// each figure bounds itself at 58 s; this is the backstop (BENCH_LIMIT_MS: to try it)
const LIMIT_MS = Number(process.env.BENCH_LIMIT_MS ?? 90_000) || 90_000;
const GRACE_MS = 5_000;

/** The figure running now (its pid leads its process group). */
let running: number | undefined;

function signalGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // the group is gone
  }
}

// Ctrl-C on the runner stops the running figure's group too (it is not in the runner's group)
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    signalGroup(running, "SIGTERM");
    setTimeout(() => {
      signalGroup(running, "SIGKILL");
      process.exit(130);
    }, GRACE_MS).unref();
  });
}

function runFigure(name: string): Promise<{ line: string; ok: boolean }> {
  const script = fileURLToPath(new URL(`${name}.js`, import.meta.url));
  return new Promise((resolve) => {
    // its own process group: at the bound the whole group (the figure, its servers and
    // pipelines) is stopped, first with SIGTERM so the figure removes its temp files
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"], detached: true });
    running = child.pid;
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      out += d;
    });
    let hard: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      signalGroup(child.pid, "SIGTERM");
      hard = setTimeout(() => signalGroup(child.pid, "SIGKILL"), GRACE_MS);
    }, LIMIT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(hard);
      running = undefined;
      const last = out.trim().split("\n").at(-1) ?? "";
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = JSON.parse(last) as Record<string, unknown>;
      } catch {
        parsed = undefined;
      }
      if (parsed && code === 0 && parsed.error === undefined) resolve({ line: last, ok: true });
      else {
        const error = parsed?.error ?? `exited with ${signal ?? code} and no JSON line`;
        resolve({ line: JSON.stringify({ figure: name, error }), ok: false });
      }
    });
  });
}

const picked = process.argv.slice(2);
for (const p of picked) {
  if (!(FIGURES as readonly string[]).includes(p)) {
    process.stderr.write(`unknown figure ${p}; figures: ${FIGURES.join(", ")}\n`);
    process.exit(2);
  }
}
let failed = 0;
for (const name of picked.length > 0 ? picked : FIGURES) {
  const { line, ok } = await runFigure(name);
  if (!ok) failed++;
  process.stdout.write(`${line}\n`);
}
process.exit(failed === 0 ? 0 : 1);
