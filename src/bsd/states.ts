/**
 * The states of a Berkeley socket and the calls each state allows, as two tables — one for
 * stream sockets, one for datagram sockets — that the socket consults before every call: a cell
 * names the state the call leads to, or the errno it is refused with, exactly as Linux answers.
 * docs/api.md ("States") shows {@link renderStateTable} of both; a test keeps them equal.
 *
 * @module
 */
import { closedError, makeOSError, type OSError } from "../errors/index.js";

/** A stream socket's states. */
export type StreamState = "created" | "bound" | "listening" | "connecting" | "connected" | "closed";

/** A datagram socket's states ("connected": it has a default peer). */
export type DatagramState = "created" | "bound" | "connected" | "closed";

/** Either kind of state. */
export type SocketState = StreamState | DatagramState;

/** The calls the tables rule on (`disconnect` is `connect(AF_UNSPEC)`). */
export type Call =
  | "bind"
  | "listen"
  | "accept"
  | "connect"
  | "disconnect"
  | "send"
  | "sendto"
  | "recv"
  | "shutdown"
  | "getpeername"
  | "close";

/** An errno name a table refuses a call with. */
export type Refusal =
  "EBADF" | "EINVAL" | "EISCONN" | "ENOTCONN" | "EALREADY" | "EPIPE" | "EOPNOTSUPP" | "EDESTADDRREQ";

/** One cell: the state the call leads to, or the errno it is refused with. */
export type Cell<S extends string> = S | Refusal;

/** A state table: for each state, what each call does. */
export type Table<S extends string> = Readonly<Record<S, Readonly<Partial<Record<Call, Cell<S>>>>>>;

/**
 * Stream sockets (TCP, Unix). Refinements the code adds to a cell, as Linux: `listen` on a
 * created socket binds it first; `connect` while connecting waits for the result unless the
 * socket is non-blocking (EALREADY), and after a connect that did not wait, the next `connect`
 * reports its result once (then EISCONN); `send`/`recv` while connecting wait for the connection
 * (EAGAIN when non-blocking), and a failed non-blocking connect's error comes first, once;
 * `getpeername` is ENOTCONN once the kernel dropped the connection (a reset).
 *
 * @example `STREAM_STATES.created.connect // "connected"; STREAM_STATES.listening.connect // "EINVAL"`
 */
export const STREAM_STATES: Table<StreamState> = {
  created: {
    bind: "bound",
    listen: "listening",
    accept: "EINVAL",
    connect: "connected",
    send: "EPIPE",
    sendto: "EPIPE",
    recv: "ENOTCONN",
    shutdown: "ENOTCONN",
    getpeername: "ENOTCONN",
    close: "closed",
  },
  bound: {
    bind: "EINVAL",
    listen: "listening",
    accept: "EINVAL",
    connect: "connected",
    send: "EPIPE",
    sendto: "EPIPE",
    recv: "ENOTCONN",
    shutdown: "ENOTCONN",
    getpeername: "ENOTCONN",
    close: "closed",
  },
  listening: {
    bind: "EINVAL",
    listen: "listening",
    accept: "listening",
    connect: "EINVAL",
    send: "EPIPE",
    sendto: "EPIPE",
    recv: "ENOTCONN",
    shutdown: "ENOTCONN",
    getpeername: "ENOTCONN",
    close: "closed",
  },
  connecting: {
    bind: "EINVAL",
    listen: "EINVAL",
    accept: "EINVAL",
    connect: "EALREADY",
    send: "connected",
    sendto: "EPIPE",
    recv: "connected",
    shutdown: "ENOTCONN",
    getpeername: "ENOTCONN",
    close: "closed",
  },
  connected: {
    bind: "EINVAL",
    listen: "EINVAL",
    accept: "EINVAL",
    connect: "EISCONN",
    send: "connected",
    sendto: "EISCONN",
    recv: "connected",
    shutdown: "connected",
    getpeername: "connected",
    close: "closed",
  },
  closed: {
    bind: "EBADF",
    listen: "EBADF",
    accept: "EBADF",
    connect: "EBADF",
    send: "EBADF",
    sendto: "EBADF",
    recv: "EBADF",
    shutdown: "EBADF",
    getpeername: "EBADF",
    close: "closed",
  },
};

/**
 * Datagram sockets (UDP). Refinements the code adds, as Linux: `send`/`sendto` on a created
 * socket bind it to a free port first; `send` without a peer then fails EDESTADDRREQ (the core
 * refuses a datagram without a destination, for both faces). `sendto` on a connected socket is
 * EISCONN because Node 20 cannot send elsewhere from a connected UDP socket (Linux can).
 * `shutdown` on a connected socket is EOPNOTSUPP for the same reason (Node has no shutdown for
 * UDP). `listen`/`accept` are EOPNOTSUPP in every state, as Linux.
 *
 * @example `DATAGRAM_STATES.created.send // "bound"; DATAGRAM_STATES.connected.sendto // "EISCONN"`
 */
