/**
 * FTP from the command line: `sockit serve ftp [DIR]` (a server confined to DIR, on
 * 127.0.0.1:2121 by default, anonymous read-only unless told otherwise) and `sockit ftp
 * ls|get|put|rm|mkdir|mv URL|HOST[:PORT] …` (a client: passive by default, resume with -c, a
 * progress bar on a terminal, and a final SHA-256 check where the server offers HASH/XSHA256).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { stat, unlink } from "node:fs/promises";
import { basename } from "node:path";
import { finished } from "node:stream/promises";
import type { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { OSError } from "../../errors/index.js";
import {
  DEFAULT_FTP_ADDRESS,
  FtpClient,
  type FtpEvent,
  type FtpServerOptions,
  serveFtp,
} from "../../services/ftp/index.js";
import type { Context } from "../context.js";
import { EXIT, UsageError } from "../exit.js";
import { addGlobalOptions } from "../globals.js";
import { humanBytes, progressWanted } from "../session/progress.js";
import { parseHostPort } from "../session/address.js";
import { waitForStop } from "../session/stop.js";
import { clientTLS, describeTLS, serverTLS, type TLSFlags } from "../tls.js";
import type { CommandRegistry } from "./registry.js";
import { busyPortError } from "./serve.js";

/** The default port of ftp:// URLs and HOST without a port. */
export const FTP_PORT = 21;

function int(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new UsageError(`--${flag} must be an integer ${min}..${max}, got ${text}`);
  return n;
}

function seconds(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n <= 0 || n > 2_000_000)
    throw new UsageError(`--${flag} must be a positive number of seconds, got ${text}`);
  return Math.round(n * 1000);
}

function bracket(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** The raw options of `serve ftp`. */
export interface ServeFtpFlags {
  user?: string[];
  write?: boolean;
  anonymous?: boolean;
  passivePorts?: string;
  maxLine?: string;
  badPasswordDelay?: string;
  maxBadPasswords?: string;
  dataTimeout?: string;
  tls?: boolean;
  cert?: string;
  key?: string;
  tlsRequired?: boolean;
}

/**
 * `serve ftp`'s plan: the server options, and the TLS flags (the files are read when it runs).
 * @example `planServeFtp(undefined, { tls: true }, {}).tlsFlags // { tls: true }`
 */
export interface ServeFtpPlan extends FtpServerOptions {
  readonly tlsFlags?: TLSFlags;
}

/**
 * `serve ftp`'s arguments as server options (pure; throws UsageError). `parent` holds serve's
 * own `--host`, `--port`, `--max-conns`, `--max-per-source` and `--idle` when they were given.
 *
 * @example `planServeFtp(undefined, {}, {}).address // "127.0.0.1:2121"`
 */
export function planServeFtp(
  dir: string | undefined,
  o: ServeFtpFlags,
  parent: { host?: string; port?: string; maxConns?: string; maxPerSource?: string; idle?: string },
): ServeFtpPlan {
  const users: Record<string, string> = {};
  for (const u of o.user ?? []) {
    const i = u.indexOf(":");
    if (i <= 0 || /[\s\0]/.test(u.slice(0, i)))
      throw new UsageError(`--user must be NAME:PASSWORD (a name without blanks), got ${JSON.stringify(u)}`);
    const name = u.slice(0, i);
    if (name === "anonymous" || name === "ftp")
      throw new UsageError(`--user ${name}: that name is the anonymous login; use --write to let it write`);
    users[name] = u.slice(i + 1);
  }
  let passivePorts: [number, number] | undefined;
  if (o.passivePorts !== undefined) {
    const m = /^(\d{1,5})-(\d{1,5})$/.exec(o.passivePorts);
    const [a, b] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
    if (!m || a < 1024 || b > 65535 || a > b)
      throw new UsageError(`--passive-ports must be LOW-HIGH within 1024-65535, got ${o.passivePorts}`);
    passivePorts = [a, b];
  }
  const [dh, dp] = [DEFAULT_FTP_ADDRESS.slice(0, DEFAULT_FTP_ADDRESS.lastIndexOf(":")), "2121"];
  const port = parent.port === undefined ? dp : parent.port;
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535)
    throw new UsageError(`--port for serve ftp must be a port number (0: any), got ${port}`);
  const host = parent.host ?? dh;
  if (host === "") throw new UsageError("--host is empty");
  const maxSessions = int("max-conns", parent.maxConns, 1, 1 << 20);
  const maxPerSource = int("max-per-source", parent.maxPerSource, 1, 1 << 20);
  const idleMs = seconds("idle", parent.idle);
  const maxLine = int("max-line", o.maxLine, 64, 1 << 20);
  const badDelay = o.badPasswordDelay === undefined ? undefined : Number(o.badPasswordDelay);
  if (badDelay !== undefined && (!/^\d+(\.\d+)?$/.test(o.badPasswordDelay!) || badDelay > 60))
    throw new UsageError(`--bad-password-delay must be 0..60 seconds, got ${o.badPasswordDelay}`);
  const maxBad = int("max-bad-passwords", o.maxBadPasswords, 1, 1000);
  const dataTimeoutMs = seconds("data-timeout", o.dataTimeout);
  const tls = o.tls === true || o.tlsRequired === true;
  if (!tls && (o.cert !== undefined || o.key !== undefined))
    throw new UsageError("--cert and --key need --tls");
  if ((o.cert === undefined) !== (o.key === undefined))
    throw new UsageError("give both --cert FILE and --key FILE");
  return {
    root: dir ?? ".",
    address: `${bracket(host)}:${Number(port)}`,
    users,
    anonymous: o.anonymous !== false,
    anonymousWrite: o.write === true,
    ...(passivePorts ? { passivePorts } : {}),
    ...(maxSessions === undefined ? {} : { maxSessions }),
    ...(maxPerSource === undefined ? {} : { maxPerSource }),
    ...(idleMs === undefined ? {} : { idleMs }),
    ...(maxLine === undefined ? {} : { maxLine }),
    ...(badDelay === undefined ? {} : { badPasswordDelayMs: Math.round(badDelay * 1000) }),
    ...(maxBad === undefined ? {} : { maxBadPasswords: maxBad }),
    ...(dataTimeoutMs === undefined ? {} : { dataTimeoutMs }),
    ...(tls
      ? {
          tlsFlags: {
            tls: true,
            ...(o.cert === undefined ? {} : { cert: o.cert }),
            ...(o.key === undefined ? {} : { key: o.key }),
          },
          tlsRequired: o.tlsRequired === true,
        }
      : {}),
  };
}

