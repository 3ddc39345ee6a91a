/**
 * The trace viewer (`sockit trace-view`): a collector for the trace events that processes
 * started with `SOCKIT_TRACE=http://HOST:PORT` stream to it, and a page that draws them live as
 * a sequence diagram (one lane per process, a column per socket, arrows for connection set-up,
 * data and tear-down). See docs/trace-view.md.
 *
 * @example
 * ```ts
 * import { serveTraceView } from "./services/traceview/index.js";
 * const v = await serveTraceView("127.0.0.1:7080");
 * console.log(`open http://${v.address}/`);
 * ```
 * @module
 */
export { type Batch, BatchError, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, parseBatch } from "./batch.js";
export { TRACE_VIEW_APP, TRACE_VIEW_PAGE } from "./page.js";
export {
  MAX_KEPT_EVENTS,
  serveTraceView,
  type TraceViewCounters,
  type TraceViewWeb,
  traceViewWeb,
} from "./web.js";
