/**
 * Figure `http`: `sockit serve http` against the quick static servers people reach for, same run,
 * interleaved rounds.
 *
 * - Requests/s for a 1 KiB file, `wrk -t1 -c64` (64 keep-alive connections) for `BENCH_HTTP_SECS`
 *   (default 2) per round, against `sockit serve http -q`, `python3 -m http.server` and nginx
 *   (Debian; a generated config, one worker, access log off). `npx http-server` is measured only
 *   when it is in node_modules or BENCH_HTTP_SERVER names its `bin/http-server` (it is not a
 *   dependency of this project: `npm install --prefix /tmp/hs http-server` puts one aside):
 *   otherwise its column is absent and `extra.httpServer` says so. `sockit`/`raw` in the JSON line are sockit and Python
 *   (goal: ≥ 5× Python); `extra.vsNginx` and `extra.vsHttpServer` are the other ratios.
 * - 1 GiB download throughput (a sparse file; `curl -o /dev/null` as the neutral client) from
 *   sockit and from nginx: `extra.download` (goal ≥ 0.7× nginx), with the CPU seconds the server
 *   process (nginx: master and worker) spent per download (`cpuSeconds`, from `/proc/PID/stat`:
 *   steadier than throughput on a shared machine) and sockit's peak resident memory.
 *
 * Every server runs as its own process (the benchmark process only drives wrk and curl); all on
 * 127.0.0.1 with free ports; everything is stopped at the end.
 *
 * Run: `npm run build && node build/bench/http.js` (BENCH_RUNS, BENCH_HTTP_SECS override;
 * `BENCH_HTTP_PARTS=download` runs only the download part, `=rps` only the requests/s part).
 *
 * @module
 */
import { type ChildProcess, execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { emit, HOST, interleave, main, median, round, tempDir } from "./lib.js";
import { cpuSeconds, freePort, server, stop, wrkRound } from "./procs.js";

const FIGURE = "http";
const SECS = Math.max(1, Number(process.env.BENCH_HTTP_SECS ?? 2) || 2);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3) || 3);
const PARTS = new Set((process.env.BENCH_HTTP_PARTS ?? "rps,download").split(","));
const GIB = 1024 ** 3;
const SOCKIT = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
/** `npx http-server`'s entry point: BENCH_HTTP_SERVER names one installed elsewhere (not a dependency). */
const HTTP_SERVER =
  process.env.BENCH_HTTP_SERVER ??
  fileURLToPath(new URL("../../node_modules/http-server/bin/http-server", import.meta.url));
const run = promisify(execFile);

/** Requests/s of one wrk round. */
async function wrk(port: number): Promise<number> {
  return (await wrkRound(`http://${HOST}:${port}/1k.bin`, 64, SECS)).rps;
}

/** Peak resident memory of `pid` in MiB (VmHWM). */
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Bytes/s of one 1 GiB download with curl. */
async function download(port: number): Promise<number> {
  const { stdout } = await run(
    "curl",
    [
      "-sS",
      "-f",
      "-o",
      "/dev/null",
      "-w",
      "%{size_download} %{speed_download}",
      `http://${HOST}:${port}/1g.bin`,
    ],
    { timeout: 60_000 },
  );
  const [size, speed] = stdout.trim().split(" ").map(Number);
  if (size !== GIB) throw new Error(`curl downloaded ${size} bytes, not ${GIB}`);
  return speed!;
}

