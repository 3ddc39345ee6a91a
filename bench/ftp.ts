/**
 * Figure `ftp`: one RETR of a 1 GiB file over loopback, MB/s, SHA-256 of the received bytes
 * included and checked, in three variants run interleaved:
 *
 * - `sockit`: `sockit ftp get URL -o - | sha256sum` against `sockit serve ftp` (sockit's client);
 * - `raw`: `curl -s URL | sha256sum` against `sockit serve ftp` (the reference client, same server);
 * - `pyftpdlib`: `curl -s URL | sha256sum` against `python3 -m pyftpdlib` (the reference server).
 *
 * `ratio` is sockit's client against curl on the same server (target 0.7, the bar the file
 * transfer work sets for sockit against the plain tool); `extra.server` compares the
 * servers (curl against sockit's server / curl against pyftpdlib). The servers run as their own
 * processes; each client is a shell pipeline, so all three pay the same pipe and hash.
 *
 * Run: `npm run build && node build/bench/ftp.js` (BENCH_RUNS, default 3 here; BENCH_FTP_BYTES,
 * default 1 GiB). Not in `npm run bench`: a 1 GiB figure needs more than its 58 s bound.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { openSync, rmSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { emit, HOST, interleave, median, nowMs, round, tempDir, watchdog, withTimeout } from "./lib.js";

const FIGURE = "ftp";
const BYTES = Math.max(1 << 20, Number(process.env.BENCH_FTP_BYTES ?? 2 ** 30) || 2 ** 30);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3) || 3);
const SOCKIT = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

/** Writes `bytes` of random data (a 16 MiB random block repeated); resolves its SHA-256. */
function makeFile(path: string, bytes: number): string {
  const block = randomBytes(16 << 20);
  const h = createHash("sha256");
  const fd = openSync(path, "w");
  try {
    for (let left = bytes; left > 0;) {
      const b = block.subarray(0, Math.min(left, block.length));
      writeSync(fd, b);
      h.update(b);
      left -= b.length;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

/** Spawns a server and resolves the HOST:PORT it prints (stdout or stderr) matching `re`. */
async function server(
  cmd: string,
  args: string[],
  re: RegExp,
): Promise<{ proc: ChildProcess; address: string }> {
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const address = await withTimeout(
    new Promise<string>((resolve, reject) => {
      const look = (d: Buffer) => {
        out += d.toString();
        const m = re.exec(out);
        if (m) resolve(m[1]!);
      };
      proc.stdout!.on("data", look);
      proc.stderr!.on("data", look);
      proc.once("exit", (c) => reject(new Error(`${cmd} exited ${c}: ${out}`)));
    }),
    10_000,
    `${cmd} to listen`,
  );
  return { proc, address };
}

/** Runs a shell pipeline that prints a SHA-256; checks it; resolves MB/s. */
function pipeline(sh: string, want: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = nowMs();
    const p = spawn("sh", ["-c", sh], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.once("close", (code) => {
      const ms = nowMs() - t0;
      const got = out.trim().split(/\s+/)[0];
      if (code !== 0 || got !== want)
        reject(new Error(`${sh}: exit ${code}, sha256 ${got} (want ${want}); ${err}`));
      else resolve(BYTES / 1e6 / (ms / 1000));
    });
  });
}

async function body(): Promise<void> {
  const dir = tempDir("sockit-bench-ftp-");
  const procs: ChildProcess[] = [];
  try {
    const want = makeFile(join(dir, "big.bin"), BYTES);
    const ours = await server(
      process.execPath,
      [SOCKIT, "serve", "ftp", dir, "--host", HOST, "--port", "0", "--json"],
      /"listening":"([^"]+)"/,
    );
    procs.push(ours.proc);
    const py = await server(
      "/usr/bin/python3",
      ["-m", "pyftpdlib", "-i", HOST, "-p", "0", "-d", dir],
      /starting FTP server on (\S+:\d+)/,
    );
    procs.push(py.proc);
    const s = await interleave(
      {
        sockit: () => pipeline(`node ${SOCKIT} ftp get ftp://${ours.address}/big.bin -o - | sha256sum`, want),
        raw: () => pipeline(`curl -s ftp://${ours.address}/big.bin | sha256sum`, want),
        pyftpdlib: () => pipeline(`curl -s ftp://${py.address}/big.bin | sha256sum`, want),
      },
      RUNS,
    );
    const pairs = s.raw.flatMap((x, i) => (s.pyftpdlib[i] === undefined ? [] : [x / s.pyftpdlib[i]!]));
    emit({
      figure: FIGURE,
      unit: "MB/s",
      higherIsBetter: true,
      target: 0.7,
      samples: s,
      extra: {
        mode: "one RETR over loopback, SHA-256 of the received bytes checked; raw = curl against sockit serve ftp",
        bytes: BYTES,
        server: {
          sockitServe: round(median(s.raw)),
          pyftpdlib: round(median(s.pyftpdlib)),
          ratio: round(median(s.raw) / median(s.pyftpdlib), 3),
          pairedRatio: round(median(pairs), 3),
        },
      },
    });
  } finally {
    for (const p of procs) p.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

// not lib's main(): its 58 s bound is for the small figures; 3 × 3 GiB moved needs longer
watchdog(FIGURE, Math.max(58_000, (BYTES / 2 ** 30) * 3 * (RUNS + 1) * 20_000));
body().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stdout.write(
      `${JSON.stringify({ figure: FIGURE, error: String((err as Error)?.stack ?? err) })}\n`,
    );
    process.exit(1);
  },
);
