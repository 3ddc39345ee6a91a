/**
 * JSON-RPC 2.0 from the command line: `sockit serve rpc [ADDRESS]` (a small demo API: echo, add,
 * subtract, time, sleep; on 127.0.0.1:7070 by default) and `sockit rpc call ADDRESS METHOD
 * [JSON]` (prints the result, or the error, as JSON); both over TLS with `--tls`.
 *
 * @module
 */
import type { Command } from "commander";
import { parseRpcAddress } from "../../jsonrpc/address.js";
import type { Framing } from "../../jsonrpc/transport.js";
import { UsageError } from "../exit.js";
import { addGlobalOptions } from "../globals.js";
import type { TLSFlags } from "../tls.js";
import { parseHostPort, parseUnixPath } from "../session/address.js";
import type { CommandRegistry } from "./registry.js";

/** Where `sockit serve rpc` listens when no ADDRESS is given. */
export const DEFAULT_RPC_ADDRESS = "127.0.0.1:7070";
/** The longest `sleep` of the demo API (ms). */
export const SLEEP_MAX_MS = 60_000;

/** An ADDRESS argument checked the CLI's way (UsageError), as `tcp://HOST:PORT` or `unix:PATH`. */
export function rpcAddress(text: string, what: string, zero: boolean): string {
  let at: ReturnType<typeof parseRpcAddress>;
  try {
    at = parseRpcAddress(text);
  } catch {
    throw new UsageError(
      `${what} must be HOST:PORT, tcp://HOST:PORT or unix:/path, got ${JSON.stringify(text)}`,
    );
  }
  if (at.network === "unix") return `unix:${parseUnixPath(at.address, what)}`;
  const hp = parseHostPort(at.address, { zero, what });
  return `tcp://${hp.host.includes(":") ? `[${hp.host}]` : hp.host}:${hp.port}`;
}

function framingOf(text: string | undefined): Framing {
  const f = text ?? "auto";
  if (f !== "auto" && f !== "ndjson" && f !== "content-length")
    throw new UsageError(`--framing must be auto, ndjson or content-length, got ${f}`);
  return f;
}

function intOption(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new UsageError(`--${flag} must be an integer ${min}..${max}, got ${text}`);
  return n;
}

function secondsOption(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n > 2_000_000)
    throw new UsageError(`--${flag} must be a number of seconds (0: none), got ${text}`);
  return Math.round(n * 1000);
}

/** What `serve rpc` will do. */
export interface ServeRpcPlan {
  readonly address: string;
  readonly framing: Framing;
  readonly maxMessage: number | undefined;
  readonly concurrency: number | undefined;
  readonly timeoutMs: number | undefined;
  /** `--tls`, `--cert`, `--key` (the files are read when the command runs). */
  readonly tlsFlags: TLSFlags;
}

/**
 * `serve rpc`'s arguments as a plan (pure; throws UsageError).
 * @example `planServeRpc(undefined, {}).address // "tcp://127.0.0.1:7070"`
 */
export function planServeRpc(
  address: string | undefined,
  o: {
    framing?: string;
    maxMessage?: string;
    concurrency?: string;
    timeout?: string;
    tls?: boolean;
    cert?: string;
    key?: string;
  },
): ServeRpcPlan {
  const at = rpcAddress(address ?? DEFAULT_RPC_ADDRESS, "ADDRESS", true);
  if (o.tls === true && at.startsWith("unix:"))
    throw new UsageError("--tls needs a TCP address (a Unix socket stays on this machine)");
  return {
    address: at,
    framing: framingOf(o.framing),
    maxMessage: intOption("max-message", o.maxMessage, 2, 2 ** 30),
    concurrency: intOption("concurrency", o.concurrency, 1, 1 << 20),
    timeoutMs: secondsOption("timeout", o.timeout),
    tlsFlags: { tls: o.tls === true, cert: o.cert, key: o.key } as TLSFlags,
  };
}

/** What `rpc call` will do. */
export interface RpcCallPlan {
  readonly address: string;
  readonly method: string;
  readonly params: unknown[] | Record<string, unknown> | undefined;
  readonly framing: Framing;
  readonly timeoutMs: number;
  readonly notify: boolean;
  /** `--tls`, `--ca`, `--servername`, `--insecure` (the files are read when the command runs). */
  readonly tlsFlags: TLSFlags;
}

