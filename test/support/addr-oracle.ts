/**
 * Helpers for the address-layer tests: batched property tests against Python (one Python call
 * per generated batch), Node's own `net.isIP` as a second oracle, and outcome classification.
 */
import assert from "node:assert/strict";
import { isIP } from "node:net";
import fc from "fast-check";
import { OSError } from "../../src/errors/index.js";
import { assertOSError } from "./errors.js";

/** The fast-check seed: fixed in CI, overridable with FC_SEED=… to replay a failure. */
export const FC_SEED = Number(process.env.FC_SEED ?? 42);

/**
 * Runs `check` on `runs` batches of `size` generated inputs; on failure reports the seed and the
 * check's own message (no shrinking: every step would cost a Python call).
 * @example `await batchProperty(fc.string(), 500, 2, async (xs) => compare(xs, await pythonOracle(…)))`
 */
export async function batchProperty<T>(
  arb: fc.Arbitrary<T>,
  size: number,
  runs: number,
  check: (inputs: T[]) => Promise<void>,
): Promise<void> {
  const prop = fc.asyncProperty(fc.array(arb, { minLength: size, maxLength: size }), async (xs) => {
    await check(xs);
  });
  const out = await fc.check(prop, { seed: FC_SEED, numRuns: runs, endOnFailure: true });
  if (out.failed) {
    // The batch itself is too long to print usefully; the check's message names the bad inputs.
    const why = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
    assert.fail(
      `property failed with seed ${out.seed} (replay: FC_SEED=${out.seed}), run ${out.numRuns}:\n${why}`,
    );
  }
}

/** What a call did: returned a value or threw an error of a typed class. */
export type Outcome<T> = { ok: T } | { err: "OSError" | "TypeError" | "RangeError"; error: Error };

/**
 * Calls `f`, returning its value or the class of its error; any error that is not an OSError,
 * TypeError or RangeError fails the test (hostile input must never crash another way).
 * @example `const r = outcome(() => inet_aton(s)); if ("ok" in r) …`
 */
export function outcome<T>(f: () => T, input?: unknown): Outcome<T> {
  try {
    return { ok: f() };
  } catch (e) {
    if (e instanceof OSError) return { err: "OSError", error: e };
    if (e instanceof RangeError) return { err: "RangeError", error: e };
    if (e instanceof TypeError) return { err: "TypeError", error: e };
    assert.fail(`untyped error ${String(e)} for input ${JSON.stringify(input)}`);
  }
}

/**
 * Node's `net.isIP`, as the reference for `ipFamily` (test-only: src/addr never imports node:net).
 * @example `nodeIsIP("::1") // 6`
 */
export function nodeIsIP(s: string): number {
  return isIP(s);
}

/** Hex digits, for generators. */
export const HEX = [..."0123456789abcdefABCDEF"];

/**
 * A string of 1..max characters drawn from `chars`.
 * @example `charsOf("0123456789.", 12)`
 */
export function charsOf(chars: string | string[], max: number, min = 0): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...chars), minLength: min, maxLength: max });
}

/**
 * A predicate for `assert.throws` that checks the OSError shape with assertOSError.
 * @example `assert.throws(() => inet_aton("x"), osErr(OSError, "EINVAL", "inet_aton"))`
 */
export function osErr(
  cls: abstract new (...args: never[]) => OSError,
  code: string,
  op?: string,
): (e: unknown) => true {
  return (e) => {
    assertOSError(e, cls, code, op);
    return true;
  };
}
