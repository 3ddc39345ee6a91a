/**
 * sockit's error model (layer L0). See `docs/errors.md` for every class and code.
 * @module
 */
export * from "./args.js";
export * from "./codec.js";
export * from "./eof.js";
export * from "./linux.js";
export * from "./oserror.js";
export * from "./closed.js";
export * from "./ssl.js";
