/**
 * Load: 5 000 concurrent TCP echo clients against `sockit serve echo` for 10 s on loopback; every
 * byte must come back intact, no client may see an error, and the server's RSS is recorded.
 * The server and the clients run in separate processes (each has a 20 000 descriptor limit):
 * this file forks itself as the client process (SOCKIT_LOAD_PORT set), which uses raw Node `net`
 * so the only sockit code under load is the server. Bounded: 10 s of traffic, then close.
 */
import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import net from "node:net";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startServe } from "./support/sockit-serve.js";

const CLIENTS = 5000;
const SECONDS = 10;
const BATCH = 250;

/** What the client process reports. */
interface LoadReport {
  connected: number;
  connectMs: number;
  roundTrips: number;
  bytes: number;
  idle: number;
  errors: number;
  mismatches: number;
  firstError: string | undefined;
}

/** The client process: CLIENTS connections, each echoing distinct messages for SECONDS. */
async function clientMain(port: number): Promise<LoadReport> {
  const r: LoadReport = {
    connected: 0,
    connectMs: 0,
    roundTrips: 0,
    bytes: 0,
    idle: 0,
    errors: 0,
    mismatches: 0,
    firstError: undefined,
  };
  let stop = false;
  const perConn: number[] = [];
  const fail = (what: string) => {
    r.errors++;
    r.firstError ??= what;
  };
  const run = (id: number): Promise<net.Socket> =>
    new Promise((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port });
      s.setNoDelay(true);
      let seq = 0;
      let want = Buffer.alloc(0);
      let got: Buffer[] = [];
      let have = 0;
      perConn[id] = 0;
      const next = () => {
        if (stop) {
          s.end();
          return;
        }
        // distinct bytes each time: id, sequence, and a length that varies from 16 to 1 040
        const len = 16 + ((id * 31 + seq * 17) % 1025);
        want = Buffer.alloc(len, `${id}:${seq};`);
        seq++;
        got = [];
        have = 0;
        s.write(want);
      };
      s.once("connect", () => {
        r.connected++;
        resolve(s);
      });
      s.on("data", (d: Buffer) => {
        got.push(d);
        have += d.length;
        if (have < want.length) return;
        const back = Buffer.concat(got);
        if (!back.equals(want)) {
          r.mismatches++;
          s.destroy();
          return;
        }
        r.roundTrips++;
        r.bytes += want.length;
        perConn[id]!++;
        next();
      });
      s.on("error", (e: NodeJS.ErrnoException) => {
        fail(`client ${id}: ${e.code ?? e.message}`);
        resolve(s);
      });
      s.on("end", () => {
        if (!stop) fail(`client ${id}: the server closed early`);
      });
      (s as net.Socket & { go?: () => void }).go = next;
    });
  const t0 = performance.now();
  const socks: net.Socket[] = [];
  for (let i = 0; i < CLIENTS; i += BATCH) {
    socks.push(
      ...(await Promise.all(Array.from({ length: Math.min(BATCH, CLIENTS - i) }, (_, k) => run(i + k)))),
    );
  }
  r.connectMs = performance.now() - t0;
  for (const s of socks) (s as net.Socket & { go?: () => void }).go?.();
  await new Promise((res) => setTimeout(res, SECONDS * 1000));
  stop = true;
  // clients finish their round trip in flight, then FIN; bounded wait for every close
  await Promise.race([
    Promise.all(socks.map((s) => (s.closed ? undefined : once(s, "close")))),
    new Promise((res) => setTimeout(res, 10_000)),
  ]);
  for (const s of socks) if (!s.closed) s.destroy();
  r.idle = perConn.filter((n) => n === 0).length;
  return r;
}

const self = fileURLToPath(import.meta.url);
const clientPort = process.env.SOCKIT_LOAD_PORT;

if (clientPort !== undefined) {
  const report = await clientMain(Number(clientPort));
  process.send?.(report);
  process.disconnect?.();
} else {
  describe("load", () => {
    test(
      `${CLIENTS} concurrent TCP echo clients for ${SECONDS} s: every byte back intact, no error`,
      { timeout: 90_000 },
      async (t) => {
        const srv = await startServe([
          "echo",
          "--max-conns",
          String(CLIENTS + 100),
          "--max-per-source",
          String(CLIENTS + 100),
          "--backlog",
          "1024",
        ]);
        const pid = srv.child.proc.pid!;
        const status = () => readFileSync(`/proc/${pid}/status`, "utf8");
        const kb = (field: string) =>
          Number(status().match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"))?.[1] ?? 0);
        const rssBefore = kb("VmRSS");
        let rssDuring = 0;
        const sampler = setInterval(() => {
          try {
            rssDuring = Math.max(rssDuring, kb("VmRSS"));
          } catch {
            // the server exited
          }
        }, 500);
        const client = fork(self, [], {
          env: { ...process.env, SOCKIT_LOAD_PORT: String(srv.port("echo")) },
          stdio: ["ignore", "inherit", "inherit", "ipc"],
        });
        try {
          let timer: NodeJS.Timeout | undefined;
          const [report] = (await Promise.race([
            once(client, "message"),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error("load client gave no report in 60 s")), 60_000);
            }),
          ]).finally(() => clearTimeout(timer))) as [LoadReport];
          const peak = kb("VmHWM");
          clearInterval(sampler);
          t.diagnostic(
            `${report.connected} clients connected in ${(report.connectMs / 1000).toFixed(1)} s; ` +
              `${report.roundTrips} round trips (${Math.round(report.roundTrips / SECONDS)}/s), ` +
              `${(report.bytes / 2 ** 20).toFixed(1)} MiB echoed intact; server RSS ${(rssBefore / 1024).toFixed(0)} MiB idle, ` +
              `${(rssDuring / 1024).toFixed(0)} MiB under load (peak ${(peak / 1024).toFixed(0)} MiB)`,
          );
          assert.equal(report.errors, 0, report.firstError);
          assert.equal(report.mismatches, 0, "every byte echoed back intact");
          assert.equal(report.connected, CLIENTS);
          assert.equal(report.idle, 0, "every client got round trips");
          assert.ok(report.roundTrips > CLIENTS);
        } finally {
          clearInterval(sampler);
          client.kill("SIGKILL");
          assert.equal(await srv.stop(20_000), 0);
        }
        const counters = srv.child.stderr().match(/counters: (.*)/)?.[1] ?? "";
        t.diagnostic(`server counters: ${counters}`);
        assert.match(counters, new RegExp(`tcp accepted ${CLIENTS}\\b`));
        assert.doesNotMatch(counters, /refused|errors|reset/);
      },
    );
  });
}
