/**
 * `sockit serve http [DIR]`: a static file server on 127.0.0.1:8000 by default (HTTPS with
 * `--tls`, on 8443 by default), with an access log in Common Log Format on stdout. Its client is `sockit get` (get.ts).
 *
 * @module
 */
import { stat } from "node:fs/promises";
import { resolve as resolvePath } from "node:path";
import type { Command } from "commander";
// the server and its Content-Type table load when serve http runs (start-up stays light)
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from "../../services/http/server.js";
import type { Context } from "../context.js";
import { EXIT, UsageError } from "../exit.js";
import { addGlobalOptions } from "../globals.js";
import { waitForStop } from "../session/stop.js";
import { serverTLS, type TLSFlags } from "../tls.js";
import type { CommandRegistry } from "./registry.js";
import { busyPortError } from "./serve.js";

/** Where `sockit serve http` listens when no --host/--port is given. */
export const DEFAULT_HTTP_HOST = "127.0.0.1";
/** The default port of `sockit serve http` (as `python3 -m http.server`). */
export const DEFAULT_HTTP_PORT = 8000;
/** The default port of `sockit serve http --tls`. */
export const DEFAULT_HTTPS_PORT = 8443;

/** What `serve http` will do. */
export interface ServeHttpPlan {
  readonly address: string;
  readonly root: string;
  readonly cors: boolean;
  readonly quiet: boolean;
  readonly dotfiles: boolean;
  readonly followSymlinks: boolean;
  readonly limits: HttpLimits;
  /** `--tls`, `--cert`, `--key` (the files are read when the command runs). */
  readonly tlsFlags: TLSFlags | undefined;
}

/** `serve http`'s own options as commander hands them over. */
export interface ServeHttpOptions {
  cors?: boolean;
  quiet?: boolean;
  dotfiles?: boolean;
  followSymlinks?: boolean;
  maxHeaderSize?: string;
  maxHeaders?: string;
  requestTimeout?: string;
  sendTimeout?: string;
  tls?: boolean;
  cert?: string;
  key?: string;
}

/** The options of `serve` that `serve http` takes: the flag → its limit and unit factor. */
const SERVE_LIMITS: Readonly<Record<string, { key: keyof HttpLimits; scale: number }>> = {
  maxConns: { key: "maxConnections", scale: 1 },
  maxPerSource: { key: "maxPerSource", scale: 1 },
  idle: { key: "keepAliveMs", scale: 1000 },
  backlog: { key: "backlog", scale: 1 },
  grace: { key: "graceMs", scale: 1000 },
};

/** The options every command has (see globals.ts): given to `serve`, they are not serve's own. */
const GLOBAL_OPTIONS = new Set(["verbose", "hexdump", "trace", "traceJson", "color", "json"]);

function number(flag: string, text: string, min: number, max: number, integer: boolean): number {
  const n = Number(text);
  const ok = (integer ? /^\d+$/ : /^\d+(\.\d+)?$/).test(text);
  if (!ok || n < min || n > max)
    throw new UsageError(
      `--${flag} must be ${integer ? "an integer" : "a number"} ${min}..${max}, got ${text}`,
    );
  return n;
}

/**
 * `serve http`'s arguments as a plan (pure; throws UsageError). `parent` holds what was given to
 * `serve` itself: `--host`, `--port` (a number), and the limits `--max-conns`,
 * `--max-per-source`, `--idle` (keep-alive seconds), `--backlog`, `--grace`; the RFC services'
 * other flags are refused, never ignored.
 *
 * @example `planServeHttp(undefined, {}, {}).address // "127.0.0.1:8000"`
 */