/** Serves until SIGINT/SIGTERM (or `stop`); resolves 0. */
export async function runServeFtp(plan: ServeFtpPlan, ctx: Context, stop?: AbortSignal): Promise<number> {
  const { tlsFlags, ...opts } = plan;
  const tls = tlsFlags === undefined ? undefined : serverTLS(tlsFlags, ctx);
  const srv = await serveFtp({
    ...opts,
    ...(tls?.cert === undefined || tls.key === undefined ? {} : { tls: { cert: tls.cert, key: tls.key } }),
    onEvent: (e: FtpEvent) => ctx.info(`${e.type} ${e.peer}: ${e.detail}`),
  }).catch((err: unknown) => {
    throw busyPortError(err);
  });
  const { stopped, dispose } = waitForStop(stop);
  const users = Object.keys(opts.users ?? {});
  const access = [
    opts.anonymous === false
      ? "no anonymous login"
      : `anonymous ${opts.anonymousWrite ? "read-write" : "read-only"}`,
    ...(users.length > 0 ? [`read-write for ${users.join(", ")}`] : []),
    ...(tls === undefined
      ? []
      : [opts.tlsRequired ? "TLS required (AUTH TLS, PROT P)" : "TLS offered (AUTH TLS)"]),
  ].join("; ");
  const tryIt =
    tls === undefined
      ? [`sockit ftp ls ftp://${srv.address}/`, `curl ftp://${srv.address}/`, `lftp ${srv.address}`]
      : [
          `sockit ftp ls --tls --ca CERT ftp://${srv.address}/`,
          `curl --ssl-reqd --cacert CERT ftp://${srv.address}/`,
          `lftp -e "set ftp:ssl-force true; set ssl:ca-file CERT" ${srv.address}`,
        ];
  if (ctx.opts.json)
    ctx.io.stdout.write(
      `${JSON.stringify({ listening: srv.address, root: srv.root, access, try: tryIt })}\n`,
    );
  else
    ctx.io.stdout.write(
      `FTP on ${srv.address} serving ${srv.root} (${access})\n` +
        `try it from another terminal:  ${tryIt.join("\n                               or: ")}\n`,
    );
  ctx.err("sockit: serving FTP; Ctrl-C stops\n");
  const sig = await stopped;
  dispose();
  ctx.err(`sockit: ${sig === "stop" ? "stopping" : `${sig}: shutting down`}\n`);
  await srv.close();
  const c = srv.counters;
  ctx.err(
    `sockit: counters: sessions=${c.sessions} refused=${c.refused} bad-passwords=${c.badPasswords} ` +
      `transfers=${c.transfers} aborted=${c.aborted} in=${c.bytesIn} out=${c.bytesOut}\n`,
  );
  return EXIT.OK;
}

