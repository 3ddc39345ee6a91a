/**
 * Figure `idle-memory`: server-side memory per idle TCP connection, bytes (lower is better).
 *
 * Each run forks a fresh server process (bench/idle-server.ts, `node --expose-gc`) holding only
 * the server; the clients (raw Node sockets) live in this process. Per run: warm the server up
 * with a few connections and close them, collect garbage, take the baseline; open `COUNT` idle
 * connections, collect garbage, measure again. The figure is (heapUsed + external) delta divided
 * by `COUNT`; the RSS delta per connection is recorded beside it (it also counts libuv handles and
 * kernel-side buffers, and is noisier).
 *
 * Variants: `raw` (net.Server, 'data' listener per connection), `sockit` (accept loop, one task
 * per connection waiting in `recv(65536)`), and `sockitAccepted` (accepted, no recv pending).
 *
 * Run: `npm run build && node build/bench/idle-memory.js` (BENCH_RUNS, BENCH_IDLE_N override).
 *
 * @module
 */
import net from "node:net";
import { emit, HOST, interleave, main, median, type Msg, Peer, ratioToRaw, round } from "./lib.js";

const FIGURE = "idle-memory";
const COUNT = Math.max(1, Number(process.env.BENCH_IDLE_N ?? 2000) || 2000);
const WARM = 50;
const CONCURRENCY = 100;
const BATCH = 250;

async function openClients(port: number, n: number): Promise<net.Socket[]> {
  const out: net.Socket[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      const s = net.connect({ host: HOST, port });
      await new Promise<void>((resolve, reject) => {
        s.once("connect", resolve);
        s.once("error", reject);
      });
      s.on("error", () => {});
      out.push(s);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n) }, worker));
  return out;
}

const mem = (m: Msg): number => Number(m.heapUsed) + Number(m.external);

const rss: Record<string, number[]> = { raw: [], sockit: [], sockitAccepted: [] };

async function run(mode: "raw" | "raw-task" | "sockit" | "sockit-accepted", key: string): Promise<number> {
  const server = Peer.start("idle-server.js", [], ["--expose-gc"]);
  const clients: net.Socket[] = [];
  try {
    const port = Number((await server.request({ cmd: "listen", mode })).port);
    const warm = await openClients(port, WARM);
    await server.request({ cmd: "measure", live: WARM });
    for (const c of warm) c.destroy();
    // sockit-accepted never notices a close (nothing reads), so its warm-up connections stay
    const base = await server.request({ cmd: "measure", live: mode === "sockit-accepted" ? WARM : 0 });
    // in batches the server has accepted before the next: a burst beyond the kernel's accept
    // queue (511 on both sides) would drop SYNs and cost 1 s retransmits, not memory
    for (let n = 0; n < COUNT; n += BATCH) {
      clients.push(...(await openClients(port, Math.min(BATCH, COUNT - n))));
      await server.request({ cmd: "wait", live: (mode === "sockit-accepted" ? WARM : 0) + clients.length });
    }
    const after = await server.request({
      cmd: "measure",
      live: (mode === "sockit-accepted" ? WARM : 0) + COUNT,
    });
    rss[key]?.push((Number(after.rss) - Number(base.rss)) / COUNT);
    return (mem(after) - mem(base)) / COUNT;
  } finally {
    for (const c of clients) c.destroy();
    server.stop();
  }
}

main(FIGURE, async () => {
  const samples = await interleave({
    raw: () => run("raw", "raw"),
    sockit: () => run("sockit", "sockit"),
    sockitAccepted: () => run("sockit-accepted", "sockitAccepted"),
    rawTask: () => run("raw-task", "rawTask"),
  });
  // the warm-up round's RSS samples are not recorded either
  for (const k of Object.keys(rss)) rss[k] = rss[k]!.slice(1);
  emit({
    figure: FIGURE,
    unit: "bytes/connection (heapUsed+external)",
    higherIsBetter: false,
    target: 1.25,
    samples,
    extra: {
      mode: "server in a fresh forked process per run (--expose-gc), raw Node clients in the parent",
      connections: COUNT,
      sockitAcceptedRatio: ratioToRaw(samples, "sockitAccepted"),
      // sockit with a pending recv against raw with one waiting task per connection
      ratioVsRawTask: round(median(samples.sockit) / median(samples.rawTask), 3),
      rawTaskRatio: ratioToRaw(samples, "rawTask"),
      rssPerConnection: Object.fromEntries(Object.entries(rss).map(([k, v]) => [k, round(median(v))])),
    },
  });
});
