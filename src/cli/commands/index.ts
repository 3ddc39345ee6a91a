/**
 * The subcommands: each file registers one, with a pure argument → plan step and a run step.
 *
 * A command's module (and the service behind it) loads only when the command line names it:
 * `sockit connect …` loads `connect.ts` and not the FTP, HTTP, mail or chat code. Loading them
 * all cost every `sockit` process 0.1 s of start-up and, past V8's first old-generation limit, a
 * full garbage collection every few megabytes moved (docs/performance.md, `cli-pipe`). Without a
 * command name (`sockit --help`), or with one that is not known, every command loads, so help
 * and commander's own "unknown command" message see them all.
 *
 * @module
 */
import type { Command } from "commander";
import type { CommandRegistry } from "./registry.js";

/** How a module adds its commands. */
type Register = (program: Command, reg: CommandRegistry) => void;

/** Every command module, in the order commands appear in `--help` (`serve` before its subcommands). */
const MODULES = {
  connect: async () => (await import("./connect.js")).register,
  info: async () => (await import("./info.js")).register,
  listen: async () => (await import("./listen.js")).register,
  relay: async () => (await import("./relay.js")).register,
  scan: async () => (await import("./scan.js")).register,
  serve: async () => (await import("./serve.js")).register,
  rpc: async () => (await import("./rpc.js")).register,
  mail: async () => (await import("./mail.js")).register,
  chat: async () => (await import("./chat.js")).register,
  ftp: async () => (await import("./ftp.js")).register,
  http: async () => (await import("./http.js")).register,
  get: async () => (await import("./get.js")).register,
  rfcClients: async () => (await import("./rfc-clients.js")).register,
  transfer: async () => (await import("./transfer.js")).register,
  game: async () => (await import("./game.js")).register,
  cert: async () => (await import("../tls.js")).registerCert,
  traceView: async () => (await import("./trace-view.js")).register,
} satisfies Record<string, () => Promise<Register>>;

type ModuleName = keyof typeof MODULES;

/** Top-level command name → the modules that register it (a `serve X` also needs `serve`). */
const BY_COMMAND: Readonly<Record<string, readonly ModuleName[]>> = {
  connect: ["connect"],
  info: ["info"],
  listen: ["listen"],
  relay: ["relay"],
  scan: ["scan"],
  rpc: ["serve", "rpc"],
  mail: ["serve", "mail"],
  chat: ["serve", "chat"],
  ftp: ["serve", "ftp"],
  get: ["get"],
  send: ["transfer"],
  recv: ["transfer"],
  game: ["game"],
  cert: ["cert"],
  "trace-view": ["traceView"],
  echo: ["rfcClients"],
  daytime: ["rfcClients"],
  time: ["rfcClients"],
  qotd: ["rfcClients"],
  chargen: ["rfcClients"],
};

/** `serve`'s subcommands that live in other modules; any other `serve …` is the RFC services. */
const SERVE_SUB: Readonly<Record<string, ModuleName>> = {
  rpc: "rpc",
  smtp: "mail",
  chat: "chat",
  ftp: "ftp",
  http: "http",
};

/** Global options that take their value as the next argument. */
const VALUED = new Set(["--color"]);

/**
 * The modules the command line needs, or undefined for all of them: the first argument that is
 * not an option (nor a global option's value) names the command. For `serve`, any later word
 * naming one of its subcommands in another module brings that module (an extra one is harmless);
 * `serve --help` loads them all, to list them. `sockit --version` needs none.
 * @example `modulesFor(["-v", "serve", "http", "."]) // ["serve", "http"]`
 */
export function modulesFor(argv: readonly string[]): readonly ModuleName[] | undefined {
  const words: string[] = [];
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (a.startsWith("-")) {
      if (a === "--help" || a === "-h") help = true;
      if ((a === "--version" || a === "-V") && words.length === 0) version = true;
      if (VALUED.has(a) && words.length === 0) i++;
      continue;
    }
    words.push(a);
  }
  const [cmd, ...rest] = words;
  // `sockit --version` prints the version and needs no command (unless help is asked too)
  if (cmd === undefined) return version && !help ? [] : undefined;
  if (cmd !== "serve") return BY_COMMAND[cmd];
  const own = [...new Set(rest.map((w) => SERVE_SUB[w]).filter((m) => m !== undefined))];
  if (own.length === 0 && help) return undefined;
  return ["serve", ...own];
}

/**
 * Adds the subcommands the command line `argv` needs (every one when it names none) to the
 * program.
 * @example `await registerFor(program, new CommandRegistry(), ["connect", "127.0.0.1", "7"])`
 */
export async function registerFor(
  program: Command,
  reg: CommandRegistry,
  argv: readonly string[],
): Promise<void> {
  const wanted = modulesFor(argv);
  const names = (Object.keys(MODULES) as ModuleName[]).filter(
    (n) => wanted === undefined || wanted.includes(n),
  );
  const registers = await Promise.all(names.map((n) => MODULES[n]()));
  for (const register of registers) register(program, reg);
}
