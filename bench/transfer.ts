/**
 * Figure `transfer`: direct file transfer on loopback, `sockit send` → `sockit recv` (each file
 * hashed with SHA-256 on both sides and acknowledged) against OpenBSD `nc` piping the same file
 * (no verification), in the same run:
 *
 * ```sh
 * sockit recv --dir OUT 127.0.0.1:0            ←  sockit send FILE 127.0.0.1:PORT
 * nc -l 127.0.0.1 0 > OUT/FILE                 ←  nc -N 127.0.0.1 PORT < FILE
 * nc -l 127.0.0.1 0 | tee OUT/FILE | sha256sum ←  sha256sum FILE; nc -N 127.0.0.1 PORT < FILE   (ncSha)
 * ```
 *
 * The file is random bytes in a temporary directory, written once (the page cache holds it, as it
 * would a file just made). The time runs from starting the sender until both sides have exited;
 * the received file is removed between runs. Unit MiB/s, higher is better; `ratio` is sockit/nc
 * (target ≥ 0.7), `ncShaRatio` sockit/(nc with sha256sum on both sides). `cpuSecPerGiB` is the
 * CPU time (user + system) of both sides together per GiB, median of the recorded runs, read from
 * this process's reaped-children times in /proc/self/stat (less sensitive to other load on the
 * machine than the wall-clock rate). Before the recorded runs, one unrecorded round per tool
 * checks that the file arrives whole (same SHA-256).
 *
 * Knobs: `BENCH_TRANSFER_MIB` (default 1024), `BENCH_RUNS` (default 3 here).
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { closeSync, createReadStream, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { emit, interleave, median, nowMs, round, tempDir, watchdog, withTimeout } from "./lib.js";

const FIGURE = "transfer";
const MIB = 1024 * 1024;
const BYTES = Math.max(1, Number(process.env.BENCH_TRANSFER_MIB ?? 1024) || 1024) * MIB;
const RUNS_HERE = Math.max(1, Number(process.env.BENCH_RUNS ?? 3) || 3);
/** Bound of one transfer (1 GiB at a pessimistic 50 MiB/s). */
const RUN_LIMIT_MS = 25_000;
const SOCKIT = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

interface Tool {
  /** The receiving shell command (its stderr names the port). */
  readonly server: (out: string) => string;
  readonly port: RegExp;
  readonly client: (file: string, port: number) => string;
}

const TOOLS = {
  sockit: {
    server: (out: string) =>
      `${q(process.execPath)} ${q(SOCKIT)} recv --no-progress --dir ${q(out)} 127.0.0.1:0 1>&2`,
    port: /listening on 127\.0\.0\.1:(\d+)/,
    client: (file: string, p: number) =>
      `${q(process.execPath)} ${q(SOCKIT)} send --no-progress ${q(file)} 127.0.0.1:${p} > /dev/null`,
  },
  nc: {
    server: (out: string) => `nc -lv 127.0.0.1 0 > ${q(join(out, "file.bin"))}`,
    port: /Listening on \S+ (\d+)/,
    client: (file: string, p: number) => `nc -N 127.0.0.1 ${p} < ${q(file)}`,
  },
  ncSha: {
    server: (out: string) => `nc -lv 127.0.0.1 0 | tee ${q(join(out, "file.bin"))} | sha256sum > /dev/null`,
    port: /Listening on \S+ (\d+)/,
    client: (file: string, p: number) =>
      `sha256sum ${q(file)} > /dev/null && nc -N 127.0.0.1 ${p} < ${q(file)}`,
  },
} satisfies Record<string, Tool>;

/** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux). */
const TICKS = 100;

/**
 * CPU seconds (user + system) of this process's children that have been waited for: each side's
 * `sh`, and through it what the shell ran and waited for.
 */
function childrenCpu(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // after the command name: state is field 3, cutime and cstime are fields 16 and 17
  return (Number(f[16 - 3]) + Number(f[17 - 3])) / TICKS;
}

