/**
 * Debian's xinetd as an independent server of the RFC services (its INTERNAL echo, discard,
 * daytime, chargen and time), on free loopback ports below 32768, for interop tests and the
 * echo benchmark. xinetd needs fixed ports in its config, so they are probed first.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import dgram from "node:dgram";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor } from "./kit.js";
import { peerPath } from "./peers.js";

/** The internal services xinetd has. */
export type XinetdService = "echo" | "discard" | "daytime" | "chargen" | "time";

function tryBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      const u = dgram.createSocket("udp4");
      u.once("error", () => {
        u.close();
        srv.close(() => resolve(false));
      });
      u.bind(port, "127.0.0.1", () => {
        u.close();
        srv.close(() => resolve(true));
      });
    });
  });
}

/**
 * A port free for both TCP and UDP on 127.0.0.1, probed at random in 20000–32000 (outside the
 * ephemeral range, so no outgoing connection takes it meanwhile). Bounded: 500 tries.
 */
export async function freeFixedPort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (!taken.has(port) && (await tryBind(port))) return port;
  }
  throw new Error("no free port in 20000–32000 after 500 tries");
}

/** A running xinetd. */
export interface Xinetd {
  readonly proc: ChildProcess;
  /** The port of each service (TCP and UDP share it). */
  readonly ports: Readonly<Record<XinetdService, number>>;
  /** Kills xinetd (by pid) and removes its config; waits for it to exit (bounded). */
  stop(): Promise<void>;
}

function block(name: XinetdService, proto: "tcp" | "udp", port: number): string {
  return [
    `service ${name}`,
    "{",
    "type = INTERNAL UNLISTED",
    `id = ${name}-${proto === "tcp" ? "stream" : "dgram"}`,
    `socket_type = ${proto === "tcp" ? "stream" : "dgram"}`,
    `protocol = ${proto}`,
    `wait = ${proto === "tcp" ? "no" : "yes"}`,
    "user = root",
    "bind = 127.0.0.1",
    `port = ${port}`,
    "}",
    "",
  ].join("\n");
}

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/**
 * Starts `xinetd -dontfork -f CONF` serving `services` over TCP and UDP on free ports; resolves
 * once every TCP port answers (at most 10 s). Throws a clear error when xinetd is not installed
 * (guard the tests with `needs(["xinetd"])` from ./peers.js).
 */
export async function startXinetd(
  services: readonly XinetdService[] = ["echo", "discard", "daytime", "chargen", "time"],
): Promise<Xinetd> {
  const xinetd = peerPath("xinetd");
  const dir = mkdtempSync(join(tmpdir(), "sockit-xinetd-"));
  const ports = {} as Record<XinetdService, number>;
  const taken = new Set<number>();
  for (const s of services) {
    ports[s] = await freeFixedPort(taken);
    taken.add(ports[s]);
  }
  const conf = [
    "defaults",
    "{",
    "instances = UNLIMITED",
    "cps = 100000 1",
    `log_type = FILE ${join(dir, "log")}`,
    "}",
    "",
    ...services.flatMap((s) => [block(s, "tcp", ports[s]), block(s, "udp", ports[s])]),
  ].join("\n");
  const file = join(dir, "xinetd.conf");
  writeFileSync(file, conf);
  const proc = spawn(xinetd, ["-dontfork", "-f", file], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
      process.kill(proc.pid, "SIGTERM");
      await Promise.race([exited, sleep(3000)]);
      if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, "SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`xinetd exited ${proc.exitCode}`);
        return (await Promise.all(services.map((s) => answers(ports[s])))).every(Boolean);
      },
      10_000,
      "xinetd to serve every service",
      50,
    );
  } catch (err) {
    await stop();
    throw new Error(`xinetd did not start serving (${String(err)}); stderr: ${stderr}`);
  }
  return { proc, ports, stop };
}
