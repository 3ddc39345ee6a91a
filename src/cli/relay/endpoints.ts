/**
 * Opening relay addresses: every address becomes an {@link Opener} that yields
 * {@link RelayStream}s — one per accepted connection for listening addresses, a fresh instance
 * per call for the others (a new TCP connection, a new child process…).
 *
 * UDP is carried as datagrams: a stream's `read()` is one datagram, `write()` sends one. A
 * `udp-listen` address "accepts" when its first datagram arrives; from then on it reads datagrams
 * from anyone and writes to the last sender.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import { formatHostPort } from "../../addr/address.js";
import { toSocketError } from "../../errors/index.js";
import { dial, listen, listenPacket, type TLSOptions } from "../../net/index.js";
import type { Context } from "../context.js";
import { writeAll } from "../pump.js";
import { childEnd } from "../session/child.js";
import type { SpliceEnd } from "../session/splice.js";
import { StdinReader } from "../session/stdin.js";
import { connEnd } from "../session/stdio.js";
import { packetEnd } from "../session/udp.js";
import { clientTLS } from "../tls.js";
import { formatRelayAddress, type RelayAddress, type RelayTLS } from "./address.js";

/**
 * One open side of a relay: a {@link SpliceEnd} (the relay is a splice of two).
 * @example `const s: RelayStream = await opener.next()`
 */
export type RelayStream = SpliceEnd;

/** A prepared address: bound if it listens, opened on demand otherwise. */
export interface Opener {
  /** The bound address for listening addresses ("127.0.0.1:41234", a path), else undefined. */
  readonly bound: string | undefined;
  /** Accepts the next connection (listeners) or opens a fresh instance (everything else). */
  next(signal?: AbortSignal): Promise<RelayStream>;
  /** Stops listening (a Unix path is removed). Idempotent. */
  close(): Promise<void>;
}

function stdioStream(ctx: Context): RelayStream {
  const r = new StdinReader(ctx.io.stdin);
  return {
    label: "stdio",
    abortResets: false,
    datagram: false,
    maxWrite: Number.POSITIVE_INFINITY,
    read: () => r.read(),
    write: (b) => writeAll(ctx.io.stdout, b),
    closeWrite: async () => {},
    close: async () => r.stop(),
    abort: () => r.stop(),
  };
}

async function execStream(argv: readonly string[], command: string, ctx: Context): Promise<RelayStream> {
  const [file = "", ...args] = argv;
  const child: ChildProcess = spawn(file, args, { stdio: ["pipe", "pipe", "inherit"] });
  const label = `exec ${command}`;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: unknown) => {
      child.off("spawn", onSpawn);
      reject(toSocketError(e, { op: "exec", address: file, hint: "is the command installed and on PATH?" }));
    };
    const onSpawn = () => {
      child.off("error", onError);
      resolve();
    };
    child.once("error", onError);
    child.once("spawn", onSpawn);
  });
  child.on("error", () => {}); // later errors (a signal to a child already gone) change nothing
  child.once("exit", (code, sig) => ctx.info(`${label}: exited with ${sig ?? `code ${String(code)}`}`));
  return childEnd(child, label, { discardWhenDeaf: false, exitWithinMs: 2000, killGraceMs: 2000 });
}

function once1<T>(
  what: string,
  f: (signal?: AbortSignal) => Promise<T>,
): (signal?: AbortSignal) => Promise<T> {
  let used = false;
  return (signal) => {
    if (used) return Promise.reject(new Error(`${what} can be opened only once`));
    used = true;
    return f(signal);
  };
}

function announce(ctx: Context, bound: string, port: string | undefined): void {
  // port 0: always say which port was picked (users and scripts need it)
  if (port === "0") ctx.err(`sockit: listening on ${bound}\n`);
  else ctx.info(`listening on ${bound}`);
}

/**
 * Prepares an address: listening addresses bind now (and announce their port when it was 0);
 * the others open on each `next()`.
 *
 * @example
 * ```ts
 * const o = await prepare(parseRelayAddress("tcp-listen:127.0.0.1:0"), ctx);
 * const s = await o.next(); // the first client
 * ```
 */
