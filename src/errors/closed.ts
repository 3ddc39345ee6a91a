/**
 * The one "socket is closed" error every layer raises (EBADF, as a call on a closed descriptor
 * gets from the kernel).
 *
 * @module
 */
import { makeOSError, type OSError } from "./oserror.js";

/**
 * The error for `op` on a socket (or listener) closed locally: OSError EBADF saying so.
 * @example `if (closed) throw closedError("recv"); // OSError [EBADF] recv: … the socket is closed`
 */
export function closedError(op: string, what: "socket" | "listener" = "socket"): OSError {
  return makeOSError("EBADF", { op, hint: `the ${what} is closed` });
}
