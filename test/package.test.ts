/**
 * The package ships its API and nothing else: the entry points as a user imports them (through
 * package.json's "exports", from the built dist/), what `npm pack` would publish, and the three
 * checks `npm test` runs (scripts/check-*.mjs), each shown to catch what it is for on a small
 * package made for the test.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const script = (name: string) => join(root, "scripts", name);
const ENTRIES = [
  "sockit",
  "sockit/bsd",
  "sockit/net",
  "sockit/codec",
  "sockit/jsonrpc",
  "sockit/services/rfc",
];

/** Runs a check script; resolves its exit code and output (never throws for a failing check). */
async function check(name: string, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script(name), ...args], { timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === "number" ? err.code : -1,
      out: `${err.stdout ?? ""}${err.stderr ?? ""}`,
    };
  }
}

/** A throwaway package under build/ (so typescript and @types/node resolve): files by path. */
function fixture(files: Record<string, string>): string {
  mkdirSync(join(root, "build"), { recursive: true });
  const dir = mkdtempSync(join(root, "build", "fixture-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const PKG = JSON.stringify({
  name: "fx",
  type: "module",
  exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } },
});

test("import * from each entry point exposes no internal helper", async () => {
  const { DENY } = (await import(new URL("scripts/check-exports.mjs", `file://${root}`).href)) as {
    DENY: string[];
  };
  assert.ok(DENY.includes("makeOSError") && DENY.includes("UdpGate"), "the denylist names the internals");
  for (const entry of ENTRIES) {
    const mod = (await import(entry)) as Record<string, unknown>;
    assert.ok(Object.keys(mod).length > 0, `${entry} exports something`);
    const leaked = DENY.filter((name) => name in mod);
    assert.deepEqual(leaked, [], `${entry} exports internals`);
  }
  const root_ = (await import("sockit")) as Record<string, unknown>;
  for (const name of ["socket", "dial", "listen", "OSError", "TRACE_CHANNEL", "renderCall", "errno"]) {
    assert.ok(name in root_, `sockit exports ${name}`);
  }
});

test("npm pack publishes dist/ (no tests, no sources), README and package.json only", async () => {
  const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: root,
    timeout: 60_000,
  });
  const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map(
    (f) => f.path,
  );
  assert.ok(files.includes("dist/index.js") && files.includes("dist/index.d.ts"), "dist/index.js is in");
  assert.ok(files.includes("dist/cli/main.js"), "the bin is in");
  const other = files.filter(
    (f) => !f.startsWith("dist/") && !["README.md", "package.json", "LICENSE"].includes(f),
  );
  assert.deepEqual(other, [], "only dist/, README, LICENSE, package.json");
  assert.deepEqual(
    files.filter((f) => /\.test\.|test-support|^dist\/(src|test|examples|bench)\//.test(f)),
    [],
    "no tests or dev build in the package",
  );
});

test("check-layers passes on sockit and names file:line of every import that breaks the layering", async () => {
  const ok = await check("check-layers.mjs");
  assert.equal(ok.code, 0, ok.out);
  const dir = fixture({
    "src/addr/a.ts": 'import { b } from "../bsd/b.js";\nexport const a = b;\n',
    "src/bsd/b.ts": 'import type { N } from "../net/n.js";\nexport const b: N = 1;\n',
    "src/net/n.ts": "export type N = number;\n",
    "src/codec/c.ts": '\nimport net from "node:net";\nexport const c = net;\n',
    "src/core/ok.ts": 'import dgram from "node:dgram";\nexport const d = dgram;\n',
    "src/core/ok.test.ts": 'import { b } from "../bsd/b.js";\nexport const t = b;\n',
  });
  try {
    const bad = await check("check-layers.mjs", dir);
    assert.equal(bad.code, 1, bad.out);
    assert.match(bad.out, /src\/addr\/a\.ts:1: addr \(L1\) imports \.\.\/bsd\/b\.js, in bsd \(L3\)/);
    assert.match(bad.out, /src\/bsd\/b\.ts:1: bsd imports \.\.\/net\/n\.js, in net: both are L3/);
    assert.match(bad.out, /src\/codec\/c\.ts:2: imports node:net; only src\/core may/);
    assert.doesNotMatch(bad.out, /src\/core\//, "the core may import node:dgram; unit tests are not checked");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("check-exports passes on sockit and fails on an internal export or one without an example (no allowance list)", async () => {
  const ok = await check("check-exports.mjs");
  assert.equal(ok.code, 0, ok.out);
  const dir = fixture({
    "package.json": PKG,
    "dist/index.d.ts": [
      "/**\n * Documented.\n * @example `good()`\n */",
      "export declare function good(): void;",
      "/**\n * Leaked.\n * @example `makeOSError()`\n */",
      "export declare function makeOSError(): void;",
      "/** No example. */",
      "export declare const bare = 1;",
      "export declare function undocumented(): void;",
    ].join("\n"),
    // the old allowance list is gone: listing an export there no longer excuses it
    "scripts/exports-without-example.txt": "fx bare\n",
  });
  try {
    const bad = await check("check-exports.mjs", dir);
    assert.equal(bad.code, 1, bad.out);
    assert.match(bad.out, /fx exports makeOSError .*an internal/);
    assert.match(bad.out, /fx exports bare .*without an @example/);
    assert.match(bad.out, /fx exports undocumented .*without a doc comment/);
    assert.doesNotMatch(bad.out, /exports good/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("check-examples passes on sockit and names the example that does not type-check", async () => {
  const ok = await check("check-examples.mjs");
  assert.equal(ok.code, 0, ok.out);
  const dir = fixture({
    "package.json": PKG,
    "dist/index.d.ts": [
      "/**",
      " * Adds.",
      " * @example",
      " * ```ts",
      ' * import { add } from "fx";',
      " * const n: number = add(1, 2);",
      " * ```",
      " */",
      "export declare function add(a: number, b: number): number;",
      "/**",
      " * Twice.",
      " * @example",
      " * ```ts",
      ' * const s: string = twice("x");',
      " * ```",
      " */",
      "export declare function twice(a: number): number;",
    ].join("\n"),
  });
  try {
    const bad = await check("check-examples.mjs", dir);
    assert.equal(bad.code, 1, bad.out);
    assert.match(bad.out, /dist\/index\.d\.ts:\d+ \(fx twice\), example line 1: .*not assignable/);
    assert.doesNotMatch(bad.out, /fx add/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
