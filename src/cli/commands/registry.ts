/**
 * The command registry: how a subcommand's commander action hands its run step to `main.ts`.
 * Its own module so that `commands/index.ts` (which imports every command) and the commands
 * (which import this) form no cycle.
 *
 * @module
 */
import type { Command } from "commander";
import type { Context } from "../context.js";

/**
 * What a subcommand does once its arguments are parsed; resolves the exit code (default 0).
 * @example `const action: Action = async (ctx) => { ctx.info("hi"); return 0; }`
 */
export type Action = (ctx: Context) => Promise<number | undefined>;

/**
 * Records which subcommand the command line chose (commander calls one action).
 * @example `cmd.action((…) => reg.choose(cmd, (ctx) => run(plan, ctx)))`
 */
export class CommandRegistry {
  /** The chosen command and its run step, once commander has called an action. */
  chosen: { command: Command; action: Action } | undefined;

  /** Called from a subcommand's commander action. */
  choose(command: Command, action: Action): void {
    this.chosen = { command, action };
  }
}