/** Where `sockit ftp` goes: the server, the login, and the path (from a URL) if any. */
export interface FtpTarget {
  readonly address: string;
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly path: string | undefined;
}

/**
 * `ftp://[USER[:PASS]@]HOST[:PORT][/PATH]` or `HOST[:PORT]` (port 21 when omitted); the URL's
 * path is percent-decoded (NUL, CR and LF refused).
 *
 * @example `parseFtpTarget("ftp://127.0.0.1:2121/a%20b.txt").path // "/a b.txt"`
 */
export function parseFtpTarget(text: string): FtpTarget {
  if (!/^ftp:\/\//i.test(text)) {
    const hp = parseHostPort(text, { defaultPort: FTP_PORT, what: "port" });
    return {
      address: `${bracket(hp.host)}:${hp.port}`,
      user: undefined,
      password: undefined,
      path: undefined,
    };
  }
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(`URL must be ftp://HOST[:PORT]/PATH, got ${JSON.stringify(text)}`);
  }
  const dec = (s: string, what: string) => {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      throw new UsageError(`${what} in ${text} has a bad %-escape`);
    }
    if (/[\0\r\n]/.test(d)) throw new UsageError(`${what} in ${text} contains NUL, CR or LF`);
    return d;
  };
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new UsageError(`URL ${text} has no host`);
  return {
    address: `${bracket(host)}:${u.port === "" ? FTP_PORT : u.port}`,
    user: u.username === "" ? undefined : dec(u.username, "the user"),
    password: u.password === "" ? undefined : dec(u.password, "the password"),
    path: u.pathname === "/" || u.pathname === "" ? undefined : dec(u.pathname, "the path"),
  };
}

/** The client's common flags. */
export interface FtpClientFlags extends TLSFlags {
  user?: string;
  active?: boolean;
  timeout?: string;
  progress?: boolean;
}

async function connectTo(t: FtpTarget, o: FtpClientFlags, ctx: Context): Promise<FtpClient> {
  let user = t.user;
  let password = t.password;
  if (o.user !== undefined) {
    const i = o.user.indexOf(":");
    user = i < 0 ? o.user : o.user.slice(0, i);
    password = i < 0 ? (ctx.io.env.SOCKIT_FTP_PASSWORD ?? "") : o.user.slice(i + 1);
  }
  const timeout = seconds("timeout", o.timeout) ?? 30_000;
  const tls = clientTLS(o, ctx);
  const ftp = await FtpClient.connect(t.address, {
    ...(user === undefined ? {} : { user }),
    ...(password === undefined ? {} : { password }),
    active: o.active === true,
    timeout,
    ...(tls === undefined ? {} : { tls }),
  });
  ctx.info(`connected to ${t.address} as ${user ?? "anonymous"} (${o.active ? "active" : "passive"} mode)`);
  if (ftp.tls !== undefined) ctx.info(`${describeTLS(ftp.tls)}; data connections TLS (PROT P)`);
  return ftp;
}

