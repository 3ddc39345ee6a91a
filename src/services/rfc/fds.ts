/**
 * The process's file descriptors, as far as Linux tells (`/proc/self`): every TCP connection
 * is one, and when none is left the runtime cannot accept — it closes arriving connections
 * unserved, silently. A service host reads its limit to shed load itself, counted, before that.
 * Elsewhere these report "unknown" and the host does without.
 *
 * @module
 */
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";

/**
 * The soft limit on open descriptors (`ulimit -n`, RLIMIT_NOFILE), or undefined when unknown
 * or unlimited.
 *
 * @example `descriptorLimit() // 1024 (Linux); undefined elsewhere`
 */
export function descriptorLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/self/limits", "utf8");
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  return m === null || m[1] === "unlimited" ? undefined : Number(m[1]);
}

/**
 * Descriptors open in this process now (undefined when unknown; the limit itself when none is
 * left to even list them).
 *
 * @example `openDescriptors() // 23`
 */
export function openDescriptors(): number | undefined {
  try {
    // the listing itself holds one descriptor while it runs
    return readdirSync("/proc/self/fd").length - 1;
  } catch (err) {
    return exhausted(err) ? (descriptorLimit() ?? undefined) : undefined;
  }
}

function exhausted(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "EMFILE" || code === "ENFILE";
}

/**
 * True when no descriptor can be opened now (EMFILE: this process is at its limit; ENFILE: the
 * system is): an accept would fail the same way. Opens and closes /dev/null to find out.
 *
 * @example `if (descriptorsExhausted()) log("accept fails now: raise ulimit -n")`
 */
export function descriptorsExhausted(): boolean {
  try {
    closeSync(openSync("/dev/null", "r"));
    return false;
  } catch (err) {
    return exhausted(err);
  }
}
