/**
 * JSON-RPC 2.0 over TCP and Unix sockets (`sockit/jsonrpc`): a server with methods,
 * notifications, batches, limits and timeouts; a client with many calls in flight on one
 * connection, batches, a typed proxy and optional reconnect. See docs/rpc.md.
 *
 * @example
 * ```ts
 * import { JsonRpcServer, connect } from "sockit/jsonrpc";
 * const server = new JsonRpcServer().method("add", ([a, b]) => a + b);
 * const ln = await server.listen("tcp://127.0.0.1:0");
 * const client = await connect(`tcp://${ln.address}`);
 * console.log(await client.call("add", [1, 2])); // 3
 * await client.close();
 * await ln.close();
 * ```
 * @module
 */

export { connect, JsonRpcClient } from "./client.js";
export type { BatchItem, BatchResult, RpcCallOptions, RpcClientOptions, RpcProxy } from "./client-types.js";
export { ErrorCode, RpcError } from "./errors.js";
export type {
  JsonRpcErrorObject,
  JsonRpcId,
  JsonRpcParams,
  JsonRpcRequest,
  JsonRpcResponse,
} from "./protocol.js";
export {
  JsonRpcServer,
  type MethodContext,
  type MethodHandler,
  type RpcListener,
  type RpcServerOptions,
} from "./server.js";
export type { Framing, RpcStream, SocketLike } from "./transport.js";
