/**
 * The address forms of JSON-RPC endpoints, in a module of their own (no codecs): the command line
 * checks addresses without loading the JSON-RPC library.
 *
 * @module
 */
import { argTypeError } from "../errors/index.js";
import type { StreamNetwork } from "../net/address.js";

/**
 * An RPC address as a network and a `dial`/`listen` address: `tcp://HOST:PORT` or `HOST:PORT`
 * (TCP), `unix:/path`, `unix:///path` or a path starting with `/` or `.` (Unix).
 */
export function parseRpcAddress(address: string): { network: StreamNetwork; address: string } {
  if (typeof address !== "string" || address === "")
    throw argTypeError("address", "tcp://HOST:PORT, HOST:PORT or unix:/path", address);
  if (address.startsWith("unix://")) return { network: "unix", address: address.slice(7) };
  if (address.startsWith("unix:")) return { network: "unix", address: address.slice(5) };
  if (address.startsWith("tcp://")) return { network: "tcp", address: address.slice(6) };
  if (address.startsWith("/") || address.startsWith(".")) return { network: "unix", address };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address))
    throw argTypeError("address", "tcp://HOST:PORT or unix:/path (no other scheme)", address);
  return { network: "tcp", address };
}