/** CPU seconds per GiB of each recorded transfer, by tool. */
const cpu: Record<string, number[]> = {};

function killGroup(c: ChildProcess): void {
  if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(-c.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function exited(c: ChildProcess): Promise<number | null> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(c.exitCode);
  return once(c, "exit").then(([code]) => code as number | null);
}

async function sha256(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const b of createReadStream(path, { highWaterMark: MIB })) h.update(b as Buffer);
  return h.digest("hex");
}

/** One transfer of `file` through `tool` into `out`; resolves MiB/s (and notes the CPU time under `name`). */
async function transfer(tool: Tool, file: string, out: string, name?: string): Promise<number> {
  rmSync(join(out, "file.bin"), { force: true });
  const cpu0 = childrenCpu();
  const server = spawn("sh", ["-c", tool.server(out)], {
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  let client: ChildProcess | undefined;
  try {
    let err = "";
    server.stderr!.setEncoding("utf8");
    const port = await withTimeout(
      new Promise<number>((resolve, reject) => {
        server.stderr!.on("data", (d: string) => {
          err += d;
          const m = err.match(tool.port);
          if (m) resolve(Number(m[1]));
        });
        server.on("exit", (code) => reject(new Error(`receiver exited (${code}) before listening: ${err}`)));
      }),
      10_000,
      "receiver listening",
    );
    const t0 = nowMs();
    client = spawn("sh", ["-c", tool.client(file, port)], {
      stdio: ["ignore", "ignore", "inherit"],
      detached: true,
    });
    const [cc, sc] = await withTimeout(
      Promise.all([exited(client), exited(server)]),
      RUN_LIMIT_MS,
      "transfer",
    );
    const ms = nowMs() - t0;
    if (cc !== 0 || sc !== 0)
      throw new Error(`${tool.client(file, port)}: sender exited ${cc}, receiver ${sc}: ${err}`);
    if (name !== undefined) (cpu[name] ??= []).push((childrenCpu() - cpu0) / (BYTES / (1024 * MIB)));
    return BYTES / MIB / (ms / 1000);
  } finally {
    if (client) killGroup(client);
    killGroup(server);
  }
}

async function body(): Promise<void> {
  const dir = tempDir("sockit-bench-transfer-");
  try {
    const file = join(dir, "file.bin");
    const out = join(dir, "out");
    const fd = openSync(file, "w");
    for (let left = BYTES; left > 0; left -= Math.min(left, 16 * MIB))
      writeSync(fd, randomBytes(Math.min(left, 16 * MIB)));
    closeSync(fd);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out);
    const want = await sha256(file);
    for (const [name, tool] of Object.entries(TOOLS)) {
      await transfer(tool, file, out);
      const got = await sha256(join(out, "file.bin"));
      if (got !== want) throw new Error(`${name}: the file arrived with SHA-256 ${got}, not ${want}`);
    }
    const run = (tool: Tool, name: string) => () => transfer(tool, file, out, name);
    const samples = await interleave(
      { sockit: run(TOOLS.sockit, "sockit"), raw: run(TOOLS.nc, "raw"), ncSha: run(TOOLS.ncSha, "ncSha") },
      RUNS_HERE,
      0,
    );
    emit({
      figure: FIGURE,
      unit: "MiB/s",
      higherIsBetter: true,
      target: 0.7,
      samples,
      extra: {
        rawIs: "nc -N < FILE → nc -l > FILE (no verification)",
        mib: BYTES / MIB,
        ncSha: round(median(samples.ncSha)),
        ncShaRatio: round(median(samples.sockit) / median(samples.ncSha), 3),
        cpuSecPerGiB: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(median(v), 3)])),
      },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// 9 transfers of 1 GiB plus the checks may take longer than the usual 58 s; run.js's backstop is 90 s
watchdog(FIGURE, 88_000);
body().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stdout.write(
      `${JSON.stringify({ figure: FIGURE, error: String((err as Error)?.stack ?? err) })}\n`,
    );
    process.exit(1);
  },
);
