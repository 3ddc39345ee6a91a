/**
 * Direct file transfer: `sockit send FILE… HOST:PORT` and `sockit recv [--dir DIR] [HOST:]PORT`.
 * netcat's use minus its traps: each file carries its name, size and SHA-256; the receiver writes
 * `.NAME.part`, renames it only when the hash matches, never replaces a file without `--force`,
 * checks `--max-size` and free space first, and a re-run resumes a `.part`; the sender exits 0
 * only when every file was acknowledged. The receiver serves one sender, then exits.
 *
 * @module
 */
import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { makeOSError, type OSError, toSocketError } from "../../errors/index.js";
import { dial, listen } from "../../net/index.js";
import { settle } from "../../services/rfc/linger.js";
import {
  collect,
  type ReceivedEntry,
  receive,
  send,
  type SentEntry,
  withHashes,
} from "../../services/transfer/index.js";
import type { Context } from "../context.js";
import { EXIT, exitCodeFor, UsageError } from "../exit.js";
import { addGlobalOptions } from "../globals.js";
import { dumpCalls } from "../output/hexdump.js";
import { parseHostPort } from "../session/address.js";
import { Meter, progressWanted } from "../session/progress.js";
import type { CommandRegistry } from "./registry.js";

/** Idle time before TCP keepalive probes start (both commands). */
const KEEPALIVE_MS = 10_000;

/** How long recv waits for the sender to read its last answer and close. */
const SETTLE_MS = 2000;

/** What `send` will do. */
export interface SendPlan {
  readonly files: readonly string[];
  /** `host:port` as dial takes it (`[::1]:9000` for IPv6). */
  readonly address: string;
  readonly recursive: boolean;
  readonly followSymlinks: boolean;
  readonly rate: number | undefined;
  readonly timeoutMs: number;
  readonly progress: boolean | undefined;
  /** Protocol version 1: hash every file before connecting, the hash in each header. */
  readonly hashFirst: boolean;
}

/** What `recv` will do. */
export interface RecvPlan {
  /** `host:port` as listen takes it (`:9000` for every interface). */
  readonly address: string;
  readonly dir: string;
  readonly force: boolean;
  readonly maxSize: number | undefined;
  readonly idleMs: number;
  readonly progress: boolean | undefined;
}

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/**
 * A byte count as the flags take it: `1048576`, `10M` (10^6), `1Gi` (2^30); a trailing `B` is
 * allowed (`10MB`, `1GiB`). Throws UsageError.
 * @example `parseBytes("--max-size", "10MiB") // 10485760`
 */
export function parseBytes(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(k|K|M|G|T|Ki|Mi|Gi|Ti)?B?$/.exec(text);
  const n = m === null ? NaN : Math.floor(Number(m[1]) * UNITS[m[2] ?? ""]!);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(
      `${flag} must be a byte count such as 1048576, 10M or 1GiB, got ${JSON.stringify(text)}`,
    );
  return n;
}

function seconds(flag: string, text: string | undefined, dflt: number): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n > 2_000_000)
    throw new UsageError(`${flag} must be a number of seconds (0: none), got ${text}`);
  return Math.round(n * 1000);
}

const hostPort = (host: string, port: number | string) =>
  `${host.includes(":") ? `[${host}]` : host}:${String(port)}`;

/**
 * `send`'s arguments (FILE… then HOST:PORT) as a plan (pure; throws UsageError).
 * @example `planSend(["a.bin", "127.0.0.1:9000"], {}).address // "127.0.0.1:9000"`
 */
export function planSend(
  args: readonly string[],
  o: {
    recursive?: boolean;
    followSymlinks?: boolean;
    rate?: string;
    timeout?: string;
    progress?: boolean;
    hashFirst?: boolean;
  },
): SendPlan {
  if (args.length < 2) throw new UsageError("send needs at least one FILE and then HOST:PORT");
  const hp = parseHostPort(args.at(-1)!, { what: "HOST:PORT" });
  return {
    files: args.slice(0, -1),
    address: hostPort(hp.host, hp.port),
    recursive: o.recursive === true,
    followSymlinks: o.followSymlinks === true,
    rate: o.rate === undefined ? undefined : parseBytes("--rate", o.rate),
    timeoutMs: seconds("--timeout", o.timeout, 10_000),
    progress: o.progress,
    hashFirst: o.hashFirst === true,
  };
}

/**
 * `recv`'s arguments as a plan (pure; throws UsageError). PORT alone listens on every interface.
 * @example `planRecv("9000", {}).address // ":9000"`
 */
export function planRecv(
  at: string,
  o: { dir?: string; force?: boolean; maxSize?: string; idle?: string; progress?: boolean },
): RecvPlan {
  const hp = parseHostPort(at, { hostOptional: true, zero: true, what: "[HOST:]PORT" });
  if (o.dir !== undefined && o.dir.length === 0) throw new UsageError("--dir must name a directory");
  return {
    address: hostPort(hp.host, hp.port),
    dir: o.dir ?? ".",
    force: o.force === true,
    maxSize: o.maxSize === undefined ? undefined : parseBytes("--max-size", o.maxSize),
    idleMs: seconds("--idle", o.idle, 60_000),
    progress: o.progress,
  };
}

