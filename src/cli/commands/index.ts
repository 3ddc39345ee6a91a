/**
 * The subcommands: each file registers one, with a pure argument → plan step and a run step.
 *
 * @module
 */
import type { Command } from "commander";
import { register as chat } from "./chat.js";
import { register as connect } from "./connect.js";
import { register as ftp } from "./ftp.js";
import { register as get } from "./get.js";
import { register as http } from "./http.js";
import { register as info } from "./info.js";
import { register as listen } from "./listen.js";
import { register as mail } from "./mail.js";
import type { CommandRegistry } from "./registry.js";
import { register as relay } from "./relay.js";
import { register as rfcClients } from "./rfc-clients.js";
import { register as rpc } from "./rpc.js";
import { register as scan } from "./scan.js";
import { register as serve } from "./serve.js";
import { register as transfer } from "./transfer.js";
import { registerCert } from "../tls.js";

/**
 * Adds every subcommand to the program.
 * @example `registerAll(program, new CommandRegistry())`
 */
export function registerAll(program: Command, reg: CommandRegistry): void {
  connect(program, reg);
  info(program, reg);
  listen(program, reg);
  relay(program, reg);
  scan(program, reg);
  serve(program, reg);
  rpc(program, reg);
  mail(program, reg);
  chat(program, reg);
  ftp(program, reg);
  http(program, reg);
  get(program, reg);
  rfcClients(program, reg);
  transfer(program, reg);
  registerCert(program, reg);
}
