/**
 * A connect that hangs, on loopback: a Python listener with backlog 0 that never accepts, its
 * accept queue filled by one connection, so further SYNs are dropped (connect timeouts and
 * aborts can be tested without any other host).
 */
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { socketsOn } from "./kernel.js";
import { waitFor } from "./kit.js";
import { within } from "./leaks.js";

/**
 * A Python listener with backlog 0 that never accepts: after one connection fills its accept
 * queue, further SYNs are dropped and a connect hangs (so timeouts and aborts can be tested on
 * loopback).
 */
export async function stalledServer(): Promise<{
  port: number;
  filler: net.Socket;
  stop: () => Promise<void>;
}> {
  const code = [
    "import socket, sys",
    "s = socket.socket()",
    "s.bind(('127.0.0.1', 0))",
    "s.listen(0)",
    "print(s.getsockname()[1], flush=True)",
    "sys.stdin.read()",
  ].join("\n");
  const py: ChildProcess = spawn("python3", ["-c", code], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((r) => py.once("close", () => r()));
  const port = await within(
    new Promise<number>((resolve, reject) => {
      py.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
      py.once("error", reject);
    }),
    10_000,
    "python stalled server",
  );
  const filler = net.connect(port, "127.0.0.1");
  filler.on("error", () => {});
  await within(new Promise((r) => filler.once("connect", r)), 5000, "filler connect");
  // the kernel has the filler in the listener's queue (the server's end is established): from
  // now on SYNs to the port are dropped
  await waitFor(
    () => socketsOn(port).some((s) => s.state === "ESTAB" && s.peer.endsWith(`:${filler.localPort}`)),
    5000,
    "the filler connection to sit in the accept queue",
  );
  return {
    port,
    filler,
    stop: async () => {
      filler.destroy();
      py.stdin!.end();
      await within(exited, 5000, "python exit");
    },
  };
}
