/**
 * Layer L1 — address forms and resolution: constants, inet_pton/ntop/aton/ntoa and byte-order
 * helpers, service names, host/port normalisation and formatting, and getaddrinfo & co.
 *
 * @example
 * ```ts
 * import { getaddrinfo, parseHostPort, normalizePort, AF_INET, SOCK_STREAM } from "./addr/index.js";
 * const { host, port } = parseHostPort("localhost:http");
 * const [[family, type, proto, , sockaddr]] = await getaddrinfo(host, normalizePort(port), AF_INET, SOCK_STREAM);
 * ```
 * @module
 */
export * from "./address.js";
export * from "./constants.js";
export * from "./inet.js";
export * from "./numeric.js";
export * from "./resolve.js";
export * from "./services.js";
export * from "./servtuples.js";
