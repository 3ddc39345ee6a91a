/**
 * Shared checks for the codec tests: decode under any chunking while asserting the `buffered`
 * bound, every-offset splits, and the fast-check properties every codec must pass.
 *
 * (Named `*.test-support.ts`: the package's `!*.test.*` rule keeps it out of the published files,
 * and the test runner's patterns do not take it for a test file.)
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { CodecError, FrameTooLargeError } from "./errors.js";
import type { Codec } from "./types.js";

/** fast-check parameters: fixed seed (FC_SEED overrides) so a failure reproduces. */
export function fcParams(numRuns: number): { seed: number; numRuns: number } {
  return { seed: Number(process.env.FC_SEED ?? 42), numRuns };
}

/** Splits `bytes` at the given cut points (sorted, deduplicated, clamped). */
export function split(bytes: Uint8Array, cuts: readonly number[]): Buffer[] {
  const b = Buffer.from(bytes);
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(b.length, c))))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(b.subarray(prev, p));
    prev = p;
  }
  out.push(b.subarray(prev));
  return out;
}

/**
 * Decodes `chunks` with a fresh decoder, then `end()`, asserting after every push that
 * `buffered` ≤ maxFrame + slack + the largest chunk so far. Frames decoded before a CodecError
 * are in `frames`; the error is rethrown unless `collect` receives it.
 */
export function decodeAll<T>(
  codec: Codec<T>,
  chunks: readonly Uint8Array[],
  slack = 8,
  collect?: { frames: T[] },
): T[] {
  const d = codec.decoder();
  const out: T[] = collect?.frames ?? [];
  let largest = 0;
  for (const c of chunks) {
    largest = Math.max(largest, c.length);
    out.push(...d.push(c));
    assert.ok(
      d.buffered <= codec.maxFrame + slack + largest,
      `buffered ${d.buffered} > maxFrame ${codec.maxFrame} + chunk ${largest}`,
    );
  }
  out.push(...d.end());
  return out;
}

/** The outcome of decoding: all frames, or the frames before a CodecError and its class and code. */
export type Outcome<T> = { frames: T[] } | { frames: T[]; error: string };

/** Decodes `chunks` (see {@link decodeAll}); any error but a CodecError is rethrown. */
export function outcome<T>(codec: Codec<T>, chunks: readonly Uint8Array[]): Outcome<T> {
  const got = { frames: [] as T[] };
  try {
    decodeAll(codec, chunks, 8, got);
    return got;
  } catch (err) {
    if (err instanceof CodecError) return { frames: got.frames, error: `${err.name} ${err.code}` };
    throw err;
  }
}

/** The expected outcome "throws `name` after `frames`". */
export function fails<T>(name: string, ...frames: T[]): Outcome<T> {
  const code = {
    FrameTooLargeError: "EFRAMETOOLARGE",
    MalformedFrameError: "EMALFORMED",
    TruncatedFrameError: "ETRUNCATED",
  };
  return { frames, error: `${name} ${code[name as keyof typeof code]}` };
}

/**
 * Asserts that `wire` decodes to the same outcome (frames or error class) in one chunk, split
 * at every offset into two, split at every pair of offsets (when short), and byte by byte.
 */
export function sameAtEverySplit<T>(codec: Codec<T>, wire: Uint8Array, expected?: unknown): void {
  const whole = outcome(codec, [wire]);
  if (expected !== undefined) assert.deepEqual(whole, expected);
  for (let i = 0; i <= wire.length; i++)
    assert.deepEqual(outcome(codec, split(wire, [i])), whole, `split at ${i}`);
  if (wire.length <= 40)
    for (let i = 0; i <= wire.length; i++)
      for (let j = i; j <= wire.length; j++)
        assert.deepEqual(outcome(codec, split(wire, [i, j])), whole, `split at ${i}, ${j}`);
  const bytes = Array.from({ length: wire.length }, (_, i) => i);
  assert.deepEqual(outcome(codec, split(wire, bytes)), whole, "byte by byte");
}

/** Arbitrary cut points for a byte string of up to `max` bytes. */
export const cuts = (max = 4096): fc.Arbitrary<number[]> => fc.array(fc.nat({ max }), { maxLength: 12 });

/** Property: decode(concat(encode(frames))) under random chunking = `expect(frames)`. */
export function roundTrip<T>(
  codec: Codec<T>,
  frames: fc.Arbitrary<T[]>,
  numRuns = 200,
  expect: (fs: T[]) => unknown = (fs) => fs,
): void {
  fc.assert(
    fc.property(frames, cuts(), (fs, cs) => {
      const wire = Buffer.concat(fs.map((f) => codec.encode(f)));
      assert.deepEqual(
        decodeAll(
          codec,
          split(
            wire,
            cs.map((c) => c % (wire.length + 1)),
          ),
        ),
        expect(fs),
      );
    }),
    fcParams(numRuns),
  );
}

/**
 * Property: arbitrary bytes (plus `alphabet` bytes, so the interesting paths are reached) under
 * random splits either decode or throw a CodecError subclass — never another error, never a hang.
 */
export function hostile<T>(codec: Codec<T>, alphabet: readonly number[], numRuns = 300): void {
  const interesting = fc
    .array(fc.constantFrom(...alphabet), { maxLength: 200 })
    .map((a) => Uint8Array.from(a));
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), interesting), cuts(300), (bytes, cs) => {
      outcome(codec, split(bytes, cs)); // rethrows anything that is not a CodecError
    }),
    fcParams(numRuns),
  );
}

/** Asserts that decoding `chunks` throws FrameTooLargeError with `limit`. */
export function assertTooLarge<T>(
  codec: Codec<T>,
  chunks: readonly Uint8Array[],
  limit = codec.maxFrame,
): void {
  assert.throws(
    () => decodeAll(codec, chunks),
    (e: unknown) => e instanceof FrameTooLargeError && e.code === "EFRAMETOOLARGE" && e.limit === limit,
  );
}
