/**
 * Small argument parsers several subcommands share: seconds (`-w`, `-i`, `-q`) and the
 * positional arguments commander hands over. Addresses and ports: session/address.ts.
 *
 * @module
 */
import { UsageError } from "./exit.js";

const MAX_SECONDS = 2_147_483; // setTimeout's limit, in seconds

/**
 * A `SECS` value (decimals allowed) in ms; `zero` allows 0.
 * @example `parseSeconds("-w", "1.5") // 1500`
 */
export function parseSeconds(flag: string, text: string, zero = false): number {
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(text))
    throw new UsageError(`${flag} needs seconds (like 5 or 0.5), got ${JSON.stringify(text)}`);
  const s = Number(text);
  if ((!zero && s === 0) || s > MAX_SECONDS) {
    throw new UsageError(
      `${flag} must be ${zero ? "0" : "more than 0"}..${MAX_SECONDS} seconds, got ${text}`,
    );
  }
  return Math.round(s * 1000);
}

/**
 * The positional arguments commander hands over, without the missing ones.
 * @example `argsOf("8000", undefined) // ["8000"]`
 */
export function argsOf(...args: Array<string | undefined>): string[] {
  return args.filter((a): a is string => a !== undefined);
}
