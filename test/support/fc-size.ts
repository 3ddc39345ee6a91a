/**
 * Property tests explore values up to their stated bounds: `node --test --import
 * ./build/test/support/fc-size.js` (scripts/run-tests.mjs passes it) sets fast-check's base size
 * to "medium" before each test file. fast-check's own default ("small") keeps every generated
 * array and string to about ten items whatever `maxLength` says, so a hostile-input property
 * written for lines of up to 600 bytes never met a line near a parser's limit, nor the cuts of
 * the trace ring. `FC_BASE_SIZE` (xsmall, small, medium, large, xlarge) overrides.
 *
 * A test whose values grow as size^depth (nested JSON) sets its own base size back.
 *
 * @example
 * ```sh
 * FC_BASE_SIZE=large node --test --import ./build/test/support/fc-size.js build/src/codec/lines.test.js
 * ```
 * @module
 */
import fc from "fast-check";

const SIZES = ["xsmall", "small", "medium", "large", "xlarge"] as const;
type Size = (typeof SIZES)[number];
const asked = process.env.FC_BASE_SIZE;
if (asked !== undefined && !(SIZES as readonly string[]).includes(asked))
  throw new Error(`FC_BASE_SIZE=${asked}: one of ${SIZES.join(", ")}`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), baseSize: (asked as Size | undefined) ?? "medium" });