function relayClientTLS(t: RelayTLS, ctx: Context): TLSOptions {
  return clientTLS(
    {
      tls: true,
      ...(t.cafile === undefined ? {} : { ca: t.cafile }),
      ...(t.servername === undefined ? {} : { servername: t.servername }),
      insecure: !t.verify,
    },
    ctx,
  )!;
}

function relayServerTLS(t: RelayTLS): TLSOptions {
  const read = (f: string) => {
    try {
      return fs.readFileSync(f, "utf8");
    } catch (err) {
      throw toSocketError(err, { op: "open", address: f, hint: `cannot read the tls-listen file ${f}` });
    }
  };
  return {
    cert: read(t.cert!),
    key: read(t.key!),
    ...(t.verify ? { requestCert: true, ...(t.cafile === undefined ? {} : { ca: read(t.cafile) }) } : {}),
  };
}

export async function prepare(a: RelayAddress, ctx: Context): Promise<Opener> {
  switch (a.kind) {
    case "tcp":
    case "unix": {
      const net = a.kind === "tcp" ? a.network : "unix";
      const addr = a.kind === "tcp" ? formatHostPort(a.host, a.port) : a.path;
      return {
        bound: undefined,
        next: async (signal) => {
          const tls = a.kind === "tcp" && a.tls !== undefined ? relayClientTLS(a.tls, ctx) : undefined;
          const conn = await dial(net, addr, { ...(signal ? { signal } : {}), ...(tls ? { tls } : {}) });
          ctx.info(`connected to ${a.kind === "tcp" ? conn.remoteAddress : a.path}`);
          return connEnd(conn, a.kind === "tcp" ? conn.remoteAddress : a.path);
        },
        close: async () => {},
      };
    }
    case "tcp-listen":
    case "unix-listen": {
      const ln =
        a.kind === "tcp-listen"
          ? await listen(
              a.network,
              formatHostPort(a.host, a.port),
              a.tls === undefined ? {} : { tls: relayServerTLS(a.tls) },
            )
          : await listen("unix", a.path);
      announce(ctx, ln.address, a.kind === "tcp-listen" ? a.port : undefined);
      return {
        bound: ln.address,
        next: async (signal) => {
          const conn = await ln.accept(signal ? { signal } : undefined);
          const from = a.kind === "tcp-listen" ? conn.remoteAddress : `a client on ${a.path}`;
          ctx.info(`accepted ${from}`);
          return connEnd(conn, a.kind === "tcp-listen" ? conn.remoteAddress : a.path);
        },
        close: () => ln.close(),
      };
    }
    case "udp":
      return {
        bound: undefined,
        next: async (signal) => {
          const pc = await dial(a.network, formatHostPort(a.host, a.port), signal ? { signal } : {});
          ctx.info(
            `sending datagrams to ${pc.remoteAddress ?? formatRelayAddress(a)} from ${pc.localAddress}`,
          );
          return packetEnd(pc, pc.remoteAddress ?? formatRelayAddress(a), true);
        },
        close: async () => {},
      };
    case "udp-listen": {
      const pc = await listenPacket(a.network, formatHostPort(a.host, a.port));
      announce(ctx, pc.localAddress, a.port);
      let taken = false;
      return {
        bound: pc.localAddress,
        next: once1(formatRelayAddress(a), async (signal) => {
          const p = await pc.readFrom(undefined, signal ? { signal } : undefined);
          taken = true;
          ctx.info(`first datagram from ${p.address}`);
          return packetEnd(pc, p.address, false, { first: { data: p.data, from: p.endpoint } });
        }),
        close: async () => {
          if (!taken) await pc.close(); // once taken, the stream owns the socket
        },
      };
    }
    case "stdio":
      return { bound: undefined, next: once1("stdio", async () => stdioStream(ctx)), close: async () => {} };
    case "exec":
      return { bound: undefined, next: () => execStream(a.argv, a.command, ctx), close: async () => {} };
  }
}
