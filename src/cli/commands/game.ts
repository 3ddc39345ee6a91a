/**
 * The light-cycle game over UDP: `sockit game serve` runs the authoritative server,
 * `sockit game join HOST[:PORT] --name N` plays in the terminal (or, with `--bot`, by itself).
 * docs/game.md has the rules and the protocol.
 *
 * @module
 */
import type { ReadStream } from "node:tty";
import type { Command } from "commander";
import { GameClient, GameServer, botMove, validName, type Snapshot } from "../../services/game/index.js";
import type { Context } from "../context.js";
import { EXIT, UsageError } from "../exit.js";
import { parseKeys, renderFrame, resultLine } from "../game/render.js";
import { addGlobalOptions } from "../globals.js";
import { useColor } from "../output/color.js";
import { parseHostPort } from "../session/address.js";
import { onStopSignals } from "../session/stop.js";
import type { CommandRegistry } from "./registry.js";

/** The game's default UDP port. */
export const GAME_PORT = 7777;

/** What `game serve` will do. */
export interface GameServePlan {
  /** `host:port` as listenPacket takes it. */
  readonly address: string;
  readonly players: number;
  readonly tickHz: number;
}

/** What `game join` will do. */
export interface GameJoinPlan {
  readonly address: string;
  readonly name: string;
  readonly bot: boolean;
  readonly timeoutMs: number;
}

const hostPort = (host: string, port: number | string) =>
  `${host.includes(":") ? `[${host}]` : host}:${String(port)}`;

function int(flag: string, text: string | undefined, dflt: number, lo: number, hi: number): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < lo || n > hi)
    throw new UsageError(`${flag} must be ${lo}..${hi}, got ${text}`);
  return n;
}

/**
 * `game serve`'s options as a plan (pure; throws UsageError).
 * @example `planGameServe({ port: "0", players: "3" }).address // "0.0.0.0:0"`
 */
export function planGameServe(o: {
  host?: string;
  port?: string;
  players?: string;
  tick?: string;
}): GameServePlan {
  const host = o.host ?? "0.0.0.0";
  const port = int("--port", o.port, GAME_PORT, 0, 65535);
  const hp = parseHostPort(hostPort(host, port), { zero: true, what: "--host/--port" });
  return {
    address: hostPort(hp.host, hp.port),
    players: int("--players", o.players, 2, 2, 8),
    tickHz: int("--tick", o.tick, 20, 1, 60),
  };
}

/**
 * `game join`'s arguments as a plan (pure; throws UsageError). The port defaults to 7777.
 * @example `planGameJoin("127.0.0.1", { name: "alice" }).address // "127.0.0.1:7777"`
 */
export function planGameJoin(
  at: string,
  o: { name?: string; bot?: boolean; timeout?: string },
): GameJoinPlan {
  const hp = parseHostPort(at, { defaultPort: GAME_PORT, what: "HOST[:PORT]" });
  if (o.name === undefined || !validName(o.name))
    throw new UsageError("--name must be 1 to 16 printable ASCII characters (no leading or trailing space)");
  return {
    address: hostPort(hp.host, hp.port),
    name: o.name,
    bot: o.bot === true,
    timeoutMs: int("--timeout", o.timeout, 5, 1, 3600) * 1000,
  };
}

/** Runs the server until SIGINT/SIGTERM; one line per join, leave, match start and result. */
export async function runGameServe(plan: GameServePlan, ctx: Context): Promise<number> {
  const out = (obj: Record<string, unknown>, text: string) =>
    ctx.io.stdout.write(ctx.opts.json ? `${JSON.stringify(obj)}\n` : `${text}\n`);
  const server = await GameServer.listen(plan.address, {
    minPlayers: plan.players,
    tickHz: plan.tickHz,
    onEvent: (e) => {
      switch (e.kind) {
        case "join":
        case "leave":
        case "timeout":
          out(
            e,
            `${e.kind}: ${e.name} (player ${e.id + 1}) ${e.kind === "join" ? "from" : "at"} ${e.address}`,
          );
          break;
        case "start":
          out(e, `match started at tick ${e.tick}: ${e.players.join(", ")}`);
          break;
        case "over":
          out(e, `match over at tick ${e.tick}: ${e.winner === undefined ? "draw" : `winner ${e.winner}`}`);
          break;
      }
    },
  });
  // the handlers before the address is printed: whoever reads it may stop the server at once
  const stopped = new Promise<void>((resolve) => onStopSignals(() => resolve()));
  out({ listening: server.address }, `listening on ${server.address} (udp)`);
  await stopped;
  await server.close();
  ctx.info(`datagrams: ${JSON.stringify(server.stats)}`);
  return EXIT.OK;
}

/** The terminal in raw mode on the alternate screen, and the one way back. */
function terminal(ctx: Context): { restore: () => void; draw: (s: string) => void } {
  const stdin = ctx.io.stdin as Partial<ReadStream>;
  const tty = stdin.isTTY === true && typeof stdin.setRawMode === "function";
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    if (tty) stdin.setRawMode!(false);
    ctx.io.stdout.write("\x1b[?25h\x1b[?1049l");
    process.off("exit", restore);
  };
  if (tty) stdin.setRawMode!(true);
  process.on("exit", restore); // the last resort: whatever ends the process, the terminal comes back
  ctx.io.stdout.write("\x1b[?1049h\x1b[?25l\x1b[2J");
  return { restore, draw: (s) => ctx.io.stdout.write(`\x1b[H${s}`) };
}

