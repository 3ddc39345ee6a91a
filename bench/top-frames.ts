/**
 * Profiling aid (not a figure): prints the top self-time frames of a V8 `.cpuprofile`, as used
 * for docs/performance.md.
 *
 * ```sh
 * BENCH_VARIANTS=sockit node --cpu-prof --cpu-prof-dir=/tmp/prof build/bench/pingpong.js
 * node build/bench/top-frames.js /tmp/prof/CPU.*.cpuprofile 25
 * ```
 * The forked peers inherit the node flags, so each process writes its own profile.
 *
 * @module
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write("usage: node build/bench/top-frames.js <file.cpuprofile> [count]\n");
  process.exit(2);
}
const prof = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
let total = 0;
prof.samples.forEach((id, i) => {
  const dt = prof.timeDeltas[i] ?? 0;
  const n = byId.get(id);
  if (!n) return;
  const f = n.callFrame;
  const where = f.url === "" ? "" : ` ${f.url.replace(/^.*\/(dist|node:)/, "$1")}:${f.lineNumber + 1}`;
  const key = `${f.functionName || "(anonymous)"}${where}`;
  self.set(key, (self.get(key) ?? 0) + dt);
  total += dt;
});
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 25));
process.stdout.write(`total ${(total / 1000).toFixed(0)} ms sampled\n`);
for (const [k, us] of rows) {
  process.stdout.write(
    `${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}\n`,
  );
}
