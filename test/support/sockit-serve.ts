/**
 * `sockit serve` as a child process for end-to-end tests: started with `--json --port all=0`
 * (free ports), its listening table read from stdout, stopped by signal with a bounded wait.
 */
import { fileURLToPath } from "node:url";
import { type Child, start } from "./spawn.js";

/** The compiled `sockit` command. */
export const SOCKIT = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

/** One row of the table `sockit serve --json` prints. */
export interface Listening {
  readonly service: string;
  readonly proto: "tcp" | "udp";
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly try: string[];
}

/** A running `sockit serve`. */
export interface Served {
  readonly child: Child;
  readonly listening: readonly Listening[];
  readonly limits: Record<string, number>;
  /** The port of `service` over `proto`. */
  port(service: string, proto?: "tcp" | "udp"): number;
  /** SIGTERM, then the exit code (SIGKILL after `ms`). */
  stop(ms?: number): Promise<number | null>;
}

/**
 * Starts `node build/src/cli/main.js serve --json --port all=0 ARGS…` (`pre` go before `serve`,
 * e.g. `-v`) and waits (at most 10 s) for its table.
 */
export async function startServe(args: readonly string[] = [], pre: readonly string[] = []): Promise<Served> {
  const child = start(process.execPath, [SOCKIT, ...pre, "serve", "--json", "--port", "all=0", ...args]);
  let parsed: { listening: Listening[]; limits: Record<string, number> };
  try {
    const [line] = await child.line(/^\{"listening".*\}$/m, 10_000);
    parsed = JSON.parse(line) as typeof parsed;
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return {
    child,
    listening: parsed.listening,
    limits: parsed.limits,
    port(service, proto = "tcp") {
      const l = parsed.listening.find((x) => x.service === service && x.proto === proto);
      if (!l) throw new Error(`${service}/${proto} is not served: ${JSON.stringify(parsed.listening)}`);
      return l.port;
    },
    async stop(ms = 10_000) {
      child.kill("SIGTERM");
      return child.exit(ms);
    },
  };
}

/** Runs `sockit ARGS…` to completion (bounded) and returns its exit code and output. */
export async function sockit(
  args: readonly string[],
  ms = 15_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = start(process.execPath, [SOCKIT, ...args]);
  const closed = new Promise<void>((resolve) => c.proc.once("close", () => resolve()));
  c.proc.stdin?.end();
  const code = await c.exit(ms);
  await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]); // all output read
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}
