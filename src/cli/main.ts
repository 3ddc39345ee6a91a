#!/usr/bin/env node
/**
 * The `sockit` command: the one place that catches errors, maps them to exit codes and calls
 * process.exit. Each subcommand lives in commands/<name>.ts and registers itself here.
 *
 * How src/cli is put together (keep it so):
 *
 * - The CLI reaches sockets through the faces only (`src/net/index.ts`, `src/bsd`); it imports
 *   nothing from `src/core`, types included (the faces re-export the endpoint types).
 * - What several commands share lives in `session/`: the one stdin reader (stdin.ts), the one
 *   bidirectional copy (splice.ts; connect, listen and relay all move bytes with it), a
 *   connection ↔ stdio (stdio.ts), the one UDP session (udp.ts), the one address/port parser
 *   (address.ts) and signal/stdout stop handling (stop.ts). Commands do not import each other
 *   (`listen.ts` nothing from `connect.ts`); command-specific helpers sit in a folder named after
 *   the command (connect/, listen/, relay/, scan/).
 * - `commands/registry.ts` holds the registry type, so `commands/index.ts` (which imports every
 *   command) and the commands (which import the registry) form no cycle.
 * - Nothing outside src/cli imports it; no file in it grows past ~450 lines.
 *
 * @module
 */
import { readFileSync, realpathSync } from "node:fs";
import type { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { OSError } from "../errors/index.js";
import { registerFor } from "./commands/index.js";
import { CommandRegistry } from "./commands/registry.js";
import { Context, type GlobalOptions } from "./context.js";
import { EXIT, EXIT_HELP, exitCodeFor, UsageError } from "./exit.js";
import { addGlobalOptions, offersJson } from "./globals.js";
import { type ColorMode, type Palette, palette, useColor } from "./output/color.js";
import { startTrace } from "./output/trace.js";

/** The package's version: package.json is two levels up in the package (dist/cli), three in a dev build. */
function version(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "sockit") return pkg.version ?? "0.0.0";
    } catch {
      // not there: try the next level
    }
  }
  return "0.0.0";
}

/** `--trace=json` → `--trace-json`, `--trace=text` → `--trace` (so `--trace` never eats an argument). */
export function normalizeArgv(argv: readonly string[]): string[] {
  return argv.map((a) => (a === "--trace=json" ? "--trace-json" : a === "--trace=text" ? "--trace" : a));
}

function globalsOf(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as Record<string, unknown>;
  return {
    verbose: o.verbose === true,
    hexdump: o.hexdump === true,
    trace: o.traceJson === true ? "json" : o.trace === true ? "text" : false,
    json: o.json === true,
    color: (o.color as ColorMode | undefined) ?? "auto",
  };
}

