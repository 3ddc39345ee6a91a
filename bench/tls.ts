/**
 * Figure `tls`: TLS on loopback, sockit against raw `node:tls` (and socat's OPENSSL).
 *
 * - Bulk: one TLS transfer of BENCH_TLS_MIB (default 128) MiB from a sender in a child process
 *   (raw `node:tls`, the same for every variant, on the other core) to a receiver: `raw` (a
 *   `tls.Server` counting 'data' bytes), `sockit` (`listen("tcp", …, { tls })` and a
 *   `conn.read()` loop), `socat` (`socat -u OPENSSL-LISTEN:… /dev/null`, a separate process).
 *   The sender times from connect to the receiver's close after EOF: MiB/s. The headline ratio is
 *   sockit/raw (goal ≥ 0.9); `socatRatio` is sockit/socat.
 * - Handshakes: BENCH_TLS_HANDSHAKES (default 200) sequential connect + handshake + close to a
 *   raw `tls.Server`: `tls.connect` vs sockit's `dial("tcp", …, { tls })`, handshakes/s
 *   (`handshakeRatio`).
 *
 * Run: `npm run build && node build/bench/tls.js` (BENCH_RUNS overrides the 5 runs).
 *
 * @module
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import tls from "node:tls";
import { createCertificate } from "../src/core/cert.js";
import { dial, listen } from "../src/net/index.js";
import { emit, HOST, interleave, main, median, nowMs, round, tempDir, withTimeout } from "./lib.js";

const FIGURE = "tls";
const MIB = 1024 * 1024;
const BYTES = Math.max(1, Number(process.env.BENCH_TLS_MIB ?? 128) || 128) * MIB;
const HANDSHAKES = Math.max(1, Number(process.env.BENCH_TLS_HANDSHAKES ?? 200) || 200);
const RUNS_HERE = Math.max(1, Number(process.env.BENCH_RUNS ?? 5) || 5);

// the sender: raw node:tls, verifying with the CA given; prints MiB/s once the receiver closed
const SENDER = `
const tls = require("node:tls");
const [port, bytes, ca] = [Number(process.argv[1]), Number(process.argv[2]), process.env.CA];
const chunk = Buffer.alloc(64 * 1024, 7);
const t0 = performance.now();
const s = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ca }, () => {
  let left = bytes;
  const pump = () => {
    while (left > 0) {
      left -= chunk.length;
      if (!s.write(chunk)) return void s.once("drain", pump);
    }
    s.end();
  };
  pump();
});
s.resume();
s.on("close", () => { process.stdout.write(String(bytes / 1048576 / ((performance.now() - t0) / 1000))); });
s.on("error", (e) => { console.error(e); process.exit(1); });
`;

function send(port: number, ca: string): Promise<number> {
  return withTimeout(
    new Promise<number>((resolve, reject) => {
      const p = spawn(process.execPath, ["-e", SENDER, String(port), String(BYTES)], {
        env: { ...process.env, CA: ca },
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      p.stdout.on("data", (d: Buffer) => (out += d.toString()));
      p.on("close", (code) =>
        code === 0 ? resolve(Number(out)) : reject(new Error(`sender exited ${code}`)),
      );
    }),
    20_000,
    "the TLS sender",
  );
}

main(FIGURE, async () => {
  const { cert, key } = createCertificate({ hosts: ["localhost", "127.0.0.1"] });
  const dir = tempDir("sockit-bench-tls-");
  const certFile = path.join(dir, "cert.pem");
  const keyFile = path.join(dir, "key.pem");
  fs.writeFileSync(certFile, cert);
  fs.writeFileSync(keyFile, key, { mode: 0o600 });

  const raw = tls.createServer({ cert, key }, (c) => {
    c.on("data", () => {});
    c.on("end", () => c.end());
    c.on("error", () => {});
  });
  await new Promise<void>((r) => raw.listen(0, HOST, r));
  const rawPort = (raw.address() as { port: number }).port;

  const ln = await listen("tcp", `${HOST}:0`, { tls: { cert, key } });
  void (async () => {
    for await (const conn of ln) {
      void (async () => {
        try {
          while ((await conn.read()) !== null);
        } finally {
          await conn.close();
        }
      })().catch(() => {});
    }
  })();

  const socat = async (): Promise<number> => {
    const p = spawn(
      "socat",
      [
        "-d",
        "-d",
        "-u",
        `OPENSSL-LISTEN:0,bind=${HOST},cert=${certFile},key=${keyFile},verify=0`,
        "OPEN:/dev/null",
      ],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let err = "";
    const port = await withTimeout(
      new Promise<number>((resolve) => {
        p.stderr.on("data", (d: Buffer) => {
          err += d.toString();
          const m = /listening on [^\n]*:(\d+)/.exec(err);
          if (m) resolve(Number(m[1]));
        });
      }),
      5000,
      "socat to listen",
    );
    try {
      return await send(port, cert);
    } finally {
      p.kill();
    }
  };

  const bulk = await interleave(
    {
      raw: () => send(rawPort, cert),
      sockit: () => send(ln.port, cert),
      socat,
    },
    RUNS_HERE,
  );

  const handshakes = async (which: "raw" | "sockit"): Promise<number> => {
    const t0 = nowMs();
    for (let i = 0; i < HANDSHAKES; i++) {
      if (which === "raw") {
        await new Promise<void>((resolve, reject) => {
          const s = tls.connect({ host: HOST, port: rawPort, servername: "localhost", ca: cert }, () => {
            s.end();
            s.destroy();
            resolve();
          });
          s.on("error", reject);
        });
      } else {
        const c = await dial("tcp", `${HOST}:${rawPort}`, { tls: { ca: cert, serverName: "localhost" } });
        await c.close();
      }
    }
    return HANDSHAKES / ((nowMs() - t0) / 1000);
  };
  const hs = await interleave(
    { raw: () => handshakes("raw"), sockit: () => handshakes("sockit") },
    RUNS_HERE,
  );

  await ln.close();
  raw.close();
  fs.rmSync(dir, { recursive: true, force: true });

  emit({
    figure: FIGURE,
    unit: "MiB/s",
    higherIsBetter: true,
    target: 0.9,
    samples: bulk,
    extra: {
      mode: "bulk TLS 1.3 receive: sockit listen({ tls }) vs raw tls.Server vs socat OPENSSL-LISTEN (same raw sender in a child)",
      bytesPerRun: BYTES,
      socatRatio: round(median(bulk.sockit) / median(bulk.socat), 3),
      handshakesPerSecond: { sockit: round(median(hs.sockit)), raw: round(median(hs.raw)) },
      handshakeRatio: round(median(hs.sockit) / median(hs.raw), 3),
      handshakeSamples: { sockit: hs.sockit.map((x) => round(x)), raw: hs.raw.map((x) => round(x)) },
    },
  });
});
