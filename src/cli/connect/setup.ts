/**
 * Connection set-up for `sockit connect`: name lookup + connect bounded by `-w` (or `-i` when
 * that is shorter), and the timeout error that says which flag ran out.
 *
 * @module
 */
import { formatHostPort } from "../../addr/address.js";
import { OSError, TimeoutError } from "../../errors/index.js";
import { resolveNetAddress } from "../../net/address.js";
import type { IpEndpoint, Network } from "../../net/index.js";

/**
 * A limit on connection set-up and the flag that set it.
 * @example `const limit: SetupLimit = { ms: 2000, flag: "-w" }`
 */
export interface SetupLimit {
  readonly ms: number;
  readonly flag: "-w" | "-i";
}

/**
 * What bounds connection set-up (name lookup + connect): `-w`, or `-i` when that is shorter —
 * silence while connecting counts as silence. Undefined: neither was given.
 * @example `setupLimit({ connectTimeoutMs: 5000, idleMs: 1000 }) // { ms: 1000, flag: "-i" }`
 */
export function setupLimit(plan: {
  readonly connectTimeoutMs: number | undefined;
  readonly idleMs: number | undefined;
}): SetupLimit | undefined {
  const w = plan.connectTimeoutMs;
  const i = plan.idleMs;
  if (w !== undefined && (i === undefined || w <= i)) return { ms: w, flag: "-w" };
  return i === undefined ? undefined : { ms: i, flag: "-i" };
}

/**
 * The error when set-up passed its limit: `connect 10.0.0.1:80: connection timed out
 * (ETIMEDOUT) — not connected within 2 s (-w 2); is the host up, …` (exit 4).
 * @example `throw setupTimeoutError({ ms: 2000, flag: "-w" }, "10.0.0.1:80")`
 */
export function setupTimeoutError(limit: SetupLimit, address: string): TimeoutError {
  const s = limit.ms / 1000;
  const what =
    limit.flag === "-w"
      ? `not connected within ${s} s (-w ${s})`
      : `no answer for ${s} s while connecting (-i ${s})`;
  return new TimeoutError("ETIMEDOUT", {
    op: "connect",
    address,
    hint: `${what}; is the host up, and is the port open (not filtered by a firewall)?`,
  });
}

/**
 * `p`, unless `ms` pass first (rejects with `onTimeout()`) or `signal` aborts (rejects with its
 * reason); `ms` undefined: no limit. For waits that cannot be cancelled, like a name lookup.
 */
function within<T>(
  p: Promise<T>,
  ms: number | undefined,
  signal: AbortSignal,
  onTimeout: () => Error,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    if (ms !== undefined) timer = setTimeout(() => reject(onTimeout()), Math.max(0, ms));
    onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  p.catch(() => {});
  return Promise.race([p, stop]).finally(() => {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort!);
  });
}

/**
 * Resolves an IP address (`host:port`) with set-up bounded by `limit` (a lookup cannot be
 * cancelled: it is raced); rejects with {@link setupTimeoutError} when the limit passes first.
 * @example `const ep = await resolveWithin("tcp", "localhost:80", signal, { ms: 2000, flag: "-w" })`
 */
export async function resolveWithin(
  network: Exclude<Network, "unix">,
  address: string,
  signal: AbortSignal,
  limit: SetupLimit | undefined,
): Promise<IpEndpoint> {
  const to = await within(resolveNetAddress(network, address, false, "connect"), limit?.ms, signal, () =>
    setupTimeoutError(limit!, address),
  );
  return to as IpEndpoint;
}

const SOURCE_HINTS: Record<string, (given: string) => string> = {
  EADDRNOTAVAIL: (given) =>
    `${given} is not one of this host's addresses (sockit info lists them) or not of the destination's family`,
  EADDRINUSE: (given) =>
    `${given} is in use by another socket; pick another source port (-p) or leave it out`,
  EACCES: (given) => `binding ${given} needs privileges (ports below 1024 need root)`,
  EINVAL: (given) => `${given} cannot be used to reach that destination`,
  EAFNOSUPPORT: (given) => `${given} is not of the destination's family (IPv4 vs IPv6)`,
};

/**
 * A failed connect from a chosen source (`-s`/`-p`): when the error is about the local end
 * (EADDRNOTAVAIL, EADDRINUSE, EACCES…), the same errno class, but naming the source address and
 * the flag instead of blaming the destination. Any other error is returned as it is.
 * @example `throw sourceError(err, { address: "10.9.9.9" }, "127.0.0.1:80")`
 */
export function sourceError(
  err: unknown,
  source: { readonly address?: string; readonly port?: number } | undefined,
  destination: string,
): unknown {
  if (source === undefined || !(err instanceof OSError)) return err;
  const hint = SOURCE_HINTS[err.code];
  if (hint === undefined) return err;
  const addr = source.address ?? "*";
  const local = source.port === undefined ? addr : formatHostPort(addr, source.port);
  const flags = [
    source.address === undefined ? "" : `-s ${source.address}`,
    source.port === undefined ? "" : `-p ${source.port}`,
  ]
    .filter(Boolean)
    .join(" ");
  const Ctor = err.constructor as new (code: string, d: object) => OSError;
  return new Ctor(err.code, {
    op: "bind",
    address: `${local} (source, to reach ${destination})`,
    hint: hint(flags),
    cause: err,
  });
}
