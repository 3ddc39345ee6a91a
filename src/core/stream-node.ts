/**
 * How a {@link StreamSocket} hears from its Node socket: one set of module-level listeners shared
 * by every connection (no closures per socket), each finding its owner through a symbol; and the
 * reset (RST) that close and abort use.
 *
 * @module
 */
import type * as net from "node:net";

/** What a Node socket's events are delivered to (the StreamSocket that owns it). @internal */
export interface StreamOwner {
  _data(chunk: Buffer): void;
  _event(kind: "end" | "close" | "error" | "drain", err?: unknown): void;
}

/** RST and destroy (SO_LINGER 0 on close: the kernel drops what is queued instead of keeping it). */
/** @internal @example `reset(sock)` */
export function reset(sock: net.Socket): void {
  if (sock.destroyed) return;
  // a TLS socket's handle wraps the TCP one (Node refuses resetAndDestroy on it): reset that
  const parent = (sock as unknown as { _handle?: { _parent?: { reset?(cb: () => void): number } } | null })
    ._handle?._parent;
  if (typeof parent?.reset === "function") {
    if (parent.reset(() => sock.destroy()) !== 0) sock.destroy();
    return;
  }
  try {
    sock.resetAndDestroy();
  } catch {
    sock.destroy();
  }
}

const OWNER = Symbol("sockit.stream");
type Owned = net.Socket & { [OWNER]: StreamOwner };

function onData(this: net.Socket, chunk: Buffer): void {
  (this as Owned)[OWNER]._data(chunk);
}
function onEnd(this: net.Socket): void {
  (this as Owned)[OWNER]._event("end");
}
function onError(this: net.Socket, err: Error): void {
  (this as Owned)[OWNER]._event("error", err);
}
function onDrain(this: net.Socket): void {
  (this as Owned)[OWNER]._event("drain");
}
function onClose(this: net.Socket): void {
  (this as Owned)[OWNER]._event("close");
}

/**
 * Adds `fn` and, when `replace`, removes the event's other listeners. Removing after adding
 * leaves Node's events object in its fast shape (removing the only listener would `delete` the
 * key and turn it into a dictionary: ~400 bytes per connection).
 */
function soleListener(
  sock: net.Socket,
  event: string,
  fn: (this: net.Socket, err: Error) => void,
  replace: boolean,
): void {
  sock.on(event, fn);
  if (!replace) return;
  for (const other of sock.listeners(event)) {
    if (other !== fn) sock.removeListener(event, other as (...args: unknown[]) => void);
  }
}

/**
 * Makes `owner` hear `sock`'s events. Node's own 'end' listener only matters without
 * allowHalfOpen (which sockit always sets) and an accept queue's placeholder 'error' listener has
 * done its job, so ours replace them (two listeners cost an array per event per connection).
 * @internal
 * @example `attach(sock, this)`
 */
export function attach(sock: net.Socket, owner: StreamOwner): void {
  (sock as Owned)[OWNER] = owner;
  sock.on("data", onData);
  soleListener(sock, "end", onEnd, sock.allowHalfOpen);
  soleListener(sock, "error", onError, true);
  sock.on("drain", onDrain);
  sock.on("close", onClose);
}

/**
 * Undoes {@link attach}: the socket is handed on (to TLS, for STARTTLS); `owner` hears no more.
 * @internal
 * @example `detach(sock)`
 */
export function detach(sock: net.Socket): void {
  sock.removeListener("data", onData);
  sock.removeListener("end", onEnd);
  sock.removeListener("error", onError);
  sock.removeListener("drain", onDrain);
  sock.removeListener("close", onClose);
  delete (sock as Partial<Owned>)[OWNER];
}
