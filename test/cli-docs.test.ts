/**
 * docs/cli.md and docs/services.md promise flags; every one of them must exist in the built
 * command's --help, and every command's --help must show examples.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { start } from "./support/spawn.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = `${root}dist/cli/main.js`;
const COMMANDS = [
  "connect",
  "listen",
  "relay",
  "scan",
  "info",
  "serve",
  "echo",
  "daytime",
  "time",
  "qotd",
  "chargen",
];

async function help(cmd?: string): Promise<string> {
  const child = start(process.execPath, cmd === undefined ? [bin, "--help"] : [bin, cmd, "--help"]);
  assert.equal(await child.exit(10_000), 0, child.stderr());
  return child.stdout();
}

const FLAG = /(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z0-9])(?![\w-])/g;

/** The flags each documented command promises: table rows and `sockit CMD …` examples. */
function documentedFlags(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (cmd: string, flag: string) => {
    if (!out.has(cmd)) out.set(cmd, new Set());
    out.get(cmd)!.add(flag);
  };
  let current = "";
  let inCode = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("```")) {
      inCode = !inCode;
      continue;
    }
    const heading = !inCode ? /^#{1,4} .*?`sockit ([a-z]+)/.exec(line) : null;
    if (heading) current = COMMANDS.includes(heading[1]!) ? heading[1]! : "";
    else if (!inCode && /^## Global options/.test(line)) current = "*";
    else if (!inCode && /^## /.test(line)) current = "";
    if (!inCode && line.startsWith("| `-") && current !== "") {
      const first = line.split("|")[1] ?? "";
      for (const m of first.matchAll(FLAG)) add(current, m[1]!);
    }
    // `sockit CMD …` in code: the flags written after the command name
    const spans = inCode ? [line] : [...line.matchAll(/`([^`]*)`/g)].map((m) => m[1]!);
    for (const span of spans) {
      const m = /(?:^|\s|\$ )sockit ((?:-\S+ )*)([a-z]+)([^|;&>]*)/.exec(span);
      if (!m || !COMMANDS.includes(m[2]!)) continue;
      for (const f of `${m[1]} ${m[3]}`.matchAll(FLAG)) add(m[2]!, f[1]!);
    }
  }
  return out;
}

function hasFlag(helpText: string, flag: string): boolean {
  return new RegExp(`(^|[\\s,\\[])${flag.replace(/[-]/g, "\\-")}([\\s,=\\]]|$)`, "m").test(helpText);
}

test("every flag the CLI docs show exists in that command's --help", async () => {
  const docs = ["docs/cli.md", "docs/services.md"].filter((p) => existsSync(root + p));
  assert.ok(docs.includes("docs/cli.md"));
  const global = await help();
  const helps = new Map<string, string>();
  const missing: string[] = [];
  let checked = 0;
  for (const doc of docs) {
    for (const [cmd, flags] of documentedFlags(readFileSync(root + doc, "utf8"))) {
      checked += flags.size;
      if (cmd !== "*" && !helps.has(cmd)) helps.set(cmd, await help(cmd));
      const text = cmd === "*" ? global : `${helps.get(cmd)}\n${global}`;
      for (const flag of flags) if (!hasFlag(text, flag)) missing.push(`${doc}: sockit ${cmd} ${flag}`);
    }
  }
  assert.ok(checked >= 60, `the docs' flags were found (${checked})`);
  assert.deepEqual(missing, [], "documented flags missing from --help");
});

test("every command's --help shows examples", async () => {
  for (const cmd of COMMANDS) {
    const text = await help(cmd);
    assert.match(text, /Examples?:/, `sockit ${cmd} --help has examples`);
  }
  assert.match(await help(), /Exit codes:/);
});

test("sockit without a command prints the help on stderr and exits 1; --help and -V exit 0", async () => {
  const bare = start(process.execPath, [bin]);
  assert.equal(await bare.exit(10_000), 1);
  assert.match(bare.stderr(), /Usage: sockit/);
  assert.equal(bare.stdout(), "", "nothing on stdout");
  const version = start(process.execPath, [bin, "-V"]);
  assert.equal(await version.exit(10_000), 0);
  assert.match(version.stdout(), /^\d+\.\d+\.\d+/);
});
