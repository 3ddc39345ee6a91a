/**
 * `sockit trace-view [--host H] [--port P] [FILE.json]`: a web page that draws the socket calls
 * of sockit programs as a live sequence diagram, and the collector those programs stream to when
 * started with `SOCKIT_TRACE=http://HOST:PORT`. With FILE.json (the page's JSON export) it
 * replays that trace instead of collecting. See docs/trace-view.md.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { EXIT, UsageError } from "../exit.js";
import { addGlobalOptions } from "../globals.js";
import { parsePortNumber } from "../session/address.js";
import { waitForStop } from "../session/stop.js";
import type { CommandRegistry } from "./registry.js";

/** Where `sockit trace-view` listens by default. */
export const DEFAULT_TRACE_VIEW_HOST = "127.0.0.1";
/** The default port of `sockit trace-view`. */
export const DEFAULT_TRACE_VIEW_PORT = 7080;
/** A saved trace larger than this is refused. */
export const MAX_REPLAY_BYTES = 64 * 1024 * 1024;

/** What `trace-view` will do. */
export interface TraceViewPlan {
  /** `HOST:PORT` (IPv6 in brackets). */
  readonly address: string;
  /** The saved trace to replay, if any. */
  readonly file: string | undefined;
}

/**
 * The arguments as a plan (pure; throws UsageError).
 * @example `planTraceView(undefined, { port: "0" }).address // "127.0.0.1:0"`
 */
export function planTraceView(file: string | undefined, o: { host?: string; port?: string }): TraceViewPlan {
  const host = o.host ?? DEFAULT_TRACE_VIEW_HOST;
  if (host === "") throw new UsageError("--host is empty");
  const port = o.port === undefined ? DEFAULT_TRACE_VIEW_PORT : parsePortNumber(o.port, true, "--port");
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return { address: `${h}:${port}`, file };
}

/** Serves the viewer until SIGINT/SIGTERM (or `stop`); resolves 0. */
export async function runTraceView(plan: TraceViewPlan, ctx: Context, stop?: AbortSignal): Promise<number> {
  // the viewer's own calls are not sent to a viewer (not to itself, nor to another one)
  (await import("../../trace-export.js")).stopExporter();
  const { parseBatch, BatchError, serveTraceView } = await import("../../services/traceview/index.js");
  let replay;
  if (plan.file !== undefined) {
    const body = await readFile(plan.file).catch((err: unknown) => {
      throw new UsageError(`cannot read ${plan.file}: ${(err as Error).message}`);
    });
    try {
      replay = parseBatch(body, MAX_REPLAY_BYTES, Number.MAX_SAFE_INTEGER).events;
    } catch (err) {
      if (err instanceof BatchError)
        throw new UsageError(`${plan.file} is not a saved trace (the page's JSON export): ${err.message}`);
      throw err;
    }
  }
  const v = await serveTraceView(plan.address, replay === undefined ? {} : { replay });
  const { stopped, dispose } = waitForStop(stop);
  const url = `http://${v.address}/`;
  const out = ctx.io.stdout;
  if (ctx.opts.json)
    out.write(`${JSON.stringify({ listening: v.address, url, replay: plan.file ?? null })}\n`);
  else if (replay !== undefined) out.write(`Replaying ${plan.file} (${replay.length} calls) on ${url}\n`);
  else out.write(`Trace viewer on ${url}; trace a program with SOCKIT_TRACE=http://${v.address}\n`);
  const sig = await stopped;
  dispose();
  ctx.err(`sockit: ${sig === "stop" ? "stopping" : `${sig}: shutting down`}\n`);
  await v.close();
  const c = v.web.counters;
  ctx.info(`counters: batches=${c.batches} events=${c.events} refused=${c.refused}`);
  return EXIT.OK;
}

/** Adds `trace-view` to the program. */
export function register(program: Command, reg: CommandRegistry): void {
  const cmd = addGlobalOptions(program.command("trace-view"), { json: true })
    .description(
      `a live sequence diagram of sockit programs' socket calls in the browser, on http://${DEFAULT_TRACE_VIEW_HOST}:${DEFAULT_TRACE_VIEW_PORT}/; trace a program with SOCKIT_TRACE=http://HOST:PORT`,
    )
    .argument("[file]", "a saved trace (the page's JSON export) to replay instead of collecting")
    .option("--host <addr>", `the address to listen on (default ${DEFAULT_TRACE_VIEW_HOST})`)
    .option("--port <n>", `the port (default ${DEFAULT_TRACE_VIEW_PORT}; 0: any free port)`)
    .addHelpText(
      "after",
      `
Examples:
  sockit trace-view                     then open http://127.0.0.1:7080/
  SOCKIT_TRACE=http://127.0.0.1:7080 node build/examples/02-client-server/daytime-server.js
  sockit trace-view trace.json          replay a trace saved with the page's "Export JSON"

A traced program exports at most 10 000 calls that move bytes a second; past that it counts them
per socket and the page draws each count as one "calls not traced" row (its bytes kept, so the
arrows after it stay right). Calls that set up, fail or close always go out.
SOCKIT_TRACE_RATE=N sets the budget (calls a second), SOCKIT_TRACE_RATE=all turns it off.`,
    )
    .action((file: string | undefined, o: { host?: string; port?: string }) => {
      const plan = planTraceView(file, o);
      reg.choose(cmd, (ctx) => runTraceView(plan, ctx));
    });
}
