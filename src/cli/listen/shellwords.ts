/**
 * Splitting a command line into argv the way a POSIX shell does, without running a shell:
 * for `sockit listen --exec CMD`.
 *
 * Rules (POSIX sh, quote removal only):
 * - blanks (space, tab, newline) outside quotes separate words;
 * - `\c` outside quotes is the character `c`; backslash-newline is removed (line continuation);
 *   a backslash at the very end stays a backslash (as dash and bash do);
 * - `'…'` is literal up to the next `'` (no escapes inside);
 * - `"…"` is literal except `\$`, `` \` ``, `\"`, `\\` (the character) and backslash-newline
 *   (removed); any other backslash stays;
 * - quotes join with their neighbours (`a'b c'd` is one word `ab cd`); `''` is an empty word.
 *
 * Nothing is expanded: `$HOME`, `*`, `~`, `` `cmd` `` and operators (`|`, `;`, `>`, `&&`) are
 * passed as literal text. Use `--sh-exec` for pipelines and expansion.
 *
 * @module
 */
import { UsageError } from "../exit.js";

/**
 * A command line that cannot be split: an opening quote without its closing quote.
 *
 * @example
 * ```ts
 * try { shellwords("echo 'oops"); } catch (e) { e instanceof ShellwordsError; (e as ShellwordsError).column; } // 6
 * ```
 */
export class ShellwordsError extends UsageError {
  /** 1-based column of the quote that was never closed. */
  readonly column: number;

  constructor(message: string, column: number) {
    super(message);
    this.column = column;
  }
}

const BLANK = new Set([" ", "\t", "\n"]);
/** Characters a backslash escapes inside double quotes (POSIX XCU 2.2.3). */
const DQ_ESCAPABLE = new Set(["$", "`", '"', "\\", "\n"]);

/**
 * Splits `line` into words like a POSIX shell's quote removal, with no expansion. Throws
 * {@link ShellwordsError} (a UsageError, exit code 1) for an unterminated quote; never throws
 * anything else.
 *
 * @example
 * ```ts
 * shellwords(`grep -e "a b" 'c d'\\ e f\\"g`); // ["grep", "-e", "a b", "c d e", 'f"g']
 * shellwords("echo $HOME | wc");             // ["echo", "$HOME", "|", "wc"]
 * shellwords("printf ''");                   // ["printf", ""]
 * ```
 */
export function shellwords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i]!;
    if (BLANK.has(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (c === "\\") {
      if (i + 1 >= n) {
        word += "\\"; // a trailing backslash stays (dash, bash)
        inWord = true;
        i++;
      } else if (line[i + 1] === "\n") {
        i += 2; // line continuation: joins, starts no word by itself
      } else {
        word += line[i + 1]!;
        inWord = true;
        i += 2;
      }
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) throw unterminated("single", line, i);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      const open = i;
      i++;
      for (;;) {
        if (i >= n) throw unterminated("double", line, open);
        const d = line[i]!;
        if (d === '"') break;
        if (d === "\\" && i + 1 < n && DQ_ESCAPABLE.has(line[i + 1]!)) {
          if (line[i + 1] !== "\n") word += line[i + 1]!;
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      inWord = true;
      i++;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function unterminated(kind: "single" | "double", line: string, at: number): ShellwordsError {
  const q = kind === "single" ? "'" : '"';
  const context = line.length > 60 ? `${line.slice(0, 57)}...` : line;
  return new ShellwordsError(
    `unterminated ${kind} quote (${q} at column ${at + 1} of ${JSON.stringify(context)}) — ` +
      `close it, or escape it as \\${q}`,
    at + 1,
  );
}

/**
 * Quotes `word` so that {@link shellwords} (and /bin/sh) give it back unchanged: the inverse
 * used by messages and tests.
 *
 * @example
 * ```ts
 * shellQuote("it's");  // 'it'\''s'
 * shellQuote("plain"); // plain
 * ```
 */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_\-+=.,:/@%]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
