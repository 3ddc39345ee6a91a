/**
 * `RpcError`: an error a JSON-RPC peer answered with (or a server method throws to answer with
 * one), and the error codes of the specification.
 *
 * @module
 */

/**
 * The error codes JSON-RPC 2.0 defines (section 5.1), and the one sockit's server adds in the
 * range the specification reserves for implementations (-32000 to -32099).
 *
 * @example
 * ```ts
 * if (err instanceof RpcError && err.code === ErrorCode.MethodNotFound) console.log("no such method");
 * ```
 */
export const ErrorCode = {
  /** Invalid JSON was received. */
  ParseError: -32700,
  /** The JSON sent is not a valid Request object (or the message is past the size limit). */
  InvalidRequest: -32600,
  /** The method does not exist. */
  MethodNotFound: -32601,
  /** Invalid method parameters. */
  InvalidParams: -32602,
  /** The method failed (it threw something that is not an RpcError). */
  InternalError: -32603,
  /** sockit: the method did not finish within the server's request timeout. */
  RequestTimeout: -32001,
} as const;

/**
 * A JSON-RPC error object as an Error: the client rejects a call with it when the server answers
 * `{"error": {code, message, data}}`; a server method throws one to answer with that error.
 *
 * @example
 * ```ts
 * server.method("divide", ([a, b]) => {
 *   if (b === 0) throw new RpcError(-32000, "division by zero", { a });
 *   return a / b;
 * });
 * try { await client.call("divide", [1, 0]); }
 * catch (e) { if (e instanceof RpcError) console.log(e.code, e.message, e.data); }
 * ```
 */
export class RpcError extends Error {
  /** The JSON-RPC error code (an integer; see {@link ErrorCode}). */
  readonly code: number;
  /** The error's `data` member, if it had one. */
  readonly data: unknown;

  /** `code` must be an integer; `data` is sent only when given. */
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = "RpcError";
    this.code = Number.isInteger(code) ? code : ErrorCode.InternalError;
    this.data = data;
  }

  /**
   * A -32602 "Invalid params" error, for methods that check their arguments.
   * @example `if (typeof a !== "number") throw RpcError.invalidParams("a must be a number");`
   */
  static invalidParams(detail: string): RpcError {
    return new RpcError(ErrorCode.InvalidParams, "Invalid params", detail);
  }

  /** The error object sent on the wire. */
  toJSON(): { code: number; message: string; data?: unknown } {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}
