/**
 * A scripted Python TCP peer for tests that need exact control of a connection's end: data,
 * then a clean close, a half-close or a reset (SO_LINGER 0) at the chosen moment.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

/**
 * A Python server on 127.0.0.1 that, for each accepted connection, follows the next line of
 * its stdin: `send N` sends N bytes of the pattern, `sleep S`, `reset` (SO_LINGER 0 + close),
 * `close`, `shutwr`, `recv N` (reads and discards N bytes), `next` (accept the next client).
 */
export class PyPeer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly port: Promise<number>;
  constructor() {
    this.child = spawn("python3", [
      "-u",
      "-c",
      `
import socket, struct, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
pattern = bytes(range(256)) * 4096
c = None
for line in sys.stdin:
    w = line.split()
    if not w: continue
    if w[0] == "next": c, _ = s.accept()
    elif w[0] == "send":
        n = int(w[1])
        while n > 0:
            k = min(n, len(pattern)); c.sendall(pattern[:k]); n -= k
    elif w[0] == "recv":
        n = int(w[1])
        while n > 0:
            b = c.recv(min(n, 65536))
            if not b: break
            n -= len(b)
    elif w[0] == "sleep": time.sleep(float(w[1]))
    elif w[0] == "reset":
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()
    elif w[0] == "close": c.close()
    elif w[0] == "shutwr": c.shutdown(socket.SHUT_WR)
    print("ok", flush=True)
`,
    ]);
    this.child.stderr.on("data", (d: Buffer) => process.stderr.write(d));
    this.port = new Promise((resolve, reject) => {
      this.child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().split("\n")[0])));
      this.child.once("error", reject);
    });
  }

  /** Sends commands; resolves when Python has carried them all out. */
  do(...cmds: string[]): Promise<void> {
    let pending = cmds.length;
    return new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        pending -= d.toString().split("ok").length - 1;
        if (pending <= 0) {
          this.child.stdout.off("data", onData);
          resolve();
        }
      };
      this.child.stdout.on("data", onData);
      this.child.stdin.write(cmds.join("\n") + "\n");
    });
  }

  /** Ends the peer (closing its stdin) and waits for it to exit. */
  async stop(): Promise<void> {
    this.child.stdin.end();
    if (this.child.exitCode === null) await new Promise((r) => this.child.once("close", r));
  }
}
