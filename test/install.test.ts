/**
 * Getting the `sockit` command, as the README says: in a fresh clone `npm ci && npm link` puts it
 * on the PATH (here npm's global prefix is a private temporary directory), and the tarball
 * `npm pack` makes installs into an empty directory and runs there without TypeScript. Needs the
 * npm registry (for `npm ci` and the runtime dependency); skipped, saying so, when it cannot be
 * reached. Slow-ish (a clone, `npm ci`, two package builds), bounded at 3 minutes.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;

/** Runs `cmd args` in `cwd`, bounded; resolves stdout, rejects with the output on failure. */
async function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, ms = 120_000) {
  try {
    const { stdout } = await exec(cmd, args, {
      cwd,
      timeout: ms,
      killSignal: "SIGKILL",
      env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false", ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(" ")} (in ${cwd}) failed: ${err.message}\n${err.stdout ?? ""}${err.stderr ?? ""}`,
    );
  }
}

/** Why the registry cannot be used, or undefined when it answers. */
async function registryUnreachable(): Promise<string | undefined> {
  try {
    await sh("npm", ["ping"], root, {}, 20_000);
    return undefined;
  } catch (e) {
    return `the npm registry is unreachable (npm ping failed: ${(e as Error).message.split("\n")[0]})`;
  }
}

const skip = await registryUnreachable();

test(
  "a fresh clone: `npm ci && npm link` puts sockit on the PATH; the npm pack tarball runs without TypeScript",
  { skip: skip ?? false, timeout: 180_000 },
  async () => {
    const tmp = mkdtempSync(join(tmpdir(), "sockit-install-"));
    try {
      const clone = join(tmp, "clone");
      await sh("git", ["clone", "--quiet", "--no-hardlinks", root, clone], tmp);
      assert.ok(!existsSync(join(clone, "dist")), "a fresh clone has no build");

      // the README's line, with npm's global prefix private to this test
      const prefix = join(tmp, "prefix");
      mkdirSync(prefix);
      await sh("npm", ["ci"], clone, {}, 150_000);
      await sh("npm", ["link"], clone, { npm_config_prefix: prefix });
      const linked = join(prefix, "bin", "sockit");
      assert.ok(existsSync(linked), `npm link made ${linked}`);
      assert.equal((await sh(linked, ["--version"], tmp)).trim(), version);
      // and on the PATH, by name
      const path = `${join(prefix, "bin")}:${process.env.PATH ?? ""}`;
      assert.equal((await sh("sockit", ["--version"], tmp, { PATH: path })).trim(), version);

      // npm pack → install into an empty directory → run, with no TypeScript anywhere there
      const packed = (await sh("npm", ["pack", "--silent", "--pack-destination", tmp], clone)).trim();
      const tarball = join(tmp, packed.split("\n").pop()!);
      assert.ok(existsSync(tarball), `npm pack made ${tarball}`);
      const empty = join(tmp, "empty");
      mkdirSync(empty);
      await sh("npm", ["install", tarball], empty);
      const modules = readdirSync(join(empty, "node_modules"));
      assert.ok(!modules.includes("typescript"), `no TypeScript installed: ${modules.join(", ")}`);
      assert.equal(
        (await sh(join(empty, "node_modules", ".bin", "sockit"), ["--version"], empty)).trim(),
        version,
      );
      assert.equal((await sh("npx", ["--no-install", "sockit", "--version"], empty)).trim(), version);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);