function errorJson(e: OSError | undefined) {
  return e === undefined ? {} : { error: { code: e.code, errno: e.errno, message: e.message } };
}

function sentLine(e: SentEntry): string {
  if (e.kind === "dir")
    return `${e.path}/: ${e.status === "refused" ? `refused: ${e.error?.message}` : "created"}`;
  if (e.status === "refused") return `${e.path}: refused: ${e.error?.message}`;
  if (e.status === "had") return `${e.path}: already there (${e.size} bytes, sha256 ${e.sha256})`;
  const resumed = e.from > 0 ? `, resumed at ${e.from}` : "";
  return `${e.path}: delivered and verified, ${e.size} bytes (${e.sent} sent${resumed}), sha256 ${e.sha256}`;
}

function receivedLine(e: ReceivedEntry): string {
  if (e.kind === "dir")
    return `${e.path}/: ${e.status === "refused" ? `refused: ${e.error?.message}` : "created"}`;
  if (e.status === "refused") return `${e.path}: refused: ${e.error?.message}`;
  if (e.status === "had") return `${e.path}: already here (${e.size} bytes, sha256 ${e.sha256})`;
  const resumed = e.from > 0 ? `, resumed at ${e.from}` : "";
  return `${e.path}: saved and verified, ${e.size} bytes (${e.received} received${resumed}), sha256 ${e.sha256}`;
}

/**
 * What send and recv tell the user as files go by: a line (or JSON object) per entry on stdout,
 * a progress bar per file on stderr, and the first error (it picks the exit code).
 */
function reporter<E extends SentEntry | ReceivedEntry>(
  ctx: Context,
  flag: boolean | undefined,
  incoming: boolean,
  line: (e: E) => string,
  moved: (e: E) => Record<string, number>,
) {
  const bars = meters(ctx, flag, incoming);
  let first: OSError | undefined;
  const verb = incoming ? "receiving" : "sending";
  return {
    bars,
    /** The first entry's error, if any. */
    first: () => first,
    callbacks: {
      onFile: (path: string, size: number, from: number) => {
        ctx.info(
          `${path}: ${verb} ${size - from} of ${size} bytes${from > 0 ? ` (resuming at ${from})` : ""}`,
        );
        bars.start(size, from);
      },
      onBytes: (n: number) => bars.bytes(n),
      onEntry: (e: E) => {
        bars.stop();
        first ??= e.error;
        ctx.io.stdout.write(
          ctx.opts.json
            ? `${JSON.stringify({ path: e.path, kind: e.kind, status: e.status, size: e.size, sha256: e.sha256, from: e.from, ...moved(e), ...errorJson(e.error) })}\n`
            : `${line(e)}\n`,
        );
      },
    },
  };
}

/** Per-file progress bars on stderr, one Meter per file. */
function meters(ctx: Context, flag: boolean | undefined, incoming: boolean) {
  const bar = progressWanted(flag, ctx.io.stderr);
  let m: Meter | undefined;
  return {
    start(size: number, from: number) {
      m?.stop();
      m = new Meter(ctx.io.stderr, { bar, total: size - from, forced: flag === true, incoming });
    },
    bytes(n: number) {
      if (incoming) m?.received(n);
      else m?.sent(n);
    },
    stop() {
      m?.stop();
      m = undefined;
    },
  };
}

/** Sends the files; exits 0 only when each was acknowledged with its SHA-256 (or was already there). */
export async function runSend(plan: SendPlan, ctx: Context): Promise<number> {
  const onHash = (path: string, done: boolean) =>
    ctx.info(`${path}: ${done ? "hashed" : "computing its SHA-256"}`);
  const found = await collect(plan.files, {
    recursive: plan.recursive,
    followSymlinks: plan.followSymlinks,
  });
  // version 1: every hash before connecting (the receiver never waits, idle, while the sender
  // reads its disk); version 2: each file is hashed while it is sent, its hash after its data
  const entries = plan.hashFirst ? await withHashes(found, onHash) : found;
  const conn = await dial("tcp", plan.address, { timeout: plan.timeoutMs });
  conn.setKeepAlive(true, KEEPALIVE_MS); // a receiver gone silent (cable, firewall) is noticed
  ctx.info(`connected to ${conn.remoteAddress}`);
  const report = reporter(ctx, plan.progress, false, sentLine, (e) => ({ sent: e.sent }));
  const stopDump = ctx.opts.hexdump ? dumpCalls((fd) => ctx.dumper(`fd ${fd}`)!) : undefined;
  try {
    await send(conn, entries, {
      ...(plan.rate === undefined ? {} : { rate: plan.rate }),
      hashFirst: plan.hashFirst,
      onHash,
      ...report.callbacks,
    });
  } catch (err) {
    conn.abort();
    throw toSocketError(err, { op: "send", address: plan.address });
  } finally {
    report.bars.stop();
    stopDump?.();
  }
  await conn.close();
  const first = report.first();
  return first === undefined ? EXIT.OK : exitCodeFor(first);
}