async function bar(
  ctx: Context,
  o: FtpClientFlags,
  total: number | undefined,
  start: number,
): Promise<(SingleBar & { set: (n: number) => void }) | undefined> {
  if (!progressWanted(o.progress, ctx.io.stderr)) return undefined;
  // loaded only when a bar is drawn (start-up stays light)
  const { Presets, SingleBar } = await import("cli-progress");
  const b = new SingleBar(
    {
      stream: ctx.io.stderr as NodeJS.WriteStream,
      format:
        total === undefined
          ? "{doneText} | {rate}"
          : "{bar} {percentage}% {doneText}/{totalText} | {rate} | ETA {eta_formatted}",
      hideCursor: false,
      barsize: 24,
      fps: 5,
      noTTYOutput: o.progress === true,
      notTTYSchedule: 1000,
    },
    Presets.shades_classic,
  );
  const t0 = performance.now();
  b.start(total ?? 1, start, { doneText: humanBytes(start), totalText: humanBytes(total ?? 0), rate: "" });
  const update = (n: number) => {
    const s = (performance.now() - t0) / 1000;
    b.update(total === undefined ? 0 : n, {
      doneText: humanBytes(n),
      totalText: humanBytes(total ?? 0),
      rate: `${humanBytes(Math.round(s > 0 ? (n - start) / s : 0))}/s`,
    });
  };
  return Object.assign(b, { set: update }) as SingleBar & { set: (n: number) => void };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest("hex");
}

/** Compares the server's SHA-256 with the local file's; mismatch: an EIO OSError (exit 6). */
async function verify(ftp: FtpClient, remote: string, local: string, ctx: Context): Promise<void> {
  const theirs = await ftp.sha256(remote);
  if (theirs === undefined) {
    ctx.info("the server offers no HASH or XSHA256: no final hash check");
    return;
  }
  const ours = await sha256File(local);
  if (theirs !== ours)
    throw new OSError("EIO", {
      op: "verify",
      address: remote,
      hint: `SHA-256 mismatch: the server has ${theirs}, the local file ${ours}; transfer again without -c`,
    });
  ctx.info(`SHA-256 ${ours} matches the server's`);
}

/** What `sockit ftp SUB` will do. */
export interface FtpPlan {
  readonly sub: "ls" | "get" | "put" | "rm" | "mkdir" | "mv";
  readonly target: FtpTarget;
  readonly args: readonly string[];
  readonly flags: FtpClientFlags & { output?: string; continue?: boolean };
}

function remotePath(p: FtpPlan, i: number, what: string): string {
  const r = p.target.path ?? p.args[i];
  if (r === undefined || r === "")
    throw new UsageError(`ftp ${p.sub}: which ${what}? give it in the URL or as an argument`);
  return r;
}

/** Runs a client subcommand; resolves the exit code. */
export async function runFtp(p: FtpPlan, ctx: Context): Promise<number> {
  const out = ctx.io.stdout;
  // a missing argument is a usage error before any connection is made
  if (p.sub !== "ls" && p.sub !== "put") remotePath(p, 0, p.sub === "mkdir" ? "directory" : "file");
  if (p.sub === "put" && p.args[0] === undefined) throw new UsageError("ftp put: which local file?");
  const ftp = await connectTo(p.target, p.flags, ctx);
  try {
    switch (p.sub) {
      case "ls": {
        out.write(await ftp.list(p.target.path ?? p.args[0] ?? ""));
        break;
      }
      case "rm":
        await ftp.delete(remotePath(p, 0, "file"));
        break;
      case "mkdir":
        ctx.info(`created ${await ftp.mkdir(remotePath(p, 0, "directory"))}`);
        break;
      case "mv": {
        const from = remotePath(p, 0, "file");
        const to = p.args[p.target.path === undefined ? 1 : 0];
        if (to === undefined) throw new UsageError("ftp mv: give the new name");
        await ftp.rename(from, to);
        break;
      }
      case "get": {
        const remote = remotePath(p, 0, "file");
        const local = p.flags.output ?? basename(remote);
        const toStdout = local === "-";
        const have =
          p.flags.continue && !toStdout ? ((await stat(local).catch(() => undefined))?.size ?? 0) : 0;
        const size = await ftp.size(remote).catch(() => undefined);
        if (size !== undefined && have === size) {
          ctx.info(`${local} is already complete (${size} bytes)`);
        } else {
          const file = toStdout ? undefined : createWriteStream(local, { flags: have > 0 ? "a" : "w" });
          const b = await bar(ctx, p.flags, size, have);
          try {
            await ftp.download(
              remote,
              (chunk) =>
                new Promise<void>((res, rej) =>
                  (file ?? out).write(chunk, (err) => (err ? rej(err) : res())),
                ),
              { offset: have, onProgress: (n) => b?.set(have + n) },
            );
          } catch (err) {
            // nothing arrived into a file that was not there: do not leave an empty one behind
            if (file && have === 0 && file.bytesWritten === 0) {
              file.end();
              await finished(file).catch(() => {});
              await unlink(local).catch(() => {});
            }
            throw err;
          } finally {
            b?.stop();
            if (file && !file.writableEnded) {
              file.end();
              await finished(file);
            }
          }
        }
        if (!toStdout) await verify(ftp, remote, local, ctx);
        break;
      }
      case "put": {
        const local = p.args[0];
        if (local === undefined) throw new UsageError("ftp put: which local file?");
        let remote = p.target.path ?? p.args[1] ?? basename(local);
        if (remote.endsWith("/")) remote += basename(local);
        const size = (await stat(local)).size;
        const b = await bar(ctx, p.flags, size, 0);
        try {
          await ftp.upload(remote, createReadStream(local, { highWaterMark: 256 * 1024 }), {
            onProgress: (n) => b?.set(n),
          });
        } finally {
          b?.stop();
        }
        await verify(ftp, remote, local, ctx);
        break;
      }
    }
  } finally {
    await ftp.quit();
  }
  return EXIT.OK;
}

