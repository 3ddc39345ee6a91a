// Runs the built tests with node --test and ends with one line saying what was skipped and why:
//   skipped 12 tests: socat not installed (apt-get install socat) ×8; nc not installed (…) ×4
// Every file runs with build/test/support/leak-hook.js preloaded: it fails the file when sockets,
// servers, child processes or timers are still open after its tests end.
// Files named *.solo.test.js run afterwards, alone (they measure machine-wide kernel state).
// Usage: node scripts/run-tests.mjs [--node-test-flag=VALUE …] [FILE …]
// With no FILE, every build/**/*.test.js (sorted; `npm run build` puts the tests there). Output is node --test's own (spec on a terminal,
// TAP otherwise), then the summary line; the exit code is node --test's. The skip reasons come from
// test/support/peers.ts (SOCKIT_HIDE_PEERS, SOCKIT_REQUIRE_PEERS are described there).
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** Every *.test.js under the repository's build/ (like `find build -name "*.test.js" | sort`). */
function testFiles() {
  const found = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith(".test.js")) found.push(relative(process.cwd(), path));
    }
  };
  walk(fileURLToPath(new URL("../build", import.meta.url)));
  return found.sort();
}

/** "skipped N tests: reason ×n; …" from the reporter's JSON lines. */
function summary(lines) {
  const byReason = new Map();
  let tests = 0;
  let suites = 0;
  for (const line of lines) {
    const { reason, suite } = JSON.parse(line);
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    if (suite) suites++;
    else tests++;
  }
  if (tests + suites === 0) return "skipped 0 tests";
  const what = [
    tests > 0 ? `${tests} test${tests === 1 ? "" : "s"}` : "",
    suites > 0 ? `${suites} suite${suites === 1 ? "" : "s"}` : "",
  ]
    .filter(Boolean)
    .join(" and ");
  const reasons = [...byReason].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return `skipped ${what}: ${reasons.map(([r, n]) => `${r} ×${n}`).join("; ")}`;
}

const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith("-"));
const files = args.filter((a) => !a.startsWith("-"));
const dir = mkdtempSync(join(tmpdir(), "sockit-test-run-"));
const reporter = process.stdout.isTTY ? "spec" : "tap"; // node --test's own default
const env = { ...process.env };
delete env.NODE_TEST_CONTEXT; // a runner started from inside a test still reports normally

/** Runs node --test over `list` with `concurrency` files at a time; resolves its exit code. */
function run(list, concurrency, skipFile) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        "--test",
        "--test-timeout=180000",
        `--test-concurrency=${concurrency}`,
        `--test-reporter=${reporter}`,
        "--test-reporter-destination=stdout",
        `--test-reporter=${new URL("skip-reporter.mjs", import.meta.url).href}`,
        `--test-reporter-destination=${skipFile}`,
        // every test file fails if it leaves sockets, servers, children or timers open
        `--import=${new URL("../build/test/support/leak-hook.js", import.meta.url).href}`,
        // property tests reach their stated bounds (fast-check's default size stops near ten items)
        `--import=${new URL("../build/test/support/fc-size.js", import.meta.url).href}`,
        ...flags,
        ...list,
      ],
      { stdio: "inherit", env },
    );
    const forward = (sig) => child.kill(sig);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    child.on("error", (err) => {
      console.error(`run-tests: cannot start ${process.execPath} --test: ${err.message}`);
      resolve(1);
    });
    child.on("close", (code, signal) => {
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

// Files named *.solo.test.js measure machine-wide state (/proc/net/sockstat's TCP memory and
// orphans): they run after the others, one at a time, so no other test's sockets count.
const all = files.length > 0 ? files : testFiles();
const shared = all.filter((f) => !f.endsWith(".solo.test.js"));
const solo = all.filter((f) => f.endsWith(".solo.test.js"));
let code = 0;
const skipFiles = [join(dir, "skips-shared.jsonl"), join(dir, "skips-solo.jsonl")];
if (shared.length > 0) code = await run(shared, 2, skipFiles[0]);
if (solo.length > 0) {
  const soloCode = await run(solo, 1, skipFiles[1]);
  if (code === 0) code = soloCode;
}
const lines = [];
for (const f of skipFiles) {
  try {
    lines.push(...readFileSync(f, "utf8").split("\n").filter(Boolean));
  } catch {
    // that run ended before the reporter wrote anything (or did not run): nothing skipped there
  }
}
rmSync(dir, { recursive: true, force: true });
console.log(summary(lines));
process.exitCode = code;
