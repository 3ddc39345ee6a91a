/**
 * The subcommands: each file registers one, with a pure argument → plan step and a run step.
 *
 * @module
 */
import type { Command } from "commander";
import type { Context } from "../context.js";
import { register as connect } from "./connect.js";
import { register as info } from "./info.js";
import { register as listen } from "./listen.js";
import { register as relay } from "./relay.js";
import { register as rfcClients } from "./rfc-clients.js";
import { register as scan } from "./scan.js";
import { register as serve } from "./serve.js";

/** What a subcommand does once its arguments are parsed; resolves the exit code (default 0). */
export type Action = (ctx: Context) => Promise<number | undefined>;

/**
 * Records which subcommand the command line chose (commander calls one action).
 * @example `cmd.action((…) => reg.choose(cmd, (ctx) => run(plan, ctx)))`
 */
export class CommandRegistry {
  chosen: { command: Command; action: Action } | undefined;

  /** Called from a subcommand's commander action. */
  choose(command: Command, action: Action): void {
    this.chosen = { command, action };
  }
}

/** Adds every subcommand to the program. */
export function registerAll(program: Command, reg: CommandRegistry): void {
  connect(program, reg);
  info(program, reg);
  listen(program, reg);
  relay(program, reg);
  scan(program, reg);
  serve(program, reg);
  rfcClients(program, reg);
}