export function planServeHttp(
  dir: string | undefined,
  o: ServeHttpOptions,
  parent: Readonly<Record<string, unknown>>,
): ServeHttpPlan {
  const limits: Record<string, number> = { ...DEFAULT_HTTP_LIMITS };
  let host = DEFAULT_HTTP_HOST;
  let port = o.tls === true ? DEFAULT_HTTPS_PORT : DEFAULT_HTTP_PORT;
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined || GLOBAL_OPTIONS.has(name)) continue;
    if (name === "host") host = String(value);
    else if (name === "port") {
      const p = Array.isArray(value) ? value.at(-1) : value;
      port = number("port", String(p), 0, 65535, true);
    } else if (name in SERVE_LIMITS) {
      const { key, scale } = SERVE_LIMITS[name]!;
      const flag = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      limits[key] = Math.round(
        number(flag, String(value), scale === 1 ? 1 : 0.001, 2 ** 31, scale === 1) * scale,
      );
    } else {
      const flag = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      throw new UsageError(`--${flag} is an option of the RFC services, not of serve http`);
    }
  }
  if (host === "") throw new UsageError("--host is empty");
  if (o.tls !== true && (o.cert !== undefined || o.key !== undefined))
    throw new UsageError("--cert and --key need --tls");
  if (o.maxHeaderSize !== undefined)
    limits.maxHeaderSize = number("max-header-size", o.maxHeaderSize, 1024, 1 << 24, true);
  if (o.maxHeaders !== undefined) limits.maxHeaders = number("max-headers", o.maxHeaders, 1, 10_000, true);
  if (o.requestTimeout !== undefined)
    limits.requestTimeoutMs = Math.round(
      number("request-timeout", o.requestTimeout, 0.05, 86_400, false) * 1000,
    );
  if (o.sendTimeout !== undefined)
    limits.sendTimeoutMs = Math.round(number("send-timeout", o.sendTimeout, 0.05, 86_400, false) * 1000);
  return {
    address: `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`,
    root: resolvePath(dir ?? "."),
    cors: o.cors === true,
    quiet: o.quiet === true,
    dotfiles: o.dotfiles === true,
    followSymlinks: o.followSymlinks === true,
    limits: limits as unknown as HttpLimits,
    tlsFlags:
      o.tls === true
        ? {
            tls: true,
            ...(o.cert === undefined ? {} : { cert: o.cert }),
            ...(o.key === undefined ? {} : { key: o.key }),
          }
        : undefined,
  };
}

/** Serves `plan.root` until SIGINT/SIGTERM (or `stop`); resolves 0. */
export async function runServeHttp(plan: ServeHttpPlan, ctx: Context, stop?: AbortSignal): Promise<number> {
  const st = await stat(plan.root).catch(() => undefined);
  if (!st?.isDirectory()) throw new UsageError(`DIR must be a directory, got ${plan.root}`);
  const out = ctx.io.stdout;
  // the log's reader may go away (`sockit serve http | head`): serving goes on, without the log
  let logging = !plan.quiet;
  const onOutError = (err: NodeJS.ErrnoException) => {
    if (!logging) return;
    logging = false;
    ctx.warn(`stdout failed (${err.code ?? err.message}): serving on without the access log`);
  };
  out.on("error", onOutError);
  // without --cert/--key: a fresh self-signed certificate, its fingerprint on stderr
  const tls = plan.tlsFlags === undefined ? undefined : serverTLS(plan.tlsFlags, ctx);
  const { serveHttp, staticHandler } = await import("../../services/http/index.js");
  const srv = await serveHttp({
    address: plan.address,
    handler: staticHandler({
      root: plan.root,
      cors: plan.cors,
      dotfiles: plan.dotfiles,
      followSymlinks: plan.followSymlinks,
    }),
    limits: plan.limits,
    ...(tls === undefined ? {} : { tls }),
    ...(plan.quiet
      ? {}
      : {
          log: (line: string) => {
            if (logging && !out.destroyed) out.write(`${line}\n`);
          },
        }),
    onEvent: (e) => {
      if (e.type !== "accepted" && e.type !== "closed") ctx.info(`${e.type} ${e.peer}: ${e.detail}`);
    },
  }).catch((err: unknown) => {
    throw busyPortError(err);
  });
  const { stopped, dispose } = waitForStop(stop);
  const url = `${tls === undefined ? "http" : "https"}://${srv.address}/`;
  if (ctx.opts.json) out.write(`${JSON.stringify({ listening: srv.address, url, root: plan.root })}\n`);
  else
    out.write(
      `Serving ${tls === undefined ? "HTTP" : "HTTPS"} on ${srv.address} (${url}) from ${plan.root}\n`,
    );
  const trust =
    tls === undefined
      ? ""
      : plan.tlsFlags?.cert === undefined
        ? " --insecure"
        : ` --ca ${plan.tlsFlags.cert}`;
  const curlTrust =
    tls === undefined ? "" : plan.tlsFlags?.cert === undefined ? " -k" : ` --cacert ${plan.tlsFlags.cert}`;
  ctx.err(
    `sockit: serving ${plan.root}; try: sockit get${trust} ${url}   or: curl${curlTrust} ${url}; Ctrl-C stops\n`,
  );
  const sig = await stopped;
  dispose();
  ctx.err(`sockit: ${sig === "stop" ? "stopping" : `${sig}: shutting down`}\n`);
  await srv.close();
  out.off("error", onOutError);
  const c = srv.counters;
  ctx.info(
    `counters: accepted=${c.accepted} refused=${c.refused} requests=${c.requests} bad=${c.badRequests} timeouts=${c.timeouts}`,
  );
  return EXIT.OK;
}

