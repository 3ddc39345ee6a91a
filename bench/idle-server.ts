/**
 * The server half of figure `idle-memory`, forked with `--expose-gc` so its heap holds nothing
 * but the server. Requests (see `Peer` in lib.ts):
 *
 * - `listen {mode}`: starts the server on 127.0.0.1:0; replies `{port}`.
 *   - `raw`: net.Server; each connection kept in a Set with a 'data' listener (the idle state
 *     of an event-style server).
 *   - `sockit`: Berkeley accept loop spawning one task per connection that waits in
 *     `await conn.recv(65536)` (the idle state of a pull-style server).
 *   - `sockit-accepted`: accept loop keeping each accepted Socket, no recv pending.
 *   - `raw-task`: net.Server plus one task per connection awaiting its next chunk (the floor for
 *     any pull-style server).
 * - `wait {live}`: waits until exactly `live` connections are open.
 * - `measure {live}`: waits until exactly `live` connections are open, collects garbage and
 *   replies `process.memoryUsage()`.
 * - `snapshot {file}`: writes a V8 heap snapshot (for finding what an idle connection holds).
 *
 * @module
 */
import net from "node:net";
import { writeHeapSnapshot } from "node:v8";
import { AF_INET, SOCK_STREAM, type Socket, socket } from "../src/bsd/index.js";
import { HOST, type Msg, serve } from "./lib.js";

// the kernel accept queue is Node's default (511) on both sides: sockit's listener fixes it there
let live = 0;
const keep = new Set<unknown>();

async function listen(mode: string): Promise<number> {
  if (mode === "raw") {
    const srv = net.createServer((c) => {
      live++;
      keep.add(c);
      c.on("data", () => {});
      c.on("error", () => {});
      c.on("close", () => {
        live--;
        keep.delete(c);
      });
    });
    await new Promise<void>((resolve) => srv.listen({ port: 0, host: HOST }, resolve));
    keep.add(srv);
    return (srv.address() as net.AddressInfo).port;
  }
  if (mode === "raw-task") {
    // the floor for any pull-style server: raw Node plus one task per connection waiting for
    // its next chunk (a hand-made promise around 'data'/'close')
    const srv = net.createServer((c) => {
      live++;
      keep.add(c);
      c.on("error", () => {});
      void (async () => {
        for (;;) {
          const more = await new Promise<boolean>((resolve) => {
            const done = (v: boolean) => {
              c.off("data", onData);
              c.off("close", onClose);
              resolve(v);
            };
            const onData = () => done(true);
            const onClose = () => done(false);
            c.on("data", onData);
            c.on("close", onClose);
          });
          if (!more) break;
        }
        live--;
        keep.delete(c);
      })();
    });
    await new Promise<void>((resolve) => srv.listen({ port: 0, host: HOST }, resolve));
    keep.add(srv);
    return (srv.address() as net.AddressInfo).port;
  }
  const srv = socket(AF_INET, SOCK_STREAM);
  await srv.bind([HOST, 0]);
  await srv.listen(4096); // userland queue; the kernel's stays 511
  keep.add(srv);
  const withRecv = mode === "sockit";
  void (async () => {
    for (;;) {
      let conn: Socket;
      try {
        [conn] = await srv.accept();
      } catch {
        return;
      }
      live++;
      if (!withRecv) {
        keep.add(conn); // held, never read: closed by the parent's exit
        continue;
      }
      void (async () => {
        try {
          while ((await conn.recv(65536)).length > 0) {
            // idle connections send nothing; anything that comes is discarded
          }
        } catch {
          // reset by the client
        } finally {
          await conn.close();
          live--;
        }
      })();
    }
  })();
  return (srv.getsockname() as [string, number])[1];
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function waitLive(want: number): Promise<void> {
  for (let i = 0; live !== want; i++) {
    if (i > 10_000) throw new Error(`${live} connections open, expected ${want}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

async function measure(want: number): Promise<NodeJS.MemoryUsage> {
  await waitLive(want);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc");
  for (let i = 0; i < 4; i++) {
    gc();
    await tick();
  }
  return process.memoryUsage();
}

serve(async (m: Msg) => {
  switch (m.cmd) {
    case "listen":
      return { port: await listen(String(m.mode)) };
    case "wait":
      await waitLive(Number(m.live));
      return {};
    case "measure":
      return { ...(await measure(Number(m.live))) };
    case "snapshot":
      return { file: writeHeapSnapshot(String(m.file)) };
    default:
      throw new Error(`unknown command ${String(m.cmd)}`);
  }
});
