/**
 * The test kit: real local endpoints for tests, each closed by `close()` or `await using`.
 *
 * - {@link localListener}: a listening socket on 127.0.0.1:0, [::1]:0 or a temporary Unix path.
 * - {@link tcpPair} (Go face, `Conn`) and {@link bsdTcpPair} (Berkeley face, `Socket`): two
 *   connected stream sockets.
 * - {@link udpPair}: two bound datagram sockets.
 * - {@link closedPort}: a port that is really closed for the whole test (held bound, not listening,
 *   by a Python process), so connects to it are refused and nobody else can take it.
 * - `pipe()` (in `./pipe.ts`): an in-memory connection pair for logic that needs no socket.
 *
 * @example
 * ```ts
 * await using p = await tcpPair();
 * await p.cli.write("ping");
 * assert.equal((await p.srv.readExactly(4)).toString(), "ping");
 * ```
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  SOCK_DGRAM,
  SOCK_STREAM,
  type Socket,
  socket,
} from "../../src/bsd/index.js";
import { type Conn, dial, type Listener, listen, type StreamNetwork } from "../../src/net/index.js";
import { within } from "./leaks.js";

/** Where a local endpoint lives: IPv4 loopback, IPv6 loopback, or a temporary Unix path. */
export type LocalFamily = "tcp4" | "tcp6" | "unix";

/** A fresh socket path in the temporary directory (nothing is created there yet). */
export function tempSocketPath(): string {
  return join(tmpdir(), `sockit-test-${process.pid}-${randomBytes(6).toString("hex")}.sock`);
}

/** The listen address of `family`: `"127.0.0.1:0"`, `"[::1]:0"` or a fresh temporary path. */
function localAddress(family: LocalFamily): { network: StreamNetwork; address: string } {
  switch (family) {
    case "tcp4":
      return { network: "tcp4", address: "127.0.0.1:0" };
    case "tcp6":
      return { network: "tcp6", address: "[::1]:0" };
    case "unix":
      return { network: "unix", address: tempSocketPath() };
  }
}

/**
 * A listening socket (Go face) on 127.0.0.1:0, [::1]:0 or a temporary Unix path; the real
 * address is `ln.address`. Closing it removes the Unix path.
 *
 * @example
 * ```ts
 * await using ln = await localListener("tcp6");
 * const conn = await dial("tcp6", ln.address);
 * ```
 */
export async function localListener(family: LocalFamily = "tcp4"): Promise<Listener> {
  const { network, address } = localAddress(family);
  return listen(network, address);
}

/** Two connected `Conn`s from {@link tcpPair}, and the listener they came through. */
export interface ConnPair extends AsyncDisposable {
  /** The listener (already closed when `keepListener` was false; its address stays readable). */
  readonly ln: Listener;
  /** The dialling side. */
  readonly cli: Conn;
  /** The accepted side. */
  readonly srv: Conn;
  /** Closes both connections, then the listener. */
  close(): Promise<void>;
}

/** Options of {@link tcpPair}. */
export interface TcpPairOptions {
  /** Loopback family or Unix path (default "tcp4"); ignored when `network` is given. */
  readonly family?: LocalFamily;
  /** Listen with this network… */
  readonly network?: StreamNetwork;
  /** …on this address (default from `family`). */
  readonly address?: string;
  /** The address to dial, from the listener (default `ln.address`). */
  readonly dialAddress?: (ln: Listener) => string;
  /** Keep the listener open until `close()` (default true). */
  readonly keepListener?: boolean;
}

/**
 * Two connected stream connections (Go face) over a fresh local listener: `cli` dialled, `srv`
 * accepted. Bounded: rejects if dial/accept take more than 5 s.
 *
 * @example
 * ```ts
 * const p = await tcpPair({ family: "unix" });
 * try { await p.cli.write("x"); } finally { await p.close(); }
 * ```
 */
export async function tcpPair(opts: TcpPairOptions = {}): Promise<ConnPair> {
  const where = localAddress(opts.family ?? "tcp4");
  const network = opts.network ?? where.network;
  const ln = await listen(network, opts.address ?? where.address);
  try {
    const to = opts.dialAddress ? opts.dialAddress(ln) : ln.address;
    const [cli, srv] = await within(Promise.all([dial(network, to), ln.accept()]), 5000, "dial/accept");
    if (opts.keepListener === false) await ln.close();
    const close = async (): Promise<void> => {
      await cli.close();
      await srv.close();
      await ln.close();
    };
    return { ln, cli, srv, close, [Symbol.asyncDispose]: close };
  } catch (err) {
    await ln.close();
    throw err;
  }
}

