/**
 * JSON-RPC 2.0 messages, pure (no sockets, no timers): the shapes of requests and responses,
 * and the checks that turn a parsed JSON value into a request or an error response.
 *
 * @module
 */
import { ErrorCode, RpcError } from "./errors.js";

/**
 * A request id: a string, a number, or null (discouraged by the specification, but valid).
 * @example `const id: JsonRpcId = 1;`
 */
export type JsonRpcId = string | number | null;

/**
 * Positional (an array) or named (an object) parameters.
 * @example `const p: JsonRpcParams = { subtrahend: 23, minuend: 42 };`
 */
export type JsonRpcParams = readonly unknown[] | Readonly<Record<string, unknown>>;

/**
 * A request (with an `id`: the server answers) or a notification (no `id`: it does not).
 * @example `const r: JsonRpcRequest = { jsonrpc: "2.0", method: "subtract", params: [42, 23], id: 1 };`
 */
export interface JsonRpcRequest {
  readonly jsonrpc: "2.0";
  readonly method: string;
  readonly params?: JsonRpcParams;
  readonly id?: JsonRpcId;
}

/**
 * An error object, as sent on the wire.
 * @example `const e: JsonRpcErrorObject = { code: -32601, message: "Method not found" };`
 */
export interface JsonRpcErrorObject {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

/**
 * A response: a `result` or an `error`, with the request's id.
 * @example `const r: JsonRpcResponse = { jsonrpc: "2.0", result: 19, id: 1 };`
 */
export type JsonRpcResponse =
  | { readonly jsonrpc: "2.0"; readonly result: unknown; readonly id: JsonRpcId }
  | { readonly jsonrpc: "2.0"; readonly error: JsonRpcErrorObject; readonly id: JsonRpcId };

/** An error response. */
export function errorResponse(id: JsonRpcId, err: RpcError | JsonRpcErrorObject): JsonRpcResponse {
  const e = err instanceof RpcError ? err.toJSON() : err;
  return { jsonrpc: "2.0", error: e, id };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const isId = (v: unknown): v is JsonRpcId =>
  v === null || typeof v === "string" || (typeof v === "number" && Number.isFinite(v));

/**
 * Checks one parsed value as a request. Returns the request, or an RpcError (-32600) with the id
 * to answer with (the request's id when it had a usable one, else null).
 */
export function checkRequest(v: unknown): JsonRpcRequest | { error: RpcError; id: JsonRpcId } {
  if (!isObject(v)) return { error: invalid("a request must be a JSON object"), id: null };
  const id = Object.hasOwn(v, "id") ? v.id : undefined;
  const answerId = isId(id) ? id : null;
  if (v.jsonrpc !== "2.0") return { error: invalid('"jsonrpc" must be exactly "2.0"'), id: answerId };
  if (typeof v.method !== "string") return { error: invalid('"method" must be a string'), id: answerId };
  if (id !== undefined && !isId(id))
    return { error: invalid('"id" must be a string, a number or null'), id: null };
  const params = v.params;
  if (params !== undefined && (typeof params !== "object" || params === null))
    return { error: invalid('"params" must be an array or an object'), id: answerId };
  return v as unknown as JsonRpcRequest;
}

function invalid(detail: string): RpcError {
  return new RpcError(ErrorCode.InvalidRequest, "Invalid Request", detail);
}

/**
 * Checks one parsed value as a response (what a client reads). Returns undefined when it is not
 * one (the client ignores it).
 */
export function checkResponse(v: unknown): JsonRpcResponse | undefined {
  if (!isObject(v) || v.jsonrpc !== "2.0" || !Object.hasOwn(v, "id") || !isId(v.id)) return undefined;
  const hasResult = Object.hasOwn(v, "result");
  const e = v.error;
  if (hasResult === (e !== undefined)) return undefined;
  if (!hasResult && (!isObject(e) || !Number.isInteger(e.code) || typeof e.message !== "string"))
    return undefined;
  return v as unknown as JsonRpcResponse;
}