export const DATAGRAM_STATES: Table<DatagramState> = {
  created: {
    bind: "bound",
    listen: "EOPNOTSUPP",
    accept: "EOPNOTSUPP",
    connect: "connected",
    disconnect: "created",
    send: "bound",
    sendto: "bound",
    recv: "created",
    shutdown: "ENOTCONN",
    getpeername: "ENOTCONN",
    close: "closed",
  },
  bound: {
    bind: "EINVAL",
    listen: "EOPNOTSUPP",
    accept: "EOPNOTSUPP",
    connect: "connected",
    disconnect: "bound",
    send: "bound",
    sendto: "bound",
    recv: "bound",
    shutdown: "ENOTCONN",
    getpeername: "ENOTCONN",
    close: "closed",
  },
  connected: {
    bind: "EINVAL",
    listen: "EOPNOTSUPP",
    accept: "EOPNOTSUPP",
    connect: "connected",
    disconnect: "bound",
    send: "connected",
    sendto: "EISCONN",
    recv: "connected",
    shutdown: "EOPNOTSUPP",
    getpeername: "connected",
    close: "closed",
  },
  closed: {
    bind: "EBADF",
    listen: "EOPNOTSUPP",
    accept: "EOPNOTSUPP",
    connect: "EBADF",
    disconnect: "EBADF",
    send: "EBADF",
    sendto: "EBADF",
    recv: "EBADF",
    shutdown: "EBADF",
    getpeername: "EBADF",
    close: "closed",
  },
};

type Hints = Readonly<Partial<Record<`${Call} ${Refusal}`, string>>>;

/** What a stream socket's refusal says to check (the errno alone when nothing is listed). */
const STREAM_HINTS: Hints = {
  "bind EINVAL": "the socket is already bound or connected",
  "listen EINVAL": "listen() needs a bound, unconnected socket",
  "accept EINVAL": "call listen() before accept()",
  "connect EINVAL": "a listening socket does not connect; use a new socket",
  "connect EALREADY": "a non-blocking connect is in progress",
  "send EPIPE": "the socket is not connected; connect() or accept() first",
  "recv ENOTCONN": "the socket is not connected; connect() or accept() first",
  "sendto EPIPE": "stream sockets connect() first, then send()",
  "sendto EISCONN": "a connected stream socket uses send()",
};

/** What a datagram socket's refusal says to check. */
const DATAGRAM_HINTS: Hints = {
  "bind EINVAL": "the socket is already bound or connected",
  "listen EOPNOTSUPP": "datagram sockets do not listen; recvfrom() instead",
  "accept EOPNOTSUPP": "datagram sockets do not accept; recvfrom() instead",
  "sendto EISCONN":
    "Node cannot sendto() another address on a connected datagram socket; use send() or disconnect first",
  "shutdown ENOTCONN": "datagram sockets have no connection to shut down",
  "shutdown EOPNOTSUPP": "datagram sockets have no connection to shut down",
};

const HINTS = new Map<object, Hints>([
  [STREAM_STATES, STREAM_HINTS],
  [DATAGRAM_STATES, DATAGRAM_HINTS],
]);

const REFUSALS: ReadonlySet<string> = new Set<Refusal>([
  "EBADF",
  "EINVAL",
  "EISCONN",
  "ENOTCONN",
  "EALREADY",
  "EPIPE",
  "EOPNOTSUPP",
  "EDESTADDRREQ",
]);

/**
 * True when a cell refuses the call (it names an errno, not a state).
 * @example `isRefusal(STREAM_STATES.closed.recv!) // true`
 */
export function isRefusal(cell: string): cell is Refusal {
  return REFUSALS.has(cell);
}

/**
 * The OSError `table` refuses `call` with, for operation `op` (EBADF is the closed-socket error).
 * @example `throw refusal(STREAM_STATES, "accept", "EINVAL")`
 */
export function refusal<S extends string>(
  table: Table<S>,
  call: Call,
  errno: Refusal,
  op: string = call,
): OSError {
  if (errno === "EBADF") return closedError(op);
  const hint = HINTS.get(table)?.[`${call} ${errno}`];
  return makeOSError(errno, hint === undefined ? { op } : { op, hint });
}

/**
 * The state `call` leads to from `state`, or throws the OSError the table refuses it with.
 * @example `const next = enter(STREAM_STATES, "created", "bind") // "bound"`
 */
export function enter<S extends string>(table: Table<S>, state: S, call: Call, op: string = call): S {
  const cell = table[state][call];
  if (cell === undefined) throw new Error(`no rule for ${call} in state ${state}`);
  if (isRefusal(cell)) throw refusal(table, call, cell, op);
  return cell;
}

/**
 * A table as Markdown: one row per state, one column per call; `→ state` where the call is
 * allowed, the errno where it is refused. docs/api.md shows exactly this text.
 * @example `renderStateTable(DATAGRAM_STATES).split("\n")[0] // "| state | bind | listen | …"`
 */
export function renderStateTable<S extends string>(table: Table<S>): string {
  const states = Object.keys(table) as S[];
  const calls: Call[] = [];
  for (const s of states)
    for (const c of Object.keys(table[s]) as Call[]) if (!calls.includes(c)) calls.push(c);
  const rows = [`| state | ${calls.join(" | ")} |`, `|---|${calls.map(() => "---|").join("")}`];
  for (const s of states) {
    const cells = calls.map((c) => {
      const cell = table[s][c];
      if (cell === undefined) return "";
      return isRefusal(cell) ? cell : `→ ${cell}`;
    });
    rows.push(`| ${s} | ${cells.join(" | ")} |`);
  }
  return rows.join("\n");
}
