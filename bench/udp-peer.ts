/**
 * The other end of the UDP figures, run as a forked child (see `Peer` in lib.ts) so the measured
 * process has a core to itself. Requests:
 *
 * - `udp-send {port, count, size, pace}`: a raw Node dgram socket connected to 127.0.0.1:`port`
 *   sends `count` datagrams of `size` bytes, paced at `pace` datagrams/s (a 1 ms timer sends the
 *   datagrams due by then, so a burst is about pace/1000 datagrams; after a stall it catches up
 *   by at most two ticks' worth, so it never floods the receiver's buffer); replies
 *   `{ms, sent, errors}` once every send has reached the kernel (its send queue is empty). The same raw sender serves both
 *   receivers, so only the receiver differs.
 * - `udp-echo-server {mode}`: starts a UDP echo server on 127.0.0.1, port 0; replies `{port}`.
 *   `raw`: 'message' → `send()` back to the sender. `sockit`: Berkeley face,
 *   `await s.recvfrom(2048)` → `await s.sendto(data, addr)`. `packetconn`: Go face,
 *   `await pc.readFrom(2048)` → `await pc.writeTo(p.data, p.endpoint)`.
 *
 * Every socket is on 127.0.0.1; every send loop is bounded by its count.
 *
 * @module
 */
import dgram from "node:dgram";
import { AF_INET, SOCK_DGRAM, type Socket, socket } from "../src/bsd/index.js";
import { listenPacket, type PacketConn } from "../src/net/index.js";
import { HOST, type Msg, nowMs, serve } from "./lib.js";

/** Echo-server kinds, one per variant of `udp-pingpong`. */
export type UdpMode = "raw" | "sockit" | "packetconn";

/** The sender's tick, ms: it sends the datagrams due every millisecond (a timer, not a spin). */
const TICK_MS = 1;

function paced(
  port: number,
  count: number,
  size: number,
  pace: number,
): Promise<{ ms: number; sent: number; errors: number }> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket("udp4");
    const buf = Buffer.alloc(size, 0x75);
    let sent = 0;
    let errors = 0;
    let t0 = 0;
    const burst = Math.max(16, Math.ceil((pace * 2 * TICK_MS) / 1000));
    // no callback per send (it would cost the sender a nextTick each): wait for the send queue
    // to empty at the end instead (libuv usually sends at once, so it is already empty)
    const finish = (): void => {
      if (s.getSendQueueCount() > 0 && nowMs() - t0 < (count / pace) * 1000 + 2000) {
        setImmediate(finish);
        return;
      }
      const ms = nowMs() - t0;
      s.close();
      resolve({ ms, sent, errors });
    };
    const tick = (): void => {
      // after a stall, catch up by at most 2 ticks' worth: a stalled sender must not flood the
      // receiver's kernel buffer (256 datagrams of 64 bytes at the default 208 KiB)
      const due = Math.min(count, Math.floor(((nowMs() - t0) * pace) / 1000) + 1, sent + burst);
      while (sent < due) {
        sent++;
        s.send(buf);
      }
      if (sent < count) setTimeout(tick, TICK_MS);
      else finish();
    };
    s.once("error", reject);
    s.connect(port, HOST, () => {
      s.off("error", reject);
      s.on("error", () => {
        errors++;
      });
      t0 = nowMs();
      tick();
    });
  });
}

const servers: (dgram.Socket | Socket | PacketConn)[] = [];

async function echoServer(mode: UdpMode): Promise<number> {
  if (mode === "raw") {
    const s = dgram.createSocket("udp4");
    s.on("message", (d, rinfo) => s.send(d, rinfo.port, rinfo.address));
    s.on("error", () => {});
    await new Promise<void>((resolve) => s.bind(0, HOST, resolve));
    servers.push(s);
    return s.address().port;
  }
  if (mode === "packetconn") {
    const pc = await listenPacket("udp", `${HOST}:0`);
    servers.push(pc);
    void (async () => {
      try {
        for (;;) {
          const p = await pc.readFrom(2048);
          await pc.writeTo(p.data, p.endpoint);
        }
      } catch {
        // closed: the loop ends
      }
    })();
    return pc.port;
  }
  const s = socket(AF_INET, SOCK_DGRAM);
  await s.bind([HOST, 0]);
  servers.push(s);
  void (async () => {
    try {
      for (;;) {
        const [d, addr] = await s.recvfrom(2048);
        if (addr !== null) await s.sendto(d, addr);
      }
    } catch {
      // closed: the loop ends
    }
  })();
  return (s.getsockname() as [string, number])[1];
}

serve(async (m: Msg) => {
  switch (m.cmd) {
    case "udp-send":
      return paced(Number(m.port), Number(m.count), Number(m.size), Number(m.pace));
    case "udp-echo-server":
      return { port: await echoServer(m.mode as UdpMode) };
    default:
      throw new Error(`unknown command ${String(m.cmd)}`);
  }
});