/** Plays one match; prints the result line and exits 0 when the match is over (or q was pressed). */
export async function runGameJoin(plan: GameJoinPlan, ctx: Context): Promise<number> {
  const client = await GameClient.join(plan.address, { name: plan.name, timeoutMs: plan.timeoutMs });
  const me = client.welcome.id;
  ctx.info(`joined ${plan.address} as ${plan.name} (player ${me + 1})`);
  let quit = false;
  const offSignals = onStopSignals(() => {
    quit = true;
    void client.close();
  });
  let screen: ReturnType<typeof terminal> | undefined;
  const onKeys = (d: Buffer | string) => {
    for (const k of parseKeys(d.toString())) {
      if (k.kind === "quit") {
        quit = true;
        void client.close();
      } else client.steer(k.dir);
    }
  };
  let last: Snapshot | undefined;
  try {
    if (!plan.bot) {
      screen = terminal(ctx);
      ctx.io.stdin.on("data", onKeys);
      ctx.io.stdin.resume();
    }
    const color = useColor(ctx.opts.color, ctx.io.stdout as { isTTY?: boolean }, ctx.io.env);
    const frame = { color, tickHz: client.welcome.tickHz, name: plan.name };
    for (;;) {
      let s: Snapshot;
      try {
        s = await client.next();
      } catch (err) {
        if (quit) break;
        throw err;
      }
      last = s;
      if (plan.bot && s.phase === "running") client.steer(botMove(s, me));
      screen?.draw(renderFrame(s, me, frame));
      if (s.phase === "over") break;
    }
    if (screen !== undefined && !quit && last !== undefined) await new Promise((r) => setTimeout(r, 1500));
  } finally {
    ctx.io.stdin.off("data", onKeys);
    if (!plan.bot) ctx.io.stdin.pause();
    screen?.restore();
    offSignals();
    await client.close();
  }
  ctx.info(
    `snapshots ${client.stats.snapshots}, stale ${client.stats.stale}, inputs sent ${client.stats.inputsSent}`,
  );
  ctx.io.stdout.write(`${last?.phase === "over" ? resultLine(last) : "result: left the game"}\n`);
  return EXIT.OK;
}

/** Adds `game serve` and `game join` to the program. */
export function register(program: Command, reg: CommandRegistry): void {
  const game = addGlobalOptions(program.command("game"), { json: false })
    .description(
      "a light-cycle arena for 2-8 players over UDP: sockit game serve | sockit game join HOST[:PORT] --name N",
    )
    .addHelpText(
      "after",
      `
Examples:
  sockit game serve                          a server on UDP port ${GAME_PORT}
  sockit game join 127.0.0.1 --name alice    play in this terminal
  sockit game join 127.0.0.1 --name bot --bot`,
    );
  const serve = addGlobalOptions(game.command("serve"), { json: true })
    .description(`run the game server (authoritative, ${20} ticks per second) on UDP port ${GAME_PORT}`)
    .option("--host <host>", "address to bind (default 0.0.0.0: every IPv4 interface)")
    .option("--port <port>", `UDP port (default ${GAME_PORT}; 0: any free port, printed)`)
    .option("--players <n>", "players a match waits for before its countdown, 2-8 (default 2)")
    .option("--tick <hz>", "simulation steps and snapshots per second, 1-60 (default 20)")
    .addHelpText(
      "after",
      `
Up to 8 players; a match starts 2 s after --players have joined, ends when one cycle is left
(or none: a draw), shows the result for 3 s, then waits for players again (game join plays
one match and exits).
Prints one line per join, leave, timeout, match start and result (--json: one object each).

Examples:
  sockit game serve                        on every interface, port ${GAME_PORT}
  sockit game serve --host 127.0.0.1 --port 0 --players 3`,
    );
  serve.action((opts: Record<string, string | undefined>) => {
    reg.choose(serve, (ctx) => runGameServe(planGameServe(opts), ctx));
  });
  const join = addGlobalOptions(game.command("join"), { json: false })
    .description("join a game: arrows or WASD steer, q quits; --bot plays by itself")
    .argument("<address>", `HOST[:PORT] of a sockit game server (default port ${GAME_PORT})`)
    .requiredOption("--name <name>", "your name, 1-16 printable ASCII characters")
    .option("--bot", "play automatically (avoids walls and trails); no screen, just the result")
    .option("-t, --timeout <seconds>", "give up when the server is silent this long: exit 4 (default 5)")
    .addHelpText(
      "after",
      `
Draws the arena in the terminal (colours unless NO_COLOR is set or --color never). At the end
prints one line: "result: winner NAME", "result: draw" or "result: left the game"; exit 0.

Examples:
  sockit game join 127.0.0.1 --name alice
  sockit game join [::1]:7777 --name bot1 --bot`,
    );
  join.action((address: string, opts: Record<string, unknown>) => {
    reg.choose(join, (ctx) =>
      runGameJoin(planGameJoin(address, opts as Parameters<typeof planGameJoin>[1]), ctx),
    );
  });
}
