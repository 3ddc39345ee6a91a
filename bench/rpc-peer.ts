/**
 * The server side of the `rpc` figure, run as a forked child (see `Peer` in lib.ts) so the
 * measured client has a core to itself. Request: `rpc-server {mode}` starts a JSON-RPC server
 * with one method, `add`, on 127.0.0.1 and replies `{port}`. `sockit`: `JsonRpcServer` (default
 * options but `concurrency: 64`); `jayson`: `jayson.Server(...).tcp()`.
 *
 * @module
 */
import type { AddressInfo } from "node:net";
import jayson from "jayson";
import { JsonRpcServer } from "../src/jsonrpc/index.js";
import { HOST, type Msg, serve } from "./lib.js";

async function start(m: Msg): Promise<Record<string, unknown>> {
  if (m.cmd !== "rpc-server") throw new Error(`unknown request ${String(m.cmd)}`);
  if (m.mode === "sockit") {
    const s = new JsonRpcServer({ concurrency: 64 }).method("add", ([a, b]: [number, number]) => a + b);
    const ln = await s.listen(`tcp://${HOST}:0`);
    return { port: ln.port };
  }
  const server = new jayson.Server({
    add: (args: [number, number], cb: (e: unknown, r?: unknown) => void) => cb(null, args[0] + args[1]),
  });
  const tcp = server.tcp();
  await new Promise<void>((resolve) => tcp.listen(0, HOST, resolve));
  return { port: (tcp.address() as AddressInfo).port };
}

serve(start);