/** A client connection whose server side a handler serves, from {@link servedPair}. */
export interface ServedPair extends AsyncDisposable {
  /** The listener (still open: close it, or use `close()`). */
  readonly ln: Listener;
  /** The dialling side, for the test to talk on. */
  readonly conn: Conn;
  /** Settles when the handler is done and the accepted side is closed. */
  readonly served: Promise<void>;
  /** Closes the client side and the listener. */
  close(): Promise<void>;
}

/**
 * A {@link tcpPair} whose accepted side is handed to `serve` (closed when it settles): a small
 * local server for one connection.
 *
 * @example
 * ```ts
 * const { conn, served, close } = await servedPair(async (s) => void (await s.write("hi")));
 * assert.equal((await conn.readExactly(2)).toString(), "hi");
 * await served;
 * await close();
 * ```
 */
export async function servedPair(serve: (srv: Conn) => Promise<void>): Promise<ServedPair> {
  const p = await tcpPair();
  const served = serve(p.srv).finally(() => p.srv.close());
  const close = async (): Promise<void> => {
    await p.cli.close();
    await p.ln.close();
  };
  return { ln: p.ln, conn: p.cli, served, close, [Symbol.asyncDispose]: close };
}

/** Two connected Berkeley sockets from {@link bsdTcpPair}, and the listening socket. */
export interface SocketPair extends AsyncDisposable {
  /** The listening socket (already closed when `keepListener` was false). */
  readonly srv: Socket;
  /** The connecting side. */
  readonly cli: Socket;
  /** The accepted side. */
  readonly conn: Socket;
  /** The peer address accept() returned. */
  readonly peer: unknown;
  /** Closes cli, conn, then srv (and removes a Unix path). */
  close(): Promise<void>;
}

/** Options of {@link bsdTcpPair}. */
export interface BsdPairOptions {
  /** Loopback family or Unix path (default "tcp4"). */
  readonly family?: LocalFamily;
  /** For "unix": bind here (a path, or "\0name" for the abstract namespace). */
  readonly at?: string;
  /** listen() backlog (default 5). */
  readonly backlog?: number;
  /** Keep the listening socket open until `close()` (default true). */
  readonly keepListener?: boolean;
}

const AF: Readonly<Record<LocalFamily, number>> = { tcp4: AF_INET, tcp6: AF_INET6, unix: AF_UNIX };

/**
 * A listening Berkeley socket on 127.0.0.1:0, [::1]:0 or a Unix path, and a connected
 * client/server pair over it (`cli` connected, `conn` accepted). Bounded: 5 s.
 *
 * @example
 * ```ts
 * await using p = await bsdTcpPair({ family: "tcp6" });
 * await p.conn.sendall(Buffer.from("hi"));
 * await p.cli.recv(2);
 * ```
 */
export async function bsdTcpPair(opts: BsdPairOptions = {}): Promise<SocketPair> {
  const family = opts.family ?? "tcp4";
  const path = family === "unix" ? (opts.at ?? tempSocketPath()) : undefined;
  const srv = socket(AF[family], SOCK_STREAM);
  const cli = socket(AF[family], SOCK_STREAM);
  const unlink = (): void => {
    if (path !== undefined && !path.startsWith("\0")) rmSync(path, { force: true });
  };
  try {
    await srv.bind(path ?? [family === "tcp6" ? "::1" : "127.0.0.1", 0]);
    await srv.listen(opts.backlog ?? 5);
    const [, [conn, peer]] = await within(
      Promise.all([cli.connect(srv.getsockname()), srv.accept()]),
      5000,
      "connect/accept",
    );
    if (opts.keepListener === false) {
      await srv.close();
      unlink();
    }
    const close = async (): Promise<void> => {
      await cli.close();
      await conn.close();
      await srv.close();
      unlink();
    };
    return { srv, cli, conn, peer, close, [Symbol.asyncDispose]: close };
  } catch (err) {
    await cli.close();
    await srv.close();
    unlink();
    throw err;
  }
}

/** Two bound datagram sockets from {@link udpPair}. */
export interface DatagramPair extends AsyncDisposable {
  /** The first socket (a test may swap in another; `close()` closes what is there). */
  a: Socket;
  /** The second socket. */
  b: Socket;
  /** Closes both. */
  close(): Promise<void>;
}

/**
 * Two Berkeley datagram sockets bound on loopback port 0 (`"tcp6"` picks ::1; `"unix"` is not
 * offered here). They are not connected: `a.sendto(x, b.getsockname())`.
 *
 * @example
 * ```ts
 * await using u = await udpPair();
 * await u.a.sendto(Buffer.from("x"), u.b.getsockname());
 * ```
 */
