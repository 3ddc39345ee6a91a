/**
 * Figure `tracing-http`: what tracing costs a real program under load, beside figure `tracing`'s
 * worst case. `sockit serve http` answers `wrk -t1 -c16` for a 1 KiB file (keep-alive); one
 * server runs untraced (`raw`), another, the same, with `SOCKIT_TRACE` pointing at a live
 * `sockit trace-view` (`sockit`), within the exporter's rate budget (`SOCKIT_TRACE_RATE`, by
 * default `TRACE_RATE_DEFAULT` calls that move bytes a second; the rest go as counts), and a third
 * (`every`) with `SOCKIT_TRACE_RATE=all`: every accept, recv, send and close it makes goes to
 * the viewer.
 * All are processes of their own on 127.0.0.1 (the viewer shares the two cores, as it would);
 * rounds interleaved (BENCH_RUNS, default 8; BENCH_TRACING_HTTP_SECS per round, default 2).
 *
 * `ratio` is traced (`sockit`) / untraced requests/s, `extra.ratios` each traced server against
 * untraced; `extra.cpuUsPerRequest` gives the CPU of each server process (all its threads: the
 * exporter's worker too) and of the viewer per request (while either traced server ran), and
 * `extra.viewer` what the viewer counted at its end (`refused` must be 0).
 *
 * Run: `npm run build && node build/bench/run.js tracing-http` (needs `wrk`).
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { emit, HOST, interleave, main, median, ratioToRaw, round, RUNS, tempDir } from "./lib.js";
import { traceRate } from "../src/trace-export.js";
import { accepting, cpuSeconds, freePort, server, stop, wrkRound } from "./procs.js";

const FIGURE = "tracing-http";
const SECS = Math.max(1, Number(process.env.BENCH_TRACING_HTTP_SECS ?? 2) || 2);
const CONNS = 16;
const SOCKIT = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
/** Three servers, a warm-up round and RUNS rounds each, SECS and a pause a round, and start-up. */
const BOUND_MS = Math.max(58_000, 3 * (RUNS + 1) * (SECS + 1) * 1000 + 20_000);

main(
  FIGURE,
  async () => {
    const www = join(tempDir("sockit-bench-tracing-http-"), "www");
    mkdirSync(www);
    writeFileSync(join(www, "1k.bin"), Buffer.alloc(1024, 0x61));
    const ports = {
      viewer: await freePort(),
      raw: await freePort(),
      sockit: await freePort(),
      every: await freePort(),
    };
    const untraced = { ...process.env };
    delete untraced.SOCKIT_TRACE;
    // the viewer: its counters line (-v) at its end says what it took
    const viewer = spawn(process.execPath, [SOCKIT, "-v", "trace-view", "--port", String(ports.viewer)], {
      stdio: ["ignore", "ignore", "pipe"],
      env: untraced,
    });
    let viewerErr = "";
    viewer.stderr.setEncoding("utf8").on("data", (d: string) => (viewerErr += d));
    const procs: ChildProcess[] = [viewer];
    try {
      await accepting(ports.viewer);
      const http = (port: number, env: NodeJS.ProcessEnv) =>
        server(
          process.execPath,
          [SOCKIT, "serve", "http", www, "-q", "--port", String(port), "--max-per-source", "256"],
          port,
          env,
        );
      procs.push(await http(ports.raw, untraced));
      const traced = { ...untraced, SOCKIT_TRACE: `http://${HOST}:${ports.viewer}` };
      procs.push(await http(ports.sockit, traced));
      procs.push(await http(ports.every, { ...traced, SOCKIT_TRACE_RATE: "all" }));
      const pids = {
        raw: procs[1]!.pid!,
        sockit: procs[2]!.pid!,
        every: procs[3]!.pid!,
        viewer: viewer.pid!,
      };
      type Who = "raw" | "sockit" | "every";
      const cpu: Record<Who | "viewer" | "viewerEvery", number[]> = {
        raw: [],
        sockit: [],
        every: [],
        viewer: [],
        viewerEvery: [],
      };
      const round1 = (who: Who) => async (): Promise<number> => {
        const c0 = cpuSeconds(pids[who]);
        const v0 = cpuSeconds(pids.viewer);
        const r = await wrkRound(`http://${HOST}:${ports[who]}/1k.bin`, CONNS, SECS);
        cpu[who].push(((cpuSeconds(pids[who]) - c0) * 1e6) / r.requests);
        const v = ((cpuSeconds(pids.viewer) - v0) * 1e6) / r.requests;
        if (who === "sockit") cpu.viewer.push(v);
        if (who === "every") cpu.viewerEvery.push(v);
        // the viewer's backlog is not the next round's load
        await new Promise((r) => setTimeout(r, 300));
        return r.rps;
      };
      const samples = await interleave(
        { sockit: round1("sockit"), raw: round1("raw"), every: round1("every") },
        RUNS,
      );
      for (const p of procs.slice(1).reverse()) await stop(p);
      viewer.kill("SIGTERM");
      await once(viewer, "exit");
      const m = /counters: batches=(\d+) events=(\d+) refused=(\d+)/.exec(viewerErr);
      emit({
        figure: FIGURE,
        unit: "requests/s",
        higherIsBetter: true,
        target: 0.95,
        samples,
        extra: {
          mode: `sockit serve http, 1 KiB file, wrk -t1 -c${CONNS} ${SECS} s a round; sockit = traced to a live trace-view within the rate budget, every = every call traced, raw = untraced`,
          rateBudget: traceRate(),
          ratios: {
            budget: ratioToRaw(samples, "sockit"),
            everyCall: ratioToRaw(samples, "every"),
          },
          cpuUsPerRequest: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(median(v), 3)])),
          viewer: m
            ? { batches: Number(m[1]), events: Number(m[2]), refused: Number(m[3]) }
            : { error: `no counters line: ${viewerErr.slice(-300)}` },
        },
      });
    } finally {
      for (const p of procs) await stop(p);
    }
  },
  BOUND_MS,
);
