/**
 * The other end of the benchmark figures, run as a forked child (see `Peer` in lib.ts) so the
 * measured process has a core to itself. Requests:
 *
 * - `bulk-send {port, mode, bytes, chunk}`: connects and sends `bytes` in `chunk`-sized writes,
 *   then closes. `raw`: `write()` until it returns false, then wait for 'drain'. `sockit`:
 *   `await s.sendall(chunk)` in a loop.
 * - `echo-server {mode}`: starts an echo server with TCP_NODELAY; replies `{port}`.
 * - `connect-storm {port, count, concurrency}`: raw Node client opening `count` connections,
 *   `concurrency` at a time, each waiting until the server closes it; replies `{ms, errors}`.
 *
 * Every socket is on 127.0.0.1.
 *
 * @module
 */
import net from "node:net";
import { AF_INET, IPPROTO_TCP, SOCK_STREAM, type Socket, socket, TCP_NODELAY } from "../src/bsd/index.js";
import { HOST, type Msg, nowMs, serve } from "./lib.js";

type Mode = "raw" | "sockit";

function rawSend(port: number, bytes: number, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: HOST, port });
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!s.write(chunk)) {
          s.once("drain", pump);
          return;
        }
      }
      s.end();
    };
    s.once("connect", pump);
    s.once("error", reject);
    s.once("close", () => resolve());
    s.resume(); // nothing comes back; let 'end' arrive
  });
}

async function sockitSend(port: number, bytes: number, chunk: Buffer): Promise<void> {
  const s = socket(AF_INET, SOCK_STREAM);
  try {
    await s.connect([HOST, port]);
    for (let sent = 0; sent < bytes; sent += chunk.length) await s.sendall(chunk);
  } finally {
    await s.close();
  }
}

const servers: (net.Server | Socket)[] = [];

async function echoServer(mode: Mode): Promise<number> {
  if (mode === "raw") {
    const srv = net.createServer((c) => {
      c.setNoDelay(true);
      c.on("data", (d: Buffer) => c.write(d));
      c.on("error", () => {});
    });
    await new Promise<void>((resolve) => srv.listen(0, HOST, resolve));
    servers.push(srv);
    return (srv.address() as net.AddressInfo).port;
  }
  const srv = socket(AF_INET, SOCK_STREAM);
  await srv.bind([HOST, 0]);
  await srv.listen(128);
  servers.push(srv);
  void (async () => {
    for (;;) {
      let conn: Socket;
      try {
        [conn] = await srv.accept();
      } catch {
        return; // listener closed
      }
      void (async () => {
        conn.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
        try {
          for (;;) {
            const d = await conn.recv(65536);
            if (d.length === 0) break;
            await conn.sendall(d);
          }
        } catch {
          // peer reset: the handler ends
        } finally {
          await conn.close();
        }
      })();
    }
  })();
  return (srv.getsockname() as [string, number])[1];
}

function connectStorm(
  port: number,
  count: number,
  concurrency: number,
): Promise<{ ms: number; errors: number }> {
  return new Promise((resolve) => {
    const t0 = nowMs();
    let started = 0;
    let done = 0;
    let errors = 0;
    const one = (): void => {
      if (started >= count) return;
      started++;
      const s = net.connect({ host: HOST, port });
      s.on("error", () => {
        errors++;
      });
      s.resume();
      s.once("close", () => {
        done++;
        if (done === count) resolve({ ms: nowMs() - t0, errors });
        else one();
      });
    };
    for (let i = 0; i < concurrency; i++) one();
  });
}

serve(async (m: Msg) => {
  switch (m.cmd) {
    case "bulk-send": {
      const chunk = Buffer.alloc(Number(m.chunk), 0x61);
      const t0 = nowMs();
      if (m.mode === "raw") await rawSend(Number(m.port), Number(m.bytes), chunk);
      else await sockitSend(Number(m.port), Number(m.bytes), chunk);
      return { ms: nowMs() - t0 };
    }
    case "echo-server":
      return { port: await echoServer(m.mode as Mode) };
    case "connect-storm":
      return connectStorm(Number(m.port), Number(m.count), Number(m.concurrency));
    default:
      throw new Error(`unknown command ${String(m.cmd)}`);
  }
});
