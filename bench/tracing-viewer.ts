/**
 * The viewer for figure `tracing` (bench/tracing.ts), forked: a `sockit trace-view` collector on
 * a free loopback port (and a sink that answers every batch unread); answers their addresses, and
 * how many events the viewer received.
 *
 * @module
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { serveTraceView } from "../src/services/traceview/index.js";
import { serve } from "./lib.js";

let viewer: Awaited<ReturnType<typeof serveTraceView>> | undefined;
let sink: http.Server | undefined;
serve(async (m) => {
  if (m.cmd === "viewer") {
    viewer ??= await serveTraceView("127.0.0.1:0");
    return { address: viewer.address };
  }
  if (m.cmd === "sink") {
    // takes every batch and answers 204 without reading it: the exporter's cost alone
    sink ??= http.createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(204).end());
    });
    if (!sink.listening) await new Promise<void>((r) => sink!.listen(0, "127.0.0.1", r));
    return { address: `127.0.0.1:${(sink.address() as AddressInfo).port}` };
  }
  if (m.cmd === "count")
    return { events: viewer?.web.counters.events ?? 0, refused: viewer?.web.counters.refused ?? 0 };
  throw new Error(`unknown command ${String(m.cmd)}`);
});
