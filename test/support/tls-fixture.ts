/**
 * What the services' TLS tests share: a test CA and a certificate it signed for localhost and
 * 127.0.0.1, written as PEM files in a temporary directory; running a program to its end; and
 * the set of servers a test file started, stopped cleanly or killed in its `after`.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificate } from "../../src/core/cert.js";
import { type Child, start } from "./spawn.js";

/**
 * A CA, a certificate it signed (`localhost`, `127.0.0.1`) and their PEM files in a fresh
 * directory named `sockit-PREFIX-…`; `file()` writes another file there (mode 0600).
 *
 * @example
 * ```ts
 * const { dir, caFile, certFile, keyFile } = tlsFiles("https");
 * ```
 */
export function tlsFiles(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), `sockit-${prefix}-`));
  const ca = createCertificate({ hosts: ["localhost"], ca: true });
  const good = createCertificate({ hosts: ["localhost", "127.0.0.1"], issuer: ca });
  const file = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text, { mode: 0o600 });
    return f;
  };
  return {
    dir,
    ca,
    good,
    file,
    caFile: file("ca.pem", ca.cert),
    certFile: file("cert.pem", good.cert),
    keyFile: file("key.pem", good.key),
    /** Removes the directory. */
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Runs a program with stdin closed until it exits (bounded by `ms`): its code and output.
 * @example `const { code, stdout } = await runToEnd("curl", ["--cacert", caFile, url]);`
 */
export async function runToEnd(
  cmd: string,
  args: string[],
  ms = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = start(cmd, args);
  const closed = new Promise<void>((resolve) => c.proc.once("close", () => resolve()));
  c.proc.stdin?.end();
  const code = await c.exit(ms);
  await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

/**
 * The servers a test file started: `stop()` ends one with SIGTERM and expects exit 0;
 * `killAll()` (in the file's `after`) kills what is left.
 * @example `servers.add(child); …; await servers.stop(child);`
 */
export class ChildSet {
  readonly #children = new Set<Child>();

  add(child: Child): Child {
    this.#children.add(child);
    return child;
  }

  async stop(child: Child): Promise<void> {
    child.kill("SIGTERM");
    assert.equal(await child.exit(10_000), 0, child.stderr());
    this.#children.delete(child);
  }

  async killAll(): Promise<void> {
    for (const c of this.#children) {
      c.kill("SIGKILL");
      await c.exit(5000).catch(() => {});
    }
    this.#children.clear();
  }
}
