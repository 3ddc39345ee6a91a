/**
 * Figure `cli-pipe`: the `sockit` command as a pipe on loopback against the C tools, in the same
 * run. Each variant is one shell pipeline, 1 GiB from /dev/zero:
 *
 * ```sh
 * <server> > /dev/null                                   # port 0, read back from its stderr
 * head -c 1073741824 /dev/zero | <client> 127.0.0.1 PORT
 * ```
 *
 * - sockit: `sockit listen 127.0.0.1 0` ← `sockit connect 127.0.0.1 PORT`
 * - socat (`raw` in the JSON line): `socat -u TCP-LISTEN:0,bind=127.0.0.1 STDOUT` ←
 *   `socat -u STDIN TCP:127.0.0.1:PORT`
 * - nc (OpenBSD): `nc -l 127.0.0.1 0` ← `nc -N 127.0.0.1 PORT`
 * - socatBig: socat as above with `-b 131072` (socat's default buffer is 8 KiB, which makes it
 *   the slowest of the C tools here; this shows what socat does with a buffer like Node's)
 *
 * The time runs from starting the client until both processes have exited (so the client's
 * start-up — ~50 ms for Node — is included). Unit MiB/s, higher is better; `ratio` is
 * sockit/socat (target ≥ 0.8), `ncRatio` sockit/nc, `socatBigRatio` sockit/(socat -b 131072). Before the recorded runs, one unrecorded
 * round per tool sends 16 MiB into `wc -c` to check every byte arrives.
 *
 * Knobs: `BENCH_PIPE_MIB` (default 1024), `BENCH_RUNS` (default 3 here).
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { emit, interleave, median, nowMs, round, watchdog, withTimeout } from "./lib.js";

const FIGURE = "cli-pipe";
const MIB = 1024 * 1024;
const BYTES = Math.max(1, Number(process.env.BENCH_PIPE_MIB ?? 1024) || 1024) * MIB;
const RUNS_HERE = Math.max(1, Number(process.env.BENCH_RUNS ?? 3) || 3);
const CHECK_BYTES = 16 * MIB;
/** Bound of one transfer (1 GiB at a pessimistic 50 MiB/s). */
const RUN_LIMIT_MS = 20_000;
const SOCKIT = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

/** One tool: how to start its server (and find its port) and its client. */
interface Tool {
  readonly server: readonly string[];
  readonly port: RegExp;
  readonly client: (port: number) => string;
}

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

const TOOLS = {
  sockit: {
    server: [process.execPath, SOCKIT, "listen", "127.0.0.1", "0"],
    port: /listening on 127\.0\.0\.1:(\d+)/,
    client: (p: number) => `${q(process.execPath)} ${q(SOCKIT)} connect 127.0.0.1 ${p}`,
  },
  socat: {
    server: ["socat", "-d", "-d", "-u", "TCP-LISTEN:0,bind=127.0.0.1", "STDOUT"],
    port: /listening on AF=2 127\.0\.0\.1:(\d+)/,
    client: (p: number) => `socat -u STDIN TCP:127.0.0.1:${p}`,
  },
  socatBig: {
    server: ["socat", "-d", "-d", "-u", "-b", "131072", "TCP-LISTEN:0,bind=127.0.0.1", "STDOUT"],
    port: /listening on AF=2 127\.0\.0\.1:(\d+)/,
    client: (p: number) => `socat -u -b 131072 STDIN TCP:127.0.0.1:${p}`,
  },
  nc: {
    server: ["nc", "-lv", "127.0.0.1", "0"],
    port: /Listening on \S+ (\d+)/,
    client: (p: number) => `nc -N 127.0.0.1 ${p}`,
  },
} satisfies Record<string, Tool>;

/** Kills a detached child and everything in its process group. */
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

/** Starts the server, waits for its port on stderr (bounded). */
async function startServer(
  tool: Tool,
  sink: "null" | "count",
): Promise<{ proc: ChildProcess; port: number; out: () => string }> {
  const [cmd, ...args] = tool.server;
  // count: the server's stdout goes through `wc -c`; null: straight to /dev/null
  const proc =
    sink === "null"
      ? spawn(cmd!, args, { stdio: ["ignore", "ignore", "pipe"], detached: true })
      : spawn("sh", ["-c", `${tool.server.map(q).join(" ")} | wc -c`], {
          stdio: ["ignore", "pipe", "pipe"],
          detached: true,
        });
  let err = "";
  let out = "";
  proc.stderr!.setEncoding("utf8");
  proc.stdout?.setEncoding("utf8");
  proc.stdout?.on("data", (d: string) => {
    out += d;
  });
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      proc.stderr!.on("data", (d: string) => {
        err += d;
        const m = err.match(tool.port);
        if (m) resolve(Number(m[1]));
      });
      proc.on("exit", (code) => reject(new Error(`${cmd} exited (${code}) before listening: ${err}`)));
    }),
    10_000,
    `${cmd} listening`,
  ).catch((e: unknown) => {
    killGroup(proc);
    throw e;
  });
  proc.stderr!.resume();
  return { proc, port, out: () => out };
}

/** One transfer of `bytes` through `tool`; resolves MiB/s (and the count seen, when counting). */
async function transfer(
  tool: Tool,
  bytes: number,
  sink: "null" | "count",
): Promise<{ mibps: number; got: number }> {
  const server = await startServer(tool, sink);
  let client: ChildProcess | undefined;
  try {
    const t0 = nowMs();
    client = spawn("sh", ["-c", `head -c ${bytes} /dev/zero | ${tool.client(server.port)}`], {
      stdio: ["ignore", "ignore", "inherit"],
      detached: true,
    });
    const [cc, sc] = await withTimeout(
      Promise.all([exited(client), exited(server.proc)]),
      RUN_LIMIT_MS,
      `${tool.server[0]} transfer`,
    );
    const ms = nowMs() - t0;
    if (cc !== 0 || sc !== 0) throw new Error(`${tool.server.join(" ")}: client exited ${cc}, server ${sc}`);
    return { mibps: bytes / MIB / (ms / 1000), got: Number(server.out().trim()) };
  } finally {
    if (client) killGroup(client);
    killGroup(server.proc);
  }
}

async function body(): Promise<void> {
  for (const [name, tool] of Object.entries(TOOLS)) {
    const { got } = await transfer(tool, CHECK_BYTES, "count");
    if (got !== CHECK_BYTES) throw new Error(`${name}: ${got} bytes arrived of ${CHECK_BYTES}`);
  }
  const run = (tool: Tool) => async () => (await transfer(tool, BYTES, "null")).mibps;
  const samples = await interleave(
    { sockit: run(TOOLS.sockit), raw: run(TOOLS.socat), nc: run(TOOLS.nc), socatBig: run(TOOLS.socatBig) },
    RUNS_HERE,
    0,
  );
  const sockit = median(samples.sockit);
  emit({
    figure: FIGURE,
    unit: "MiB/s",
    higherIsBetter: true,
    target: 0.8,
    samples,
    extra: {
      rawIs: "socat -u → socat -u",
      mib: BYTES / MIB,
      nc: round(median(samples.nc)),
      ncRatio: round(sockit / median(samples.nc), 3),
      socatBig: round(median(samples.socatBig)),
      socatBigRatio: round(sockit / median(samples.socatBig), 3),
      pipeline: "head -c N /dev/zero | <client> 127.0.0.1 PORT; <server> > /dev/null",
    },
  });
}

// 9 transfers of 1 GiB may take longer than the usual 58 s bound; run.js's backstop is 90 s
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
