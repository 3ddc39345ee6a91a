/**
 * The options every subcommand accepts, before or after its name.
 *
 * @module
 */
import { type Command, Option } from "commander";

/**
 * Adds the options every command accepts (so they work before or after the subcommand name);
 * `--json` only where the command has a report to print as JSON (`{ json: true }`).
 * @example `addGlobalOptions(new Command("scan"), { json: true })`
 */
export function addGlobalOptions(cmd: Command, { json = false }: { json?: boolean } = {}): Command {
  cmd

    .option("-v, --verbose", "print connection events to stderr")
    .option("-x, --hexdump", "hex-dump both directions to stderr")
    .option(
      "--trace",
      "print every socket call to stderr, like strace (--trace=json: one JSON object per call)",
    )
    .addOption(new Option("--trace-json", "print every socket call as JSON lines").hideHelp())
    .addOption(
      new Option("--color <when>", "colour diagnostics: auto, always or never (NO_COLOR is honoured)")
        .choices(["auto", "always", "never"])
        .default("auto"),
    );
  if (json) cmd.option("--json", "print the report as JSON");
  return cmd;
}

/**
 * True when `cmd` itself offers `--json` (given before the command's name it is the program's).
 * @example `if (!offersJson(cmd)) throw new UsageError("--json: …")`
 */
export function offersJson(cmd: Command): boolean {
  return cmd.options.some((o) => o.long === "--json");
}