/**
 * `rpc call`'s arguments as a plan (pure; throws UsageError).
 * @example `planRpcCall("127.0.0.1:7070", "add", "[1,2]", {}).params // [1, 2]`
 */
export function planRpcCall(
  address: string,
  method: string,
  json: string | undefined,
  o: {
    framing?: string;
    timeout?: string;
    notify?: boolean;
    tls?: boolean;
    ca?: string;
    servername?: string;
    insecure?: boolean;
  },
): RpcCallPlan {
  let params: unknown;
  if (json !== undefined) {
    try {
      params = JSON.parse(json);
    } catch (err) {
      throw new UsageError(`JSON is not valid JSON (${(err as Error).message}): ${json}`);
    }
    if (typeof params !== "object" || params === null)
      throw new UsageError(
        `JSON must be an array (positional params) or an object (named params), got ${json}`,
      );
  }
  const at = rpcAddress(address, "ADDRESS", false);
  if (o.tls === true && at.startsWith("unix:"))
    throw new UsageError("--tls needs a TCP address (a Unix socket stays on this machine)");
  return {
    address: at,
    method,
    params: params as RpcCallPlan["params"],
    framing: framingOf(o.framing),
    timeoutMs: secondsOption("timeout", o.timeout) ?? 30_000,
    notify: o.notify === true,
    tlsFlags: {
      tls: o.tls === true,
      ca: o.ca,
      servername: o.servername,
      insecure: o.insecure === true,
    } as TLSFlags,
  };
}

/**
 * Where `serve rpc` listens: ADDRESS, or `serve`'s own `--host H` and `--port N` (a number: the
 * RFC services' `--port NAME=N` form and their other flags mean nothing here and are refused,
 * never ignored).
 * @example `rpcListenAddress(undefined, serve) // "127.0.0.1:7070" unless --host/--port were given`
 */
export function rpcListenAddress(address: string | undefined, serve: Command): string | undefined {
  const given = (name: string) => serve.getOptionValueSource(name) === "cli";
  for (const flag of serve.options) {
    const name = flag.attributeName();
    if (name === "host" || name === "port" || !given(name)) continue;
    throw new UsageError(`${flag.long ?? flag.flags} is an option of the RFC services, not of serve rpc`);
  }
  const host = given("host") ? String(serve.getOptionValue("host")) : undefined;
  const ports = given("port") ? (serve.getOptionValue("port") as unknown) : undefined;
  const port = Array.isArray(ports) ? ports.at(-1) : ports;
  if (host === undefined && port === undefined) return address;
  if (address !== undefined) throw new UsageError("give serve rpc either ADDRESS or --host/--port, not both");
  if (port !== undefined && !/^\d+$/.test(String(port)))
    throw new UsageError(`--port for serve rpc must be a port number (0: any), got ${String(port)}`);
  const [dh, dp] = [
    DEFAULT_RPC_ADDRESS.slice(0, DEFAULT_RPC_ADDRESS.lastIndexOf(":")),
    DEFAULT_RPC_ADDRESS.slice(DEFAULT_RPC_ADDRESS.lastIndexOf(":") + 1),
  ];
  const h = host ?? dh;
  return `${h.includes(":") && !h.startsWith("[") ? `[${h}]` : h}:${port === undefined ? dp : String(port)}`;
}

