/**
 * `--trace` and `--trace=json`: every socket call, rendered as it happens, to stderr.
 *
 * @module
 */
import diagnostics_channel from "node:diagnostics_channel";
import { bytesRepr, type CallEvent, renderCall, TRACE_CHANNEL, type TraceValue } from "../../trace.js";
import type { Palette } from "./color.js";

/** How to render: strace-like text or one JSON object per line. */
export type TraceFormat = "text" | "json";

function jsonValue(v: TraceValue | undefined): unknown {
  if (v === undefined) return undefined;
  if (Buffer.isBuffer(v)) return { bytes: v.length, preview: bytesRepr(v, 64) };
  if (Array.isArray(v)) return v.map((x) => jsonValue(x as TraceValue));
  if (v !== null && typeof v === "object" && "sym" in v) return v.sym;
  return v;
}

/**
 * One event as a JSON line: `{"fd":3,"call":"connect","args":[["127.0.0.1",80]],"result":0,…}`.
 * @example `traceJson(ev) // '{"fd":3,"call":"listen","args":[5],"result":0,"ms":0.01}'`
 */
export function traceJson(ev: CallEvent): string {
  const o: Record<string, unknown> = { fd: ev.fd, call: ev.call, args: ev.args.map((a) => jsonValue(a)) };
  if (ev.error)
    o.error = { name: ev.error.name, code: ev.error.code, errno: ev.error.errno, message: ev.error.message };
  else o.result = jsonValue(ev.result);
  if (ev.data !== undefined) o.data = jsonValue(ev.data);
  o.ms = Number(ev.duration.toFixed(3));
  return JSON.stringify(o);
}

/**
 * Starts rendering every sockit call to `write`; returns the function that stops it.
 * @example `const stop = startTrace("text", (s) => process.stderr.write(s), palette(false));`
 */
export function startTrace(format: TraceFormat, write: (s: string) => void, colors: Palette): () => void {
  const fn = (msg: unknown) => {
    const ev = msg as CallEvent;
    if (format === "json") write(`${traceJson(ev)}\n`);
    else {
      const line = renderCall(ev);
      // the call's name stands out; a failed call is red
      const name = line.startsWith(ev.call) ? ev.call.length : 0;
      const head = colors.cyan(line.slice(0, name));
      const rest = line.slice(name);
      write(`${name > 0 ? head : ""}${ev.error ? colors.red(rest) : colors.dim(rest)}\n`);
    }
  };
  diagnostics_channel.subscribe(TRACE_CHANNEL, fn);
  return () => diagnostics_channel.unsubscribe(TRACE_CHANNEL, fn);
}
