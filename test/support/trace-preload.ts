/**
 * Preload (`node --import`) that prints every sockit socket call to stderr, rendered like strace:
 * the same module users get as `sockit/trace-stderr`. Used by tests to watch an unmodified program.
 */
import "../../src/trace-stderr.js";
