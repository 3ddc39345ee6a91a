/**
 * The viewer for figure `tracing` (bench/tracing.ts), forked: a `sockit trace-view` collector on
 * a free loopback port; answers its address, and how many events it received.
 *
 * @module
 */
import { serveTraceView } from "../src/services/traceview/index.js";
import { serve } from "./lib.js";

let viewer: Awaited<ReturnType<typeof serveTraceView>> | undefined;
serve(async (m) => {
  if (m.cmd === "viewer") {
    viewer ??= await serveTraceView("127.0.0.1:0");
    return { address: viewer.address };
  }
  if (m.cmd === "count")
    return { events: viewer?.web.counters.events ?? 0, refused: viewer?.web.counters.refused ?? 0 };
  throw new Error(`unknown command ${String(m.cmd)}`);
});