/** Receives one sender's files into plan.dir; exits 0 only when every one was saved verified. */
export async function runRecv(plan: RecvPlan, ctx: Context): Promise<number> {
  // the directory is checked before listening: no sender is accepted only to be turned away
  const st = await stat(plan.dir).catch((err: unknown) => {
    throw toSocketError(err, {
      op: "open",
      address: plan.dir,
      hint: "--dir must name an existing directory",
    });
  });
  if (!st.isDirectory())
    throw makeOSError("ENOTDIR", { op: "open", address: plan.dir, hint: "--dir must name a directory" });
  const ln = await listen("tcp", plan.address);
  ctx.io.stdout.write(
    ctx.opts.json
      ? `${JSON.stringify({ listening: ln.address, dir: plan.dir })}\n`
      : `listening on ${ln.address}\n`,
  );
  let conn;
  try {
    conn = await ln.accept();
  } finally {
    await ln.close(); // one sender per run: later ones are refused
  }
  conn.setKeepAlive(true, KEEPALIVE_MS);
  ctx.info(`connection from ${conn.remoteAddress}`);
  const report = reporter(ctx, plan.progress, true, receivedLine, (e) => ({ received: e.received }));
  const stopDump = ctx.opts.hexdump ? dumpCalls((fd) => ctx.dumper(`fd ${fd}`)!) : undefined;
  try {
    await receive(conn, {
      dir: plan.dir,
      force: plan.force,
      ...(plan.maxSize === undefined ? {} : { maxSize: plan.maxSize }),
      idleMs: plan.idleMs,
      ...report.callbacks,
    });
  } catch (err) {
    throw toSocketError(err, { op: "recv", address: conn.remoteAddress });
  } finally {
    report.bars.stop();
    // FIN after the last answer (a refusal too), then wait briefly for the sender to read it
    await settle(conn, SETTLE_MS);
    await conn.close();
    stopDump?.();
  }
  const first = report.first();
  return first === undefined ? EXIT.OK : exitCodeFor(first);
}

/** Adds `send` and `recv` to the program. */
export function register(program: Command, reg: CommandRegistry): void {
  const snd = addGlobalOptions(program.command("send"), { json: true })
    .description(
      "send files to a `sockit recv`, verified by SHA-256 and resumable: sockit send FILE... HOST:PORT",
    )
    .argument("<args...>", "FILE... then HOST:PORT")
    .option("-r, --recursive", "send directories and everything in them")
    .option("--follow-symlinks", "send the file a symbolic link points to (default: links are refused)")
    .option("--rate <bytes>", "at most this many bytes per second (10M, 1MiB, ...)")
    .option(
      "--hash-first",
      "protocol version 1: hash each file before connecting, its SHA-256 in its header (for an older recv)",
    )
    .option("-t, --timeout <seconds>", "give up connecting after SECONDS: exit 4 (default 10)")
    .option("--progress", "show a progress bar on stderr (default when stderr is a terminal)")
    .option("--no-progress", "no progress bar")
    .addHelpText(
      "after",
      `
Each file goes with its name, size and SHA-256 (computed while the file is sent, and sent after
its data; with --hash-first, before it); the receiver answers when the file is saved and
verified, so exit 0 means every file arrived intact. A re-run after an interruption sends only
what the receiver lacks. Output: one line per file (--json: one object per file).

Examples:
  sockit send a.iso 192.0.2.7:9000            one file
  sockit send -r photos notes.txt [::1]:9000  a directory and a file`,
    );
  snd.action((args: string[], opts: Record<string, unknown>) => {
    reg.choose(snd, (ctx) => runSend(planSend(args, opts as Parameters<typeof planSend>[1]), ctx));
  });

  const rcv = addGlobalOptions(program.command("recv"), { json: true })
    .description("receive files from one `sockit send` into a directory: sockit recv [--dir DIR] [HOST:]PORT")
    .argument("<address>", "[HOST:]PORT to listen on (PORT alone: every interface; 0: any free port)")
    .option("-d, --dir <dir>", "where the files go (default: the current directory)")
    .option("-f, --force", "replace existing files (default: refused)")
    .option("--max-size <bytes>", "refuse files larger than this (10M, 1GiB, ...)")
    .option("--idle <seconds>", "give up when the sender is silent this long (default 60; 0: never)")
    .option("--progress", "show a progress bar on stderr (default when stderr is a terminal)")
    .option("--no-progress", "no progress bar")
    .addHelpText(
      "after",
      `
Names are taken as plain names (no "..", separators or control characters, at most 255 bytes);
a file is written to DIR/.NAME.part and renamed when its SHA-256 matches; a .part left by an
interrupted transfer is resumed. One sender is served, then recv exits: 0 when every file was
saved and verified.

Examples:
  sockit recv 9000                       into the current directory, on every interface
  sockit recv --dir /srv/in 127.0.0.1:0  a free port (printed), loopback only`,
    );
  rcv.action((address: string, opts: Record<string, unknown>) => {
    reg.choose(rcv, (ctx) => runRecv(planRecv(address, opts as Parameters<typeof planRecv>[1]), ctx));
  });
}
