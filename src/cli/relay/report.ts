/**
 * What `sockit relay -v` says about each relay once its splice is done: the byte counts and how
 * it ended, and how a failure on one side was passed on to the other.
 *
 * @module
 */
import type { SpliceEnd, SpliceResult } from "../session/splice.js";

/**
 * The `-v` summary of one relay: `relay 1: 1234 bytes →, 567 bytes ←, closed`.
 * @example `summary(1, { forward: 3, backward: 0, status: "closed" }) // "relay 1: 3 bytes →, 0 bytes ←, closed"`
 */
export function summary(id: number, r: SpliceResult): string {
  const why =
    r.status === "failed"
      ? `failed: ${r.error instanceof Error ? r.error.message : String(r.error)}`
      : r.status;
  return `relay ${id}: ${r.forward} bytes →, ${r.backward} bytes ←, ${why}`;
}

/**
 * The `-v` line saying how a failure was passed on: `relay 1: 127.0.0.1:7000 reset the
 * connection (ECONNRESET); passing the reset on to 127.0.0.1:51514`, or `… failed (EPIPE);
 * aborting exec cat` when the other side cannot get a reset (not a TCP connection).
 * @example `passedOn(1, r, [client, server]) // "relay 1: … passing the reset on to …"`
 */
export function passedOn(
  id: number,
  r: SpliceResult,
  streams: readonly [SpliceEnd, SpliceEnd],
): string | undefined {
  if (r.status !== "failed" || r.failedSide === undefined) return undefined;
  const failed = streams[r.failedSide];
  const other = streams[r.failedSide === 0 ? 1 : 0];
  const code = (r.error as { code?: unknown } | null)?.code;
  const what =
    code === "ECONNRESET"
      ? "reset the connection (ECONNRESET)"
      : `failed${typeof code === "string" ? ` (${code})` : ""}`;
  const action = other.abortResets ? `passing the reset on to ${other.label}` : `aborting ${other.label}`;
  return `relay ${id}: ${failed.label} ${what}; ${action}`;
}