/** Builds the program with the commands `argv` needs; `run` receives the chosen command's action. */
export async function buildProgram(
  registry: CommandRegistry,
  argv: readonly string[] = [],
): Promise<Command> {
  const program = addGlobalOptions(new Command("sockit"), { json: true })
    .description(
      "Socket toolkit: a netcat-class client and server, a relay, a port scanner, and the classic " +
        "Internet services. Data goes to stdout, diagnostics to stderr.",
    )
    .version(version(), "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      `
Examples:
  sockit connect example.test 80          talk to a TCP server (stdin -> socket -> stdout)
  sockit listen 8000                      accept one client on port 8000
  sockit --trace connect 127.0.0.1 7      see every socket call as it happens
  sockit relay tcp-listen:8080,fork tcp:127.0.0.1:80

${EXIT_HELP}`,
    );
  await registerFor(program, registry, argv);
  return program;
}

/** Commands whose arguments include a port, for the message about a negative one. */
const PORT_COMMANDS = new Set(["connect", "listen", "scan"]);

/**
 * A command-line mistake commander found, said like every other error: `sockit: MESSAGE`, then
 * the usage line of the command it was about (commander's own `error: …` output is switched off).
 * @example `parserMessage(err, program, ["connect", "127.0.0.1", "-1"]) // "PORT must be 1..65535, got -1\n…"`
 */
export function parserMessage(err: CommanderError, program: Command, argv: readonly string[]): string {
  const top = program.commands.find((c) => argv.includes(c.name()));
  // a subcommand's mistake (`serve rpc`, `rpc call`): the subcommand's usage
  const cmd = top?.commands.find((c) => argv.includes(c.name())) ?? top;
  let msg = err.message.replace(/^error: /, "");
  const negative = /^unknown option '(-\d+(\.\d+)?)'$/.exec(msg)?.[1];
  if (negative !== undefined) {
    msg =
      cmd !== undefined && PORT_COMMANDS.has(cmd.name())
        ? `PORT must be 1..65535, got ${negative}`
        : `unknown option '${negative}' (negative numbers are not accepted here)`;
  }
  return `${msg}\n${usageLines(cmd ?? program)}`;
}

/** `usage: sockit connect [options] <host|path> [port]` and where to read more. */
function usageLines(cmd: Command): string {
  const path: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) path.unshift(c.name());
  const name = ["sockit", ...path].join(" ");
  return `usage: ${name} ${cmd.usage()}\n(run ${name} --help for more)`;
}

/** Every command: errors thrown (not printed, not exiting), help and version to `io`. */
function routeOutput(cmd: Command, io: { stdout: Writable; stderr: Writable }): void {
  cmd.exitOverride();
  cmd.showHelpAfterError(false);
  cmd.configureOutput({
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
    outputError: () => {},
  });
  for (const sub of cmd.commands) routeOutput(sub, io);
}

/** Runs the command line; resolves the exit code (never exits itself). */
export async function main(argv: readonly string[], io = defaultIo()): Promise<number> {
  const registry = new CommandRegistry();
  const program = await buildProgram(registry, normalizeArgv(argv));
  routeOutput(program, io);
  let stopTrace: (() => void) | undefined;
  let ctx: Context | undefined;
  try {
    await program.parseAsync(normalizeArgv(argv), { from: "user" });
    const chosen = registry.chosen;
    if (!chosen) {
      program.outputHelp({ error: true });
      return EXIT.USAGE;
    }
    const globals = globalsOf(chosen.command);
    if (globals.json && !offersJson(chosen.command)) {
      throw new UsageError(
        `--json: sockit ${chosen.command.name()} has no report to print as JSON (info, scan, serve and the service clients have)`,
      );
    }
    ctx = new Context(globals, io);
    if (ctx.opts.trace) stopTrace = startTrace(ctx.opts.trace, (s) => ctx!.err(s), ctx.colors);
    const code = await chosen.action(ctx);
    return typeof code === "number" ? code : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; help shown because of a mistake (no command) is a usage error
      if (err.exitCode === 0) return EXIT.OK;
      if (err.code !== "commander.help" && err.code !== "commander.helpDisplayed") {
        io.stderr.write(`${errorColors(argv, io).red("sockit:")} ${parserMessage(err, program, argv)}\n`);
      }
      return EXIT.USAGE;
    }
    const code = exitCodeFor(err);
    const msg = err instanceof Error ? err.message : String(err);
    io.stderr.write(`${(ctx?.colors ?? errorColors(argv, io)).red("sockit:")} ${msg}\n`);
    // a mistake in the arguments: the usage line, as for the mistakes commander finds
    if (err instanceof UsageError && registry.chosen)
      io.stderr.write(`${usageLines(registry.chosen.command)}\n`);
    if (!(err instanceof OSError) && !(err instanceof UsageError) && code === EXIT.IO && ctx?.opts.verbose) {
      io.stderr.write(`${(err as Error)?.stack ?? ""}\n`);
    }
    return code;
  } finally {
    stopTrace?.();
  }
}

/** The palette for an error before the options were parsed: `--color` as written, else auto. */
function errorColors(argv: readonly string[], io: { stderr: Writable; env: NodeJS.ProcessEnv }): Palette {
  const i = argv.lastIndexOf("--color");
  const eq = argv.findLast((a) => a.startsWith("--color="))?.slice(8);
  const given = i >= 0 ? argv[i + 1] : eq;
  const mode: ColorMode = given === "always" || given === "never" ? given : "auto";
  return palette(useColor(mode, io.stderr as { isTTY?: boolean }, io.env));
}

function defaultIo() {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}

// The one exit path: run, flush stdout, exit with the code (the trace exporter, if any,
// delivers its last calls from its exit hook).
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = await main(process.argv.slice(2));
  process.stdout.write("", () => process.exit(code));
}
