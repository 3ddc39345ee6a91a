/**
 * The options every subcommand accepts, before or after its name.
 *
 * @module
 */
import { type Command, Option } from "commander";

/**
 * Adds the options every command accepts (so they work before or after the subcommand name).
 * @example `addGlobalOptions(new Command("connect"))`
 */
export function addGlobalOptions(cmd: Command): Command {
  return cmd
    .option("-v, --verbose", "print connection events to stderr")
    .option("-x, --hexdump", "hex-dump both directions to stderr")
    .option(
      "--trace",
      "print every socket call to stderr, like strace (--trace=json: one JSON object per call)",
    )
    .addOption(new Option("--trace-json", "print every socket call as JSON lines").hideHelp())
    .option("--json", "report as JSON (where a command reports)")
    .addOption(
      new Option("--color <when>", "colour diagnostics: auto, always or never (NO_COLOR is honoured)")
        .choices(["auto", "always", "never"])
        .default("auto"),
    );
}
