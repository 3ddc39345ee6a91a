/**
 * `connectStream`: one connection attempt to one resolved endpoint (TCP or Unix), with a
 * timeout and an AbortSignal; the result is a {@link StreamSocket}. Racing several addresses is
 * `connectAny`'s job (connect.ts), built on this.
 *
 * @module
 */
import * as net from "node:net";
import { makeOSError, type OSError, toSocketError } from "../errors/index.js";
import { span, sym, tracing } from "../trace.js";
import { type Endpoint, endpointTrace, formatEndpoint, isUnix } from "./endpoint.js";
import { allocFd, releaseFd } from "./fd.js";
import { StreamSocket } from "./stream.js";
import type { Wait } from "./wait.js";

/** Options for {@link connectStream}. */
export interface ConnectOptions extends Wait {
  /** Local address to bind before connecting (bind-then-connect). */
  readonly localAddress?: string | undefined;
  /** Local port to bind before connecting. */
  readonly localPort?: number | undefined;
  /** Use this descriptor number (the Berkeley face allocates it at `socket()`). */
  readonly fd?: number | undefined;
  /** TCP_NODELAY from the start. */
  readonly noDelay?: boolean | undefined;
  /** SO_KEEPALIVE from the start. */
  readonly keepAlive?: boolean | undefined;
}

/**
 * Connects a TCP or Unix stream socket to a resolved endpoint.
 *
 * @example
 * ```ts
 * const s = await connectStream({ path: "/tmp/echo.sock" }, { timeout: 2000 });
 * ```
 */
export function connectStream(to: Endpoint, opts: ConnectOptions = {}): Promise<StreamSocket> {
  const fd = opts.fd ?? allocFd();
  const ownFd = opts.fd === undefined;
  if (ownFd && tracing()) {
    const family = isUnix(to) ? "AF_UNIX" : to.family === 6 ? "AF_INET6" : "AF_INET";
    span(fd, "socket", [sym(family), sym("SOCK_STREAM")])?.ok(fd);
  }
  const sp = tracing() ? span(fd, "connect", [endpointTrace(to)]) : undefined;
  const where = formatEndpoint(to);
  const unixPath = "path" in to ? to.path : undefined;
  return new Promise<StreamSocket>((resolve, reject) => {
    if (opts.signal?.aborted) {
      if (ownFd) releaseFd(fd);
      reject(
        toSocketError(Object.assign(new Error("aborted"), { code: "EINTR" }), {
          op: "connect",
          address: where,
        }),
      );
      return;
    }
    const common = {
      allowHalfOpen: true,
      noDelay: opts.noDelay ?? false,
      keepAlive: opts.keepAlive ?? false,
    };
    const sock =
      unixPath !== undefined
        ? net.connect({ ...common, path: unixPath })
        : net.connect({
            ...common,
            host: (to as { address: string }).address,
            port: (to as { port: number }).port,
            family: (to as { family: 4 | 6 }).family,
            ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }),
            ...(opts.localPort === undefined ? {} : { localPort: opts.localPort }),
          });
    let timer: NodeJS.Timeout | undefined;
    const done = (err: OSError | undefined) => {
      if (timer !== undefined) clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      sock.off("error", onError);
      sock.off("connect", onConnect);
      if (err) {
        sock.destroy();
        sp?.fail(err);
        if (ownFd) releaseFd(fd);
        reject(err);
        return;
      }
      sp?.ok(0);
      resolve(new StreamSocket(sock, fd, unixPath === undefined ? undefined : { remote: unixPath }, to));
    };
    const onError = (e: Error) => done(toSocketError(e, { op: "connect", address: where }));
    const onConnect = () => done(undefined);
    const onAbort = () =>
      done(
        makeOSError("EINTR", {
          op: "connect",
          address: where,
          cause: opts.signal?.reason,
          hint: "the operation was aborted by its AbortSignal",
        }),
      );
    sock.once("error", onError);
    sock.once("connect", onConnect);
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    if (opts.timeout !== undefined) {
      const ms = opts.timeout;
      timer = setTimeout(
        () =>
          done(
            makeOSError("ETIMEDOUT", {
              op: "connect",
              address: where,
              hint: `no answer within ${ms / 1000} s; is the host up and the port open?`,
            }),
          ),
        ms,
      );
    }
  });
}
