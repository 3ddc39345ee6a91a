/**
 * Importing this module prints every sockit socket call to stderr as it happens, rendered like
 * strace — a way to watch an unmodified program:
 *
 * ```sh
 * node --import sockit/trace-stderr build/examples/02-client-server/daytime-client.js 127.0.0.1 7013
 * # socket(AF_INET, SOCK_STREAM) = 3
 * # connect(3, ('127.0.0.1', 7013)) = 0
 * ```
 *
 * @example `import "sockit/trace-stderr";`
 * @module
 */
import diagnostics_channel from "node:diagnostics_channel";
import { type CallEvent, renderCall, TRACE_CHANNEL } from "./trace.js";

diagnostics_channel.subscribe(TRACE_CHANNEL, (ev) => {
  process.stderr.write(`${renderCall(ev as CallEvent)}\n`);
});