/** Adds `serve rpc` (under `serve`) and `rpc call` to the program. */
export function register(program: Command, reg: CommandRegistry): void {
  const serve = program.commands.find((c) => c.name() === "serve");
  if (serve === undefined) throw new Error("register serve before rpc");
  const srv = addGlobalOptions(serve.command("rpc"), { json: true })
    .description(
      `a JSON-RPC 2.0 server with a demo API (echo, add, subtract, time, sleep), on ${DEFAULT_RPC_ADDRESS} by default`,
    )
    .argument(
      "[address]",
      `HOST:PORT, tcp://HOST:PORT or unix:/path (default ${DEFAULT_RPC_ADDRESS}; port 0: any)`,
    )
    .option(
      "--framing <kind>",
      "auto (JSON values, newline-delimited or not), ndjson or content-length",
      "auto",
    )
    .option("--max-message <bytes>", "largest request or batch (default 1048576)")
    .option("--concurrency <n>", "requests of one connection running at once (default 16)")
    .option("--timeout <seconds>", "a method running longer is answered -32001 (default 30; 0: none)")
    .option(
      "--tls",
      "JSON-RPC over TLS (without --cert/--key: a fresh self-signed certificate, its fingerprint printed)",
    )
    .option("--cert <file>", "with --tls: the certificate chain (PEM)")
    .option("--key <file>", "with --tls: its private key (PEM)")
    .addHelpText(
      "after",
      `
Methods: echo (returns its params), add [a, b], subtract [minuend, subtrahend] (or named),
time (the server's clock, ISO 8601), sleep [ms] (at most ${SLEEP_MAX_MS}).

Examples:
  sockit serve rpc                         on ${DEFAULT_RPC_ADDRESS}
  sockit serve rpc unix:/tmp/rpc.sock      on a Unix socket
  sockit serve rpc 127.0.0.1:0 --json      any free port; what listens where as JSON
  sockit serve rpc --tls --cert cert.pem --key key.pem    over TLS (sockit cert create makes them)
  sockit rpc call ${DEFAULT_RPC_ADDRESS} subtract '{"minuend": 42, "subtrahend": 23}'`,
    );
  srv.action((address: string | undefined, opts: Record<string, string | undefined>) => {
    reg.choose(srv, async (ctx) => {
      const plan = planServeRpc(rpcListenAddress(address, serve), opts);
      // the run step (and the JSON-RPC library) loads only for this command: start-up stays light
      const { runServeRpc } = await import("../rpc/run.js");
      return runServeRpc(plan, ctx);
    });
  });

  const rpc = addGlobalOptions(program.command("rpc"), { json: false }).description(
    "JSON-RPC 2.0 client: sockit rpc call ADDRESS METHOD [JSON]",
  );
  const call = addGlobalOptions(rpc.command("call"), { json: true })
    .description("call METHOD on the JSON-RPC server at ADDRESS and print the result (or the error) as JSON")
    .argument("<address>", "HOST:PORT, tcp://HOST:PORT or unix:/path")
    .argument("<method>", "the method's name")
    .argument("[json]", "params: a JSON array (positional) or object (named)")
    .option("--framing <kind>", "auto (newline-delimited JSON), ndjson or content-length", "auto")
    .option("-t, --timeout <seconds>", "give up after SECONDS without a reply: exit 4 (default 30; 0: none)")
    .option("-n, --notify", "send a notification (no id): the server answers nothing; print nothing")
    .option("--tls", "JSON-RPC over TLS (the server's certificate is verified)")
    .option("--ca <file>", "with --tls: also trust the CA certificate(s) in FILE (PEM)")
    .option("--servername <name>", "with --tls: the name to ask for and check (default: the host in ADDRESS)")
    .option("--insecure", "with --tls: do NOT verify the server's certificate (prints a warning)")
    .addHelpText(
      "after",
      `
Output: the result as one line of JSON on stdout (--json: the whole response object). An error
answer is printed as its JSON error object ({"code", "message", "data"}) and exits 7.

Examples:
  sockit rpc call ${DEFAULT_RPC_ADDRESS} add '[1, 2]'                  3
  sockit rpc call unix:/tmp/rpc.sock time                     "2026-01-01T12:00:00.000Z"
  sockit rpc call ${DEFAULT_RPC_ADDRESS} nope                          {"code":-32601,...}, exit 7
  sockit rpc call --tls --ca cert.pem localhost:7070 time     over TLS; exit 3 if the certificate does not verify`,
    );
  call.action((address: string, method: string, json: string | undefined, opts: Record<string, unknown>) => {
    reg.choose(call, async (ctx) => {
      const plan = planRpcCall(address, method, json, opts as Parameters<typeof planRpcCall>[3]);
      const { runRpcCall } = await import("../rpc/run.js");
      return runRpcCall(plan, ctx);
    });
  });
}