main(FIGURE, async () => {
  const dir = tempDir("sockit-bench-http-");
  const www = join(dir, "www");
  mkdirSync(www);
  writeFileSync(join(www, "1k.bin"), Buffer.alloc(1024, 0x61));
  writeFileSync(join(www, "1g.bin"), "");
  truncateSync(join(www, "1g.bin"), GIB);
  const ng = join(dir, "nginx");
  mkdirSync(ng);
  const ports = {
    sockit: await freePort(),
    python: await freePort(),
    nginx: await freePort(),
    hs: await freePort(),
  };
  writeFileSync(
    join(ng, "nginx.conf"),
    `user root;
worker_processes 1;
daemon off;
pid ${ng}/nginx.pid;
error_log ${ng}/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  client_body_temp_path ${ng}/body;
  proxy_temp_path ${ng}/proxy;
  fastcgi_temp_path ${ng}/fastcgi;
  uwsgi_temp_path ${ng}/uwsgi;
  scgi_temp_path ${ng}/scgi;
  types { application/octet-stream bin; }
  server { listen ${HOST}:${ports.nginx}; root ${www}; }
}
`,
  );
  const procs: ChildProcess[] = [];
  try {
    procs.push(
      await server(
        process.execPath,
        [SOCKIT, "serve", "http", www, "-q", "--port", String(ports.sockit), "--max-per-source", "256"],
        ports.sockit,
      ),
      await server(
        "python3",
        ["-m", "http.server", String(ports.python), "--bind", HOST, "--directory", www],
        ports.python,
      ),
      await server("nginx", ["-p", ng, "-c", join(ng, "nginx.conf")], ports.nginx),
    );
    const haveHs = existsSync(HTTP_SERVER);
    if (haveHs)
      procs.push(
        await server(
          process.execPath,
          [HTTP_SERVER, www, "-s", "-c-1", "-a", HOST, "-p", String(ports.hs)],
          ports.hs,
        ),
      );
    const variants: Record<string, () => Promise<number>> = {
      sockit: () => wrk(ports.sockit),
      raw: () => wrk(ports.python),
      nginx: () => wrk(ports.nginx),
      ...(haveHs ? { httpServer: () => wrk(ports.hs) } : {}),
    };
    const rps = PARTS.has("rps") ? await interleave(variants, RUNS) : undefined;
    const pids = { sockit: procs[0]!.pid!, nginx: procs[2]!.pid! };
    const cpu: { sockit: number[]; nginx: number[] } = { sockit: [], nginx: [] };
    /** One download, and the CPU the server spent on it (the warm-up's is dropped with it). */
    const timed = (who: "sockit" | "nginx") => async () => {
      const c0 = cpuSeconds(pids[who]);
      const speed = await download(ports[who]);
      cpu[who].push(cpuSeconds(pids[who]) - c0);
      return speed;
    };
    const dl = PARTS.has("download")
      ? await interleave({ sockit: timed("sockit"), nginx: timed("nginx") }, rps ? Math.min(RUNS, 2) : RUNS)
      : undefined;
    const dlFigure = dl && {
      unit: "MB/s (1 GiB, curl)",
      sockit: round(median(dl.sockit) / 1e6, 4),
      nginx: round(median(dl.nginx) / 1e6, 4),
      ratio: round(median(dl.sockit) / median(dl.nginx), 3),
      target: 0.7,
      samples: {
        sockit: dl.sockit.map((x) => round(x / 1e6, 4)),
        nginx: dl.nginx.map((x) => round(x / 1e6, 4)),
      },
      cpuSeconds: {
        sockit: cpu.sockit.slice(1).map((x) => round(x, 3)),
        nginx: cpu.nginx.slice(1).map((x) => round(x, 3)),
      },
      sockitPeakRssMiB: round(peakRssMiB(pids.sockit), 3),
    };
    if (rps === undefined) {
      // only the download: its samples are the figure's, nginx as the reference (`raw`)
      emit({
        figure: FIGURE,
        unit: "MB/s (1 GiB download, curl)",
        higherIsBetter: true,
        target: 0.7,
        samples: { sockit: dlFigure!.samples.sockit, raw: dlFigure!.samples.nginx },
        extra: { raw_is: "nginx", download: dlFigure },
      });
      return;
    }
    const s = median(rps.sockit!);
    emit({
      figure: FIGURE,
      unit: "requests/s (1 KiB file, 64 keep-alive connections)",
      higherIsBetter: true,
      target: 5,
      samples: rps,
      extra: {
        raw_is: "python3 -m http.server",
        vsNginx: round(s / median(rps.nginx!), 3),
        ...(haveHs
          ? { vsHttpServer: round(s / median(rps.httpServer!), 3) }
          : { httpServer: "not measured: http-server is not in node_modules (not a dependency)" }),
        ...(dlFigure ? { download: dlFigure } : {}),
      },
    });
  } finally {
    for (const p of procs) await stop(p);
    rmSync(dir, { recursive: true, force: true });
  }
});
