/**
 * The core (layer L2): pull-based transports over node:net, shared by both faces.
 * @module
 */
export * from "./endpoint.js";
export * from "./fd.js";
export * from "./listener.js";
export * from "./stream.js";
export * from "./wait.js";
export * from "./tls.js";
export * from "./cert.js";
