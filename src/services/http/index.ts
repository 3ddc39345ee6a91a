/**
 * HTTP on sockit: a static file server (`sockit serve http`) and a small client (`sockit get`).
 * Requests and responses are parsed by Node's llhttp (through `node:http`); sockit accepts,
 * dials, limits and traces the connections. Mount a handler of your own with {@link serveHttp}.
 *
 * @example
 * ```ts
 * import { serveHttp, staticHandler } from "sockit/services/http";
 * const srv = await serveHttp({ address: "127.0.0.1:0", handler: staticHandler({ root: "public" }) });
 * console.log(`http://${srv.address}/`);
 * await srv.close();
 * ```
 * @module
 */
export { type GetOptions, HttpError, type HttpResponse, httpGet, parseHttpUrl } from "./client.js";
export { ConnDuplex, type DuplexConn } from "./duplex.js";
export {
  type AccessRecord,
  type ByteRange,
  commonLog,
  escapeHtml,
  etagOf,
  type ListingEntry,
  listingHtml,
  notModified,
  parseRange,
  rangeApplies,
  sortEntries,
  type TargetPath,
  targetPath,
  wantsJson,
} from "./protocol.js";
export {
  DEFAULT_HTTP_LIMITS,
  type HttpCounters,
  type HttpEvent,
  type HttpHandler,
  type HttpLimits,
  HttpServer,
  type HttpServerOptions,
  serveHttp,
} from "./server.js";
export { type StaticOptions, staticHandler } from "./static.js";