/** Adds `serve http` (under `serve`) to the program. */
export function register(program: Command, reg: CommandRegistry): void {
  const serve = program.commands.find((c) => c.name() === "serve");
  if (serve === undefined) throw new Error("register serve before http");
  const srv = addGlobalOptions(serve.command("http"), { json: true })
    .description(
      `a static HTTP/1.1 file server for DIR (default .) on ${DEFAULT_HTTP_HOST}:${DEFAULT_HTTP_PORT}, safe by default; an access log (Common Log Format) on stdout`,
    )
    .argument("[dir]", "the directory to serve (default: the current one)")
    .option("--cors", "add Access-Control-Allow-Origin: * to every answer")
    .option("-q, --quiet", "no access log")
    .option("--dotfiles", "serve names starting with '.' (hidden by default: 404)")
    .option("--follow-symlinks", "follow symbolic links that lead out of DIR (refused by default: 403)")
    .option(
      "--max-header-size <bytes>",
      `request line and headers, at most (default ${DEFAULT_HTTP_LIMITS.maxHeaderSize}; more: 431)`,
    )
    .option(
      "--max-headers <n>",
      `header fields in a request, at most (default ${DEFAULT_HTTP_LIMITS.maxHeaders}; more: 431)`,
    )
    .option(
      "--request-timeout <seconds>",
      `a request must arrive within this (default ${DEFAULT_HTTP_LIMITS.requestTimeoutMs / 1000}; else 408 and close)`,
    )
    .option(
      "--tls",
      `HTTPS (default port ${DEFAULT_HTTPS_PORT}; without --cert/--key: a fresh self-signed certificate, its fingerprint printed)`,
    )
    .option("--cert <file>", "with --tls: the certificate chain (PEM)")
    .option("--key <file>", "with --tls: its private key (PEM)")
    .option(
      "--send-timeout <seconds>",
      `a client must take each piece of an answer within this (default ${DEFAULT_HTTP_LIMITS.sendTimeoutMs / 1000}; else reset)`,
    )
    .addHelpText(
      "after",
      `
Also from serve: --host ADDR, --port N (0: any free port), --max-conns N (default ${DEFAULT_HTTP_LIMITS.maxConnections}; more: 503),
--max-per-source N (default ${DEFAULT_HTTP_LIMITS.maxPerSource}; more: 429), --idle SECONDS (keep-alive, default ${DEFAULT_HTTP_LIMITS.keepAliveMs / 1000}),
--backlog N, --grace SECONDS (default ${DEFAULT_HTTP_LIMITS.graceMs / 1000}).

GET and HEAD only (others: 405). Paths stay inside DIR: '..' in any spelling is refused (403),
NUL bytes and bad encoding (400), dotfiles are hidden (404) unless --dotfiles, symbolic links
leading out of DIR are refused (403) unless --follow-symlinks. Requests with both
Content-Length and Transfer-Encoding, or two Content-Lengths, are refused (400).

Examples:
  sockit serve http                        the current directory on http://127.0.0.1:8000/
  sockit serve http public --port 0        any free port
  sockit serve http -q --cors dist         no log, CORS for every origin
  sockit serve http --tls --cert cert.pem --key key.pem    https://127.0.0.1:8443/ (sockit cert create makes them)
  then: sockit get http://127.0.0.1:8000/file.iso -o file.iso    curl -H 'Accept: application/json' http://127.0.0.1:8000/`,
    );
  srv.action((dir: string | undefined, opts: ServeHttpOptions) => {
    const given: Record<string, unknown> = {};
    for (const flag of serve.options) {
      const name = flag.attributeName();
      if (serve.getOptionValueSource(name) === "cli") given[name] = serve.getOptionValue(name);
    }
    reg.choose(srv, (ctx) => runServeHttp(planServeHttp(dir, opts, given), ctx));
  });
}
