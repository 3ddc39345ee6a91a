/**
 * Preload (`node --import`) that prints every sockit socket call to stderr, rendered like strace.
 * Used by tests to watch an unmodified example program.
 */
import diagnostics_channel from "node:diagnostics_channel";
import { type CallEvent, renderCall, TRACE_CHANNEL } from "../../src/trace.js";

diagnostics_channel.subscribe(TRACE_CHANNEL, (ev) => {
  process.stderr.write(`${renderCall(ev as CallEvent)}\n`);
});
