/**
 * The library example in docs/services.md runs as written (transpiled, with the package import
 * pointed at the build) and prints what its comments say.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { start } from "./support/spawn.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

test(
  "the library example in docs/services.md runs and prints what it promises",
  { timeout: 30_000 },
  async () => {
    const doc = readFileSync(join(root, "docs/services.md"), "utf8");
    const section = doc.slice(doc.indexOf("## The library"));
    const code = /```ts(?: run)?\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(code, "docs/services.md has a ts example under 'The library'");
    const rfc = pathToFileURL(join(root, "dist/services/rfc/index.js")).href;
    const js = ts.transpileModule(code.replace('"sockit/services/rfc"', JSON.stringify(rfc)), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const dir = mkdtempSync(join(tmpdir(), "sockit-docs-"));
    try {
      const file = join(dir, "example.mjs");
      writeFileSync(file, js);
      const c = start(process.execPath, [file]);
      const closed = once(c.proc, "close"); // stdout and stderr read to their end
      assert.equal(await c.exit(20_000), 0, c.stderr());
      await closed;
      const lines = c.stdout().trim().split("\n");
      assert.deepEqual(lines.slice(0, 2), ["true", "true"]);
      assert.match(lines[2]!, /^tcp accepted 1, bytes in 3, bytes out 3, udp received 1, replied 1$/);
      assert.match(c.stderr(), /accepted echo\/tcp 127\.0\.0\.1:\d+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
