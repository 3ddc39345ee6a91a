/**
 * The TypeScript a user copies from README.md, docs/*.md and examples/ compiles against the built
 * package under strict + module nodenext, without esModuleInterop and with skipLibCheck false
 * (scripts/check-examples.mjs, checkDocs), and every block fenced ```ts run runs to completion
 * on loopback by itself.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { start } from "./support/spawn.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

interface DocCheck {
  problems: string[];
  count: number;
  runnable: Array<{ where: string; code: string }>;
}

const { checkDocs } = (await import(new URL("scripts/check-examples.mjs", `file://${root}`).href)) as {
  checkDocs: (root: string) => DocCheck;
};

const docs = checkDocs(root);

test("every ts block of README.md and docs/*.md, and every example, type-checks against the package", () => {
  assert.ok(docs.count >= 20, `only ${docs.count} blocks found: is the Markdown scan broken?`);
  assert.deepEqual(docs.problems, [], docs.problems.join("\n"));
});

test("the README's Berkeley, Go-style and trace snippets are complete programs (```ts run)", () => {
  const readme = docs.runnable.filter((r) => r.where.startsWith("README.md"));
  assert.ok(
    readme.some((r) => r.code.includes("srv.getsockname()")),
    "the Berkeley server snippet runs",
  );
  assert.ok(
    readme.some((r) => r.code.includes('from "sockit/net"')),
    "the Go-style snippet runs",
  );
  assert.ok(
    readme.some((r) => r.code.includes("subscribeTrace")),
    "the trace snippet runs",
  );
});

for (const block of docs.runnable) {
  test(`${block.where} runs against the built package and exits by itself`, async () => {
    const js = ts.transpileModule(block.code, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    // inside the package, so "sockit" resolves to it by its own name, as in a user's project
    const dir = mkdtempSync(join(root, "build", "snippet-"));
    try {
      const file = join(dir, "snippet.mjs");
      writeFileSync(file, js);
      const run = start(process.execPath, [file]);
      const code = await run.exit(20_000);
      assert.equal(code, 0, `exit ${code}\nstdout: ${run.stdout()}\nstderr: ${run.stderr()}`);
      if (block.code.includes("subscribeTrace"))
        assert.match(run.stderr(), /^socket\(AF_INET, SOCK_STREAM\) = \d+$/m, "the trace was printed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
