/**
 * The run steps of `sockit serve rpc` and `sockit rpc call`, and the demo API. Loaded by
 * `commands/rpc.ts` only when one of those commands runs, so the JSON-RPC library and its codecs
 * are not part of every command's start-up.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "../../jsonrpc/client.js";
import { RpcError } from "../../jsonrpc/errors.js";
import { JsonRpcServer } from "../../jsonrpc/server.js";
import { type RpcCallPlan, type ServeRpcPlan, SLEEP_MAX_MS } from "../commands/rpc.js";
import { busyPortError } from "../commands/serve.js";
import type { Context } from "../context.js";
import { EXIT } from "../exit.js";
import { waitForStop } from "../session/stop.js";
import { clientTLS, serverTLS } from "../tls.js";

function numbers(method: string, p: unknown, names: [string, string]): [number, number] {
  const pair = Array.isArray(p)
    ? [p[0], p[1]]
    : typeof p === "object" && p !== null
      ? [(p as Record<string, unknown>)[names[0]], (p as Record<string, unknown>)[names[1]]]
      : [];
  const ok = (Array.isArray(p) ? p.length === 2 : true) && pair.length === 2;
  if (!ok || typeof pair[0] !== "number" || typeof pair[1] !== "number")
    throw RpcError.invalidParams(
      `${method} takes two numbers: [${names[0]}, ${names[1]}] or {"${names[0]}": …, "${names[1]}": …}`,
    );
  return [pair[0], pair[1]];
}

/**
 * The demo API of `sockit serve rpc`, on `server`: `echo` (returns its params), `add` ([a, b] or
 * {a, b}), `subtract` ([minuend, subtrahend] or named), `time` (the server's clock, ISO 8601),
 * `sleep` ([ms], at most 60000; returns ms after waiting).
 *
 * @example `demoMethods(new JsonRpcServer()).methods // ["echo", "add", "subtract", "time", "sleep"]`
 */
export function demoMethods(server: JsonRpcServer): JsonRpcServer {
  return server
    .method("echo", (p: unknown) => p ?? null)
    .method("add", (p: unknown) => {
      const [a, b] = numbers("add", p, ["a", "b"]);
      return a + b;
    })
    .method("subtract", (p: unknown) => {
      const [a, b] = numbers("subtract", p, ["minuend", "subtrahend"]);
      return a - b;
    })
    .method("time", () => new Date().toISOString())
    .method("sleep", async (p: unknown, { signal }) => {
      const ms = Array.isArray(p) ? p[0] : (p as { ms?: unknown } | undefined)?.ms;
      if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0 || ms > SLEEP_MAX_MS)
        throw RpcError.invalidParams(`sleep takes [ms], an integer 0..${SLEEP_MAX_MS}`);
      await sleep(ms, undefined, { signal });
      return ms;
    });
}

/** Serves the demo API until SIGINT/SIGTERM (or `stop`); resolves 0. */
export async function runServeRpc(plan: ServeRpcPlan, ctx: Context, stop?: AbortSignal): Promise<number> {
  const server = demoMethods(
    new JsonRpcServer({
      framing: plan.framing,
      ...(plan.maxMessage === undefined ? {} : { maxMessage: plan.maxMessage }),
      ...(plan.concurrency === undefined ? {} : { concurrency: plan.concurrency }),
      ...(plan.timeoutMs === undefined ? {} : { timeout: plan.timeoutMs }),
    }),
  );
  // without --cert/--key: a fresh self-signed certificate, its fingerprint on stderr
  const tls = serverTLS(plan.tlsFlags, ctx);
  const ln = await server.listen(plan.address, tls === undefined ? {} : { tls }).catch((err: unknown) => {
    throw busyPortError(err);
  });
  const { stopped, dispose } = waitForStop(stop);
  const unix = plan.address.startsWith("unix:");
  const where = unix ? `unix:${ln.address}` : ln.address;
  const trust =
    tls === undefined
      ? ""
      : plan.tlsFlags.cert === undefined
        ? "--tls --insecure "
        : `--tls --ca ${plan.tlsFlags.cert} `;
  const tryIt = [
    `sockit rpc call ${trust}${where} add '[1, 2]'`,
    tls !== undefined
      ? `echo '{"jsonrpc":"2.0","method":"time","id":1}' | ncat --ssl ${ln.address.replace(/^\[?(.*?)\]?:(\d+)$/, "$1 $2")}`
      : unix
        ? `echo '{"jsonrpc":"2.0","method":"time","id":1}' | nc -U -q1 ${ln.address}`
        : `echo '{"jsonrpc":"2.0","method":"time","id":1}' | nc -q1 ${ln.address.replace(/^\[?(.*?)\]?:(\d+)$/, "$1 $2")}`,
  ];
  if (ctx.opts.json)
    ctx.io.stdout.write(
      `${JSON.stringify({ listening: where, tls: tls !== undefined, framing: plan.framing, methods: server.methods, try: tryIt })}\n`,
    );
  else
    ctx.io.stdout.write(
      `JSON-RPC 2.0 (${plan.framing === "auto" ? "newline-delimited JSON" : plan.framing}${tls === undefined ? "" : ", over TLS"}) on ${where}\n` +
        `methods: ${server.methods.join(", ")}\n` +
        `try it from another terminal:  ${tryIt.join("\n                               or: ")}\n`,
    );
  ctx.err("sockit: serving JSON-RPC; Ctrl-C stops\n");
  const sig = await stopped;
  dispose();
  ctx.err(`sockit: ${sig === "stop" ? "stopping" : `${sig}: shutting down`}\n`);
  await ln.close();
  return EXIT.OK;
}

/**
 * Calls the method and prints its result as JSON (with --json: the whole response); an error
 * answer is printed as JSON too, and exits 7.
 */
export async function runRpcCall(plan: RpcCallPlan, ctx: Context): Promise<number> {
  const tls = clientTLS(plan.tlsFlags, ctx);
  const client = await connect(plan.address, {
    framing: plan.framing,
    timeout: plan.timeoutMs,
    ...(tls === undefined ? {} : { tls }),
  });
  ctx.info(`connected to ${plan.address}`);
  const out = (v: unknown): void => void ctx.io.stdout.write(`${JSON.stringify(v)}\n`);
  try {
    if (plan.notify) {
      await client.notify(plan.method, plan.params);
      ctx.info(`sent notification ${plan.method} (no reply expected)`);
      return EXIT.OK;
    }
    try {
      const result = await client.call(plan.method, plan.params);
      out(ctx.opts.json ? { jsonrpc: "2.0", result, id: 1 } : result);
      return EXIT.OK;
    } catch (err) {
      if (!(err instanceof RpcError)) throw err;
      out(ctx.opts.json ? { jsonrpc: "2.0", error: err.toJSON(), id: 1 } : err.toJSON());
      ctx.err(`sockit: ${plan.method}: the server answered error ${err.code} (${err.message})\n`);
      return EXIT.RPC;
    }
  } finally {
    // half-close and let the server close first: nothing is cut off, and --trace shows the
    // textbook ending (shutdown, recv = 0, close)
    await client.end();
  }
}
