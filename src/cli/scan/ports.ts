/**
 * The PORTS argument of `sockit scan`: `22`, `1-1024`, `1-1024,8080,9000-9010` — single ports
 * and inclusive ranges 1..65535, separated by commas. Pure; every mistake is a UsageError.
 *
 * @module
 */
import { UsageError } from "../exit.js";
import { parsePortNumber } from "../session/address.js";

/** Most ports one scan may name (every TCP port: 1..65535). */
export const MAX_SCAN_PORTS = 65535;

/** Longest PORTS text accepted. */
export const MAX_PORTS_TEXT = 65536;

function show(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text);
}

function port(part: string, text: string): number {
  return parsePortNumber(text, false, `a port in PORTS item ${show(part)}`);
}

/**
 * Parses a port list into ascending, de-duplicated port numbers (pure; throws UsageError, and
 * nothing else, for any text: empty items, reversed ranges, ports outside 1..65535, garbage).
 *
 * @example
 * ```ts
 * parsePorts("80,22,20-23"); // [20, 21, 22, 23, 80]
 * parsePorts("1-65535").length; // 65535
 * parsePorts("10-1"); // UsageError: reversed range
 * ```
 */
export function parsePorts(text: string): number[] {
  if (typeof text !== "string") throw new UsageError("PORTS must be a string such as 1-1024,8080");
  if (text.length === 0) throw new UsageError("PORTS is empty: give ports like 22,80 or ranges like 1-1024");
  if (text.length > MAX_PORTS_TEXT) throw new UsageError(`PORTS is longer than ${MAX_PORTS_TEXT} characters`);
  const ranges: Array<[number, number]> = [];
  for (const part of text.split(",")) {
    if (part === "") throw new UsageError(`empty item in PORTS ${show(text)} (two commas, or one at an end)`);
    const dash = part.indexOf("-");
    let lo: number;
    let hi: number;
    if (dash < 0) {
      lo = hi = port(part, part);
    } else {
      lo = port(part, part.slice(0, dash));
      hi = port(part, part.slice(dash + 1));
      if (lo > hi) throw new UsageError(`reversed range ${show(part)}: write ${hi}-${lo}`);
    }
    ranges.push([lo, hi]);
  }
  // merge overlapping ranges first, so a long list of repeated big ranges stays cheap
  ranges.sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  let next = 1; // lowest port not yet emitted
  for (const [lo, hi] of ranges) {
    for (let p = Math.max(lo, next); p <= hi; p++) out.push(p);
    next = Math.max(next, hi + 1);
  }
  if (out.length > MAX_SCAN_PORTS) throw new UsageError(`at most ${MAX_SCAN_PORTS} ports per scan`);
  return out;
}
