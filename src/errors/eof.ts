/**
 * End-of-stream where more was required (Go's `io.ErrUnexpectedEOF`): EOF itself is a value
 * (an empty Buffer or null), never an error, but a read that needs n bytes and gets fewer is.
 *
 * @module
 */

/**
 * The stream ended before the bytes a call needed; `partial` holds what did arrive.
 *
 * @example
 * ```ts
 * try { await conn.readExactly(4); }
 * catch (e) { if (e instanceof UnexpectedEOFError) console.log(e.partial.length, "of", e.expected); }
 * ```
 */
export class UnexpectedEOFError extends Error {
  /** The bytes that arrived before EOF. */
  readonly partial: Buffer;
  /** How many bytes were needed. */
  readonly expected: number;
  /** Always `"UNEXPECTED_EOF"`, for switch statements over `code`. */
  readonly code = "UNEXPECTED_EOF";

  constructor(op: string, partial: Buffer, expected: number) {
    super(
      `${op}: connection closed after ${partial.length} of ${expected} bytes — the peer sent less than expected`,
    );
    this.name = "UnexpectedEOFError";
    this.partial = partial;
    this.expected = expected;
  }
}
