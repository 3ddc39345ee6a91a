/**
 * Figure `smtp`: messages per second accepted by `sockit serve smtp --maildir` against Debian's
 * aiosmtpd with its Maildir handler (`python3 -m aiosmtpd -n -c aiosmtpd.handlers.Mailbox DIR`),
 * from 16 parallel Python `smtplib` senders, in the same run (interleaved rounds).
 *
 * Both servers run as their own processes on 127.0.0.1 and store every message in a Maildir of
 * their own (sockit also flushes each one to disk before it answers 250; aiosmtpd's Maildir does
 * not). The senders are one Python process with 16 threads, each with one connection that
 * sends BENCH_SMTP_N messages of about 2 KB (sendmail: MAIL, RCPT, DATA) and then QUITs; the
 * figure is messages / wall time of that process. `raw` = aiosmtpd.
 *
 * Run: `npm run build && node build/bench/smtp.js` (BENCH_RUNS, BENCH_SMTP_N override).
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { emit, HOST, interleave, main, tempDir, withTimeout } from "./lib.js";
import { accepting, freePort } from "./procs.js";

const FIGURE = "smtp";
const SENDERS = 16;
const N = Math.max(1, Number(process.env.BENCH_SMTP_N ?? 40) || 40);
const SOCKIT = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const DEBIAN_PYTHON = "/usr/bin/python3";

const SENDER = `
import smtplib, sys, threading, time
host, port, senders, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
body = "Subject: bench\\r\\nFrom: a@example.org\\r\\nTo: b@example.org\\r\\n\\r\\n" + ("x" * 70 + "\\r\\n") * 28
errors = []
def send():
    try:
        with smtplib.SMTP(host, port) as s:
            for _ in range(n):
                s.sendmail("a@example.org", ["b@example.org"], body)
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=send) for _ in range(senders)]
t0 = time.perf_counter()
for t in threads: t.start()
for t in threads: t.join()
dt = time.perf_counter() - t0
if errors: sys.exit("errors: " + "; ".join(errors[:3]))
print(senders * n / dt)
`;

function server(cmd: string, args: string[]): ChildProcess {
  const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  p.stdout!.resume(); // sockit's summary lines: read and dropped
  p.stderr!.resume();
  return p;
}

function senders(port: number): Promise<number> {
  return withTimeout(
    new Promise<number>((resolve, reject) => {
      const p = spawn("python3", ["-c", SENDER, HOST, String(port), String(SENDERS), String(N)]);
      let out = "";
      let err = "";
      p.stdout.on("data", (d: Buffer) => (out += d.toString()));
      p.stderr.on("data", (d: Buffer) => (err += d.toString()));
      p.on("close", (code) =>
        code === 0 ? resolve(Number(out.trim())) : reject(new Error(`senders: ${err}`)),
      );
    }),
    50_000,
    "the smtplib senders",
  );
}

main(FIGURE, async () => {
  const dir = tempDir("sockit-bench-smtp-");
  const [sp, ap] = [await freePort(), await freePort()];
  const sk = server(process.execPath, [
    SOCKIT,
    "serve",
    "smtp",
    `${HOST}:${sp}`,
    "--maildir",
    join(dir, "sockit"),
  ]);
  const aio = server(DEBIAN_PYTHON, [
    "-m",
    "aiosmtpd",
    "-n",
    "-l",
    `${HOST}:${ap}`,
    "-c",
    "aiosmtpd.handlers.Mailbox",
    join(dir, "aiosmtpd"),
  ]);
  try {
    await accepting(sp);
    await accepting(ap);
    const s = await interleave({ sockit: () => senders(sp), raw: () => senders(ap) });
    emit({
      figure: FIGURE,
      unit: "messages/s",
      higherIsBetter: true,
      target: 1,
      samples: s,
      extra: {
        mode: "sockit serve smtp --maildir vs aiosmtpd Mailbox handler (Debian), 16 smtplib senders (threads of one process); raw = aiosmtpd",
        senders: SENDERS,
        messagesPerSender: N,
      },
    });
  } finally {
    sk.kill("SIGTERM");
    aio.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
});
