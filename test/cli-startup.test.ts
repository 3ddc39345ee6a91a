/**
 * Start-up stays light: every `sockit` command loads every command's registration (commander
 * needs the flags), so a command module must not load a service's heavy dependencies at import
 * time — the mail page's MIME decoder, the progress bar, Redis, the certificate maker, the
 * JSON-RPC library. Those load when their command runs. Checked on the built CLI: the npm
 * packages it has loaded when `sockit --help` ends (it registers every command, to list them) (CommonJS packages sit in require.cache;
 * sockit's own ESM modules are not counted here).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { SOCKIT } from "./support/sockit-serve.js";

const run = promisify(execFile);

/** A preload that prints, at exit, the npm packages whose CommonJS modules were loaded. */
const HOOK =
  "data:text/javascript," +
  encodeURIComponent(`
import { createRequire } from "node:module";
const require = createRequire(process.cwd() + "/");
process.on("exit", () => {
  const names = new Set();
  for (const f of Object.keys(require.cache)) {
    const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(f);
    if (m) names.add(m[1]);
  }
  process.stderr.write("LOADED " + JSON.stringify([...names].sort()) + "\\n");
});`);

/** Packages only their own command may load. */
const HEAVY = ["cli-progress", "mailparser", "nodemailer", "ioredis", "node-forge", "mime-types", "jayson"];

test(
  "sockit --help registers every command yet loads none of the services' heavy packages",
  { timeout: 20_000 },
  async () => {
    const { stdout, stderr } = await run(process.execPath, ["--import", HOOK, SOCKIT, "--help"]);
    assert.match(stdout, /serve/);
    const line = stderr.split("\n").find((l) => l.startsWith("LOADED "));
    assert.ok(line, `no LOADED line in ${stderr}`);
    const loaded = JSON.parse(line.slice(7)) as string[];
    assert.ok(loaded.includes("commander"), `the hook sees CommonJS packages: ${loaded.join(", ")}`);
    const heavy = loaded.filter((n) => HEAVY.includes(n));
    assert.deepEqual(
      heavy,
      [],
      `loaded at start-up: ${heavy.join(", ")} — import them where their command runs`,
    );
  },
);