export async function udpPair(family: "tcp4" | "tcp6" = "tcp4"): Promise<DatagramPair> {
  const host = family === "tcp6" ? "::1" : "127.0.0.1";
  const a = socket(AF[family], SOCK_DGRAM);
  const b = socket(AF[family], SOCK_DGRAM);
  try {
    await a.bind([host, 0]);
    await b.bind([host, 0]);
  } catch (err) {
    await a.close();
    await b.close();
    throw err;
  }
  const pair: DatagramPair = {
    a,
    b,
    close: async () => {
      await pair.a.close();
      await pair.b.close();
    },
    [Symbol.asyncDispose]: () => pair.close(),
  };
  return pair;
}

/** A port held closed by {@link closedPort}. */
export interface ClosedPort extends AsyncDisposable {
  /** The loopback address: "127.0.0.1" or "::1". */
  readonly host: string;
  /** The port: bound by the holder, not listening. */
  readonly port: number;
  /** `"127.0.0.1:port"` or `"[::1]:port"`. */
  readonly address: string;
  /** Releases the port (ends the holder process). */
  close(): Promise<void>;
}

/** Options of {@link closedPort}. */
export interface ClosedPortOptions {
  /** "tcp4" (default) or "tcp6". */
  readonly family?: "tcp4" | "tcp6";
  /**
   * Hold the port with SO_REUSEADDR so the test itself can bind it as a *source* port (libuv
   * binds with SO_REUSEADDR; two bound, non-listening sockets may then share the port). Connects
   * to it are still refused, and the kernel never hands it out as an ephemeral port.
   */
  readonly reusable?: boolean;
}

const HOLDER = `
import socket, sys
fam = socket.AF_INET6 if sys.argv[1] == "tcp6" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
if sys.argv[2] == "1":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::1" if fam == socket.AF_INET6 else "127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
sys.stdin.read()
`;

/**
 * A loopback TCP port that is really closed for as long as the handle lives: a Python process
 * holds it bound but not listening (in Node a bound TCP socket always listens). Connects to it are
 * refused (ECONNREFUSED) every time, and neither `bind(0)` nor an outgoing connect can be given
 * the port meanwhile — unlike "bind 0, close, reuse", which races with every other test.
 *
 * @example
 * ```ts
 * await using closed = await closedPort();
 * await rejectsOSError(dial("tcp", closed.address), ConnectionRefusedError, "ECONNREFUSED", "connect");
 * ```
 */
export async function closedPort(opts: ClosedPortOptions = {}): Promise<ClosedPort> {
  const family = opts.family ?? "tcp4";
  const host = family === "tcp6" ? "::1" : "127.0.0.1";
  const child: ChildProcess = spawn("python3", ["-c", HOLDER, family, opts.reusable ? "1" : "0"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdin!.on("error", () => {}); // the holder may be gone already when we end its stdin
  const exited = once(child, "exit");
  exited.catch(() => {});
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin!.end();
      try {
        await within(exited, 5000, "closedPort holder exit");
      } catch {
        child.kill("SIGKILL");
        await exited;
      }
    }
    child.stdout!.destroy();
    child.stderr!.destroy();
  };
  try {
    const port = await within(
      new Promise<number>((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /^(\d+)\n/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.on("error", reject);
        child.on("exit", (code) => reject(new Error(`closedPort: python3 exited ${code}: ${err}`)));
      }),
      10_000,
      "closedPort holder start",
    );
    const address = family === "tcp6" ? `[${host}]:${port}` : `${host}:${port}`;
    return { host, port, address, close, [Symbol.asyncDispose]: close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Waits until `cond()` is true, checking every `everyMs` (default 10) for at most `ms`; rejects
 * naming `what` otherwise. The readiness wait that replaces a blind sleep.
 *
 * @example
 * ```ts
 * await waitFor(() => server.connections === 1, 2000, "the server to see the client");
 * ```
 */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
  everyMs = 10,
): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() >= until) throw new Error(`waited ${ms} ms for ${what}; it did not happen`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Waits until `get()` stops changing for `quietMs` (checked every 20 ms, bounded by `maxMs`) and
 * returns the last value: the readiness wait for "the flood has filled every buffer it can".
 *
 * @example
 * ```ts
 * const received = await settled(() => rx.stream!.counters.received);
 * ```
 */
export async function settled(get: () => number, quietMs = 150, maxMs = 5000): Promise<number> {
  const until = Date.now() + maxMs;
  let last = get();
  let since = Date.now();
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
    const now = get();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) break;
  }
  return last;
}
