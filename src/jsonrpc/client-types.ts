/**
 * The types of the JSON-RPC client's calls (options, batches, the typed proxy) and the one check
 * of params every call makes.
 *
 * @module
 */
import { argTypeError } from "../errors/index.js";
import type { TLSOptions } from "../net/index.js";
import type { JsonRpcParams } from "./protocol.js";
import type { Framing } from "./transport.js";

/**
 * Options of one call.
 *
 * @example
 * ```ts
 * await client.call("sleep", [100], { timeout: 1000, signal: AbortSignal.timeout(5000) });
 * ```
 */
export interface RpcCallOptions {
  /** Reject TimeoutError (ETIMEDOUT) after this many ms without a reply (default: the client's). */
  readonly timeout?: number;
  /** Abort the wait (rejects InterruptedError); the server is not told. */
  readonly signal?: AbortSignal;
}

/**
 * Options of {@link JsonRpcClient} and {@link connect}.
 *
 * @example
 * ```ts
 * const client = await connect("unix:/tmp/rpc.sock", { timeout: 5000, reconnect: true });
 * ```
 */
export interface RpcClientOptions {
  /** Default per-call timeout in ms (default 30000; 0: none). */
  readonly timeout?: number;
  /** Framing (default "auto": sends one JSON value per line, reads values with or without newlines). */
  readonly framing?: Framing;
  /** Largest reply in bytes (default 1 MiB). */
  readonly maxMessage?: number;
  /** With {@link connect}: after the connection is lost, the next call dials again. */
  readonly reconnect?: boolean;
  /** With {@link connect}: connect timeout in ms (default 10000; the TLS handshake included). */
  readonly connectTimeout?: number;
  /**
   * With {@link connect}: JSON-RPC over TLS (verified by default): `ca` (PEM added to the roots),
   * `serverName`, `rejectUnauthorized: false` to skip verification. `{}` for the system roots.
   */
  readonly tls?: TLSOptions;
}

/**
 * One entry of {@link JsonRpcClient.batch}: a call, or a notification (`notify: true`).
 *
 * @example `const item: BatchItem = { method: "add", params: [1, 2] };`
 */
export interface BatchItem {
  readonly method: string;
  readonly params?: JsonRpcParams;
  readonly notify?: boolean;
}

/**
 * The outcome of one call of a batch, in the order of the calls (notifications have none).
 *
 * @example
 * ```ts
 * for (const r of await client.batch(items)) console.log(r.ok ? r.result : r.error.message);
 * ```
 */
export type BatchResult =
  { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: Error };

/**
 * The methods of `Api` as remote calls: each takes the same arguments (sent as positional
 * params) and returns a promise of its result.
 *
 * @example
 * ```ts
 * interface Api { add(a: number, b: number): number; echo(s: string): string }
 * const api: RpcProxy<Api> = client.proxy<Api>();
 * const n: number = await api.add(1, 2);
 * ```
 */
export type RpcProxy<Api> = {
  readonly [K in keyof Api]: Api[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

/**
 * Params as the specification allows them: absent, an array or an object (a TypeError otherwise).
 * @example `checkParams([1, 2]); checkParams({ a: 1 }); checkParams(undefined)`
 */
export function checkParams(params: unknown, name = "params"): void {
  if (params !== undefined && (typeof params !== "object" || params === null))
    throw argTypeError(name, "an array (positional) or an object (named), or nothing", params);
}
