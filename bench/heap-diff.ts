/**
 * Profiling aid for figure `idle-memory` (not a figure): where the bytes of an idle connection
 * go. Starts two idle servers (bench/idle-server.ts modes), opens `N` idle connections to each,
 * writes a heap snapshot of each server and prints the per-connection difference B − A by V8
 * node type and constructor, largest first.
 *
 * ```sh
 * node build/bench/heap-diff.js raw sockit            # everything sockit adds per connection
 * node build/bench/heap-diff.js sockit-accepted sockit # what a pending recv() costs
 * ```
 *
 * @module
 */
import { readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HOST, Peer } from "./lib.js";

const N = 1000;
const BATCH = 250;

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

async function snapshot(mode: string): Promise<string> {
  const server = Peer.start("idle-server.js", [], ["--expose-gc"]);
  const clients: net.Socket[] = [];
  try {
    const port = Number((await server.request({ cmd: "listen", mode })).port);
    while (clients.length < N) {
      const batch = Array.from({ length: BATCH }, () => net.connect({ host: HOST, port }));
      await Promise.all(batch.map((s) => new Promise((resolve) => s.once("connect", resolve))));
      for (const s of batch) s.on("error", () => {});
      clients.push(...batch);
      await server.request({ cmd: "wait", live: clients.length });
    }
    await server.request({ cmd: "measure", live: N });
    const file = join(tmpdir(), `sockit-idle-${mode}-${process.pid}.heapsnapshot`);
    await server.request({ cmd: "snapshot", file }, 60_000);
    return file;
  } finally {
    for (const c of clients) c.destroy();
    server.stop();
  }
}

function summarize(file: string): Map<string, { count: number; bytes: number }> {
  const s = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  rmSync(file);
  const fields = s.snapshot.meta.node_fields;
  const width = fields.length;
  const ti = fields.indexOf("type");
  const ni = fields.indexOf("name");
  const si = fields.indexOf("self_size");
  const types = s.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + ti]!] ?? "?";
    let name = s.strings[s.nodes[i + ni]!] ?? "?";
    if (type.endsWith("string")) name = "";
    if (type === "code" || type === "hidden" || type === "array") name = "";
    const key = `${type} ${name.slice(0, 60)}`.trim();
    const e = out.get(key) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += s.nodes[i + si]!;
    out.set(key, e);
  }
  return out;
}

const [a = "raw", b = "sockit"] = process.argv.slice(2);
const sa = summarize(await snapshot(a));
const sb = summarize(await snapshot(b));
const rows = [...new Set([...sa.keys(), ...sb.keys()])].map((k) => {
  const x = sa.get(k) ?? { count: 0, bytes: 0 };
  const y = sb.get(k) ?? { count: 0, bytes: 0 };
  return { k, count: (y.count - x.count) / N, bytes: (y.bytes - x.bytes) / N };
});
rows.sort((p, q) => q.bytes - p.bytes);
const total = rows.reduce((t, r) => t + r.bytes, 0);
process.stdout.write(`${b} − ${a}: ${total.toFixed(0)} bytes of V8 heap per idle connection\n`);
for (const r of rows.filter((x) => Math.abs(x.bytes) >= 8)) {
  process.stdout.write(
    `${r.bytes.toFixed(0).padStart(6)} B  ${r.count.toFixed(2).padStart(6)} objects  ${r.k}\n`,
  );
}
process.exit(0);
