/**
 * One helper asserts the shape of every sockit error in tests.
 */
import assert from "node:assert/strict";
import { OSError } from "../../src/errors/index.js";

/**
 * Asserts `err` is an instance of `cls` with the given code, a positive errno (negative for
 * gaierror), a strerror, and a message naming the operation.
 */
export function assertOSError(
  err: unknown,
  cls: abstract new (...args: never[]) => OSError,
  code: string,
  op?: string,
): asserts err is OSError {
  assert.ok(err instanceof cls, `expected ${cls.name}, got ${String((err as Error)?.name)}: ${String(err)}`);
  assert.ok(err instanceof OSError);
  assert.equal(err.code, code, `code of ${err.message}`);
  assert.ok(err.errno !== 0, `errno set for ${err.message}`);
  if (cls.name !== "gaierror") assert.ok(err.errno > 0, `positive errno for ${err.message}`);
  assert.ok(err.strerror.length > 0);
  assert.ok(err.message.includes(`(${code})`), `message mentions code: ${err.message}`);
  if (op !== undefined) {
    assert.equal(err.op, op);
    assert.ok(err.message.startsWith(op), `message starts with op: ${err.message}`);
  }
}

/** Awaits `p` and asserts it rejects with an OSError of `cls`/`code`; returns the error. */
export async function rejectsOSError(
  p: Promise<unknown>,
  cls: abstract new (...args: never[]) => OSError,
  code: string,
  op?: string,
): Promise<OSError> {
  try {
    await p;
  } catch (err) {
    assertOSError(err, cls, code, op);
    return err;
  }
  assert.fail(`expected ${cls.name} (${code}), but the promise resolved`);
}
