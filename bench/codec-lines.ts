/**
 * Figure `codec-lines`: decode throughput of the `lines()` codec in MB/s, over 64 MiB of
 * 80-byte lines (utf8 strings out) fed in 64 KiB chunks, against naive baselines measured in
 * the same run:
 *
 * - `baseline`: Node's `readline` over a Readable of the same chunks (the idiomatic way);
 * - `indexOfLoop` (extra): a hand-written `buffer.indexOf` loop that `Buffer.concat`s the
 *   carried-over partial line with each chunk.
 *
 * Variants run interleaved after one warm-up round; medians of `BENCH_RUNS` (default 5) runs.
 * No sockets: this measures the codec alone. Prints one JSON line.
 *
 * Run: `npm run build && node build/bench/codec-lines.js` (BENCH_RUNS, BENCH_CODEC_MIB override).
 *
 * @module
 */

import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { lines } from "../src/codec/index.js";
import { interleave, main, median, nowMs, round } from "./lib.js";

const FIGURE = "codec-lines";
const MIB = Math.max(1, Number(process.env.BENCH_CODEC_MIB ?? 64) || 64);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5) || 5);
const LINE = 80;
const CHUNK = 64 * 1024;

function makeChunks(): Buffer[] {
  const total = MIB * 1024 * 1024;
  const all = Buffer.allocUnsafe(total);
  const line = Buffer.from(`${"sockit codec benchmark line 0123456789 ".repeat(3).slice(0, LINE - 1)}\n`);
  for (let i = 0; i < total; i += LINE) line.copy(all, i, 0, Math.min(LINE, total - i));
  all[total - 1] = 0x0a; // end on a newline
  const out: Buffer[] = [];
  for (let i = 0; i < total; i += CHUNK) out.push(all.subarray(i, Math.min(total, i + CHUNK)));
  return out;
}

const chunks = makeChunks();
const bytes = chunks.reduce((n, c) => n + c.length, 0);
const expected = Math.ceil(bytes / LINE);
let sink = 0; // keeps the decoded strings observable

function check(count: number, what: string): void {
  if (count !== expected) throw new Error(`${what} decoded ${count} lines, expected ${expected}`);
}

async function sockit(): Promise<number> {
  const t0 = nowMs();
  const d = lines({ maxLine: 8192 }).decoder();
  let count = 0;
  for (const c of chunks) {
    const ls = d.push(c);
    count += ls.length;
    sink += ls[0]?.length ?? 0;
  }
  count += d.end().length;
  const ms = nowMs() - t0;
  check(count, "sockit");
  return bytes / 1e6 / (ms / 1000);
}

async function readline(): Promise<number> {
  const t0 = nowMs();
  const rl = createInterface({
    input: Readable.from(chunks, { objectMode: false }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let count = 0;
  for await (const l of rl) {
    count++;
    sink += l.length & 1;
  }
  const ms = nowMs() - t0;
  check(count, "readline");
  return bytes / 1e6 / (ms / 1000);
}

async function indexOfLoop(): Promise<number> {
  const t0 = nowMs();
  let carry = Buffer.alloc(0);
  let count = 0;
  for (const c of chunks) {
    const buf = carry.length > 0 ? Buffer.concat([carry, c]) : c;
    let pos = 0;
    for (let i = buf.indexOf(10, pos); i !== -1; i = buf.indexOf(10, pos)) {
      sink += buf.toString("utf8", pos, i).length & 1;
      count++;
      pos = i + 1;
    }
    carry = Buffer.from(buf.subarray(pos));
  }
  const ms = nowMs() - t0;
  check(count, "indexOfLoop");
  return bytes / 1e6 / (ms / 1000);
}

main(FIGURE, async () => {
  const s = await interleave({ sockit, baseline: readline, indexOfLoop }, RUNS);
  const m = { sockit: median(s.sockit), baseline: median(s.baseline), indexOfLoop: median(s.indexOfLoop) };
  const line = {
    figure: FIGURE,
    unit: "MB/s",
    sockit: round(m.sockit),
    baseline: round(m.baseline),
    ratio: round(m.sockit / m.baseline, 3),
    runs: RUNS,
    baselineIs: "node:readline over a Readable of the same chunks",
    indexOfLoop: round(m.indexOfLoop),
    ratioIndexOfLoop: round(m.sockit / m.indexOfLoop, 3),
    input: { mib: MIB, lineBytes: LINE, chunkBytes: CHUNK },
    samples: Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.map((x) => round(x))])),
    sink: sink & 1,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
});