/** Adds `serve ftp` (under `serve`) and `ftp` to the program. */
export function register(program: Command, reg: CommandRegistry): void {
  const serve = program.commands.find((c) => c.name() === "serve");
  if (serve === undefined) throw new Error("register serve before ftp");
  const srv = addGlobalOptions(serve.command("ftp"), { json: true })
    .description(
      `an FTP server for DIR (default .), on ${DEFAULT_FTP_ADDRESS} by default; anonymous read-only unless --write or --user`,
    )
    .argument("[dir]", "the directory served (clients see it as /)")
    .option(
      "--user <name:password>",
      "an account that may log in and write (repeatable)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option("--write", "let anonymous sessions write too (upload, delete, rename, mkdir)")
    .option("--no-anonymous", "refuse anonymous logins")
    .option("--passive-ports <low-high>", "ports for passive data connections (default: any free port)")
    .option("--max-line <bytes>", "longest command line (default 4096)")
    .option("--bad-password-delay <seconds>", "wait before answering a wrong password (default 1)")
    .option("--max-bad-passwords <n>", "wrong passwords before the session is closed (default 3)")
    .option("--data-timeout <seconds>", "wait for a data connection to open or move (default 30)")
    .option(
      "--tls",
      "offer explicit FTPS (AUTH TLS, PBSZ/PROT P); without --cert/--key: a fresh self-signed certificate, its fingerprint printed",
    )
    .option("--cert <file>", "with --tls: the certificate chain (PEM)")
    .option("--key <file>", "with --tls: its private key (PEM)")
    .option(
      "--tls-required",
      "implies --tls; refuse USER/PASS before AUTH TLS (530) and transfers before PROT P (521)",
    )
    .addHelpText(
      "after",
      `
serve's own --host, --port N, --max-conns (sessions, default 64), --max-per-source (default 8)
and --idle (seconds, default 300) apply too. Paths stay inside DIR (.., absolute paths, symlinks
leading out and NUL are refused with 550); PORT/EPRT go only to the client's own address; uploads
land in a hidden temporary file renamed when complete. HASH (SHA-256) and XSHA256 give a file's
digest for verification.

Examples:
  sockit serve ftp                            . on ${DEFAULT_FTP_ADDRESS}, anonymous read-only
  sockit serve ftp /srv/files --user alice:pw alice may upload
  sockit serve ftp --port 0 --json            any free port; where as JSON
  sockit serve ftp --tls-required --cert cert.pem --key key.pem    FTPS only`,
    );
  srv.action((dir: string | undefined, opts: ServeFtpFlags) => {
    const given = (n: string) => serve.getOptionValueSource(n) === "cli";
    for (const flag of serve.options) {
      const name = flag.attributeName();
      if (["host", "port", "maxConns", "maxPerSource", "idle"].includes(name) || !given(name)) continue;
      throw new UsageError(`${flag.long ?? flag.flags} is an option of the RFC services, not of serve ftp`);
    }
    const ports = given("port") ? (serve.getOptionValue("port") as unknown) : undefined;
    const port = Array.isArray(ports) ? ports.at(-1) : ports;
    const parent: Record<string, string> = {};
    if (given("host")) parent.host = String(serve.getOptionValue("host"));
    if (port !== undefined) parent.port = String(port);
    for (const k of ["maxConns", "maxPerSource", "idle"])
      if (given(k)) parent[k] = String(serve.getOptionValue(k));
    reg.choose(srv, (ctx) => runServeFtp(planServeFtp(dir, opts, parent), ctx));
  });

  const ftp = addGlobalOptions(program.command("ftp"), { json: false }).description(
    "FTP client: sockit ftp ls|get|put|rm|mkdir|mv URL|HOST[:PORT] …",
  );
  const sub = (name: FtpPlan["sub"], args: string, help: string) => {
    const c = addGlobalOptions(ftp.command(`${name} <target> ${args}`.trim()), { json: false })
      .description(help)
      .option(
        "--user <name[:password]>",
        "log in as NAME (default anonymous; password from SOCKIT_FTP_PASSWORD if omitted)",
      )
      .option("--active", "active mode: the server connects back (EPRT/PORT); default passive (EPSV/PASV)")
      .option("-t, --timeout <seconds>", "give up after SECONDS without an answer (default 30)")
      .option("--tls", "explicit FTPS: AUTH TLS, PBSZ 0, PROT P; data connections TLS too (session resumed)")
      .option("--ca <file>", "with --tls: also trust the CA certificate(s) in FILE (PEM)")
      .option("--servername <name>", "with --tls: the name to check in the certificate (default: the host)")
      .option("--insecure", "with --tls: do NOT verify the server's certificate (prints a warning)");
    if (name === "get")
      c.option("-o, --output <file>", "where to write (default: the remote base name; - for stdout)").option(
        "-c, --continue",
        "resume a partial download: fetch only what the local file lacks (REST)",
      );
    if (name === "get" || name === "put")
      c.option("--progress", "show the progress bar even when stderr is not a terminal").option(
        "--no-progress",
        "never show the progress bar",
      );
    c.action((target: string, ...rest: unknown[]) => {
      const opts = rest.at(-2) as FtpPlan["flags"];
      const args = rest
        .slice(0, -2)
        .flat()
        .filter((a): a is string => typeof a === "string");
      reg.choose(c, (ctx) => runFtp({ sub: name, target: parseFtpTarget(target), args, flags: opts }, ctx));
    });
    return c;
  };
  sub("ls", "[path]", "list a directory (LIST)");
  sub(
    "get",
    "[path]",
    "download a file; then compare SHA-256 with the server's where it offers HASH/XSHA256",
  );
  sub(
    "put",
    "<file> [path]",
    "upload FILE (to PATH, or the URL's path, or its base name); then compare SHA-256",
  );
  sub("rm", "[path]", "delete a file");
  sub("mkdir", "[path]", "make a directory");
  sub("mv", "[from] [to]", "rename: mv URL NEWNAME or mv HOST[:PORT] FROM TO");
  ftp.addHelpText(
    "after",
    `
TARGET is ftp://[USER[:PASS]@]HOST[:PORT]/PATH or HOST[:PORT] (port 21 when omitted) followed by
the path. A final SHA-256 check runs after get and put when the server offers HASH or XSHA256
(sockit serve ftp does); a mismatch exits 6.

Examples:
  sockit ftp ls ftp://127.0.0.1:2121/
  sockit ftp get ftp://127.0.0.1:2121/a.bin          (-c resumes a partial a.bin)
  sockit ftp put 127.0.0.1:2121 ./b.bin --user alice:pw
  sockit ftp mv ftp://127.0.0.1:2121/b.bin c.bin --user alice:pw
  sockit ftp ls --tls --ca cert.pem ftp://localhost:2121/   (explicit FTPS; a bad certificate exits 3)`,
  );
}
