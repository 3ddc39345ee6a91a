/**
 * Quotes for the quote-of-the-day service (RFC 865): a built-in list and a parser for quote
 * files (fortune style: quotes separated by a line holding only "%", or by blank lines).
 * Every quote, as sent (CRLF line ends, a final CRLF), is shorter than 512 bytes.
 *
 * @module
 */
import { QOTD_MAX } from "./protocol.js";

/**
 * Largest quote file {@link parseQuotes} accepts (bytes).
 *
 * @example
 * ```ts
 * import { readFile, stat } from "node:fs/promises";
 * if ((await stat("quotes.txt")).size <= MAX_QUOTES_FILE) {
 *   const quotes = parseQuotes(await readFile("quotes.txt", "utf8"));
 * }
 * ```
 */
export const MAX_QUOTES_FILE = 1024 * 1024;

/**
 * Most quotes {@link parseQuotes} accepts.
 *
 * @example
 * ```ts
 * const text = Array.from({ length: MAX_QUOTES + 1 }, (_, i) => `quote ${i}`).join("\n%\n");
 * parseQuotes(text); // throws QuotesError: more than 10000 quotes
 * ```
 */
export const MAX_QUOTES = 10_000;

/**
 * The built-in quotes (all public domain), as sent.
 *
 * @example `BUILTIN_QUOTES.every((q) => Buffer.byteLength(q) < 512) // true`
 */
export const BUILTIN_QUOTES: readonly string[] = [
  "The best way to predict the future is to invent it. (attributed to Alan Kay, long after RFC 865)",
  "Be conservative in what you do, be liberal in what you accept from others. -- Jon Postel, RFC 793",
  "We reject kings, presidents and voting. We believe in rough consensus and running code. -- David Clark",
  "Simplicity is prerequisite for reliability. -- Edsger W. Dijkstra",
  "If debugging is the process of removing bugs, then programming must be the process of putting them in.",
  "Premature optimization is the root of all evil. -- Donald Knuth",
  "There are two ways of constructing a software design: make it so simple that there are obviously\nno deficiencies, or make it so complicated that there are no obvious deficiencies. -- C.A.R. Hoare",
  "Any sufficiently advanced technology is indistinguishable from magic. -- Arthur C. Clarke",
  "The network is the computer. -- John Gage",
  "It is a capital mistake to theorize before one has data. -- Arthur Conan Doyle",
  "Well begun is half done. -- Aristotle",
  "Nothing is particularly hard if you divide it into small jobs. -- Henry Ford",
  "Measure twice, cut once. -- proverb",
  "A journey of a thousand miles begins with a single step. -- Lao Tzu",
].map(toWire);

/** Converts a quote to what goes on the wire: CRLF line ends and one final CRLF. */
function toWire(q: string): string {
  return `${q.replace(/\r\n/g, "\n").replace(/\n+$/, "").replace(/\n/g, "\r\n")}\r\n`;
}

/**
 * A quote file that cannot be used (the message says where and why).
 *
 * @example
 * ```ts
 * try {
 *   parseQuotes("");
 * } catch (e) {
 *   if (e instanceof QuotesError) console.log(e.message); // the quote file holds no quotes
 * }
 * ```
 */
export class QuotesError extends Error {
  override readonly name = "QuotesError";
}

/**
 * Parses a quote file: quotes separated by lines holding only "%" (fortune files) or, when there
 * is no such line, by blank lines. Returns the quotes as sent (CRLF, final CRLF). Throws
 * {@link QuotesError} for a quote of 512 bytes or more (naming its first line), an empty file,
 * a file over 1 MiB, or more than 10 000 quotes.
 *
 * @example `parseQuotes("one\n%\ntwo\nlines\n") // ["one\r\n", "two\r\nlines\r\n"]`
 */
export function parseQuotes(text: string): string[] {
  if (Buffer.byteLength(text) > MAX_QUOTES_FILE) {
    throw new QuotesError(`quote file is larger than ${MAX_QUOTES_FILE} bytes`);
  }
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const fortune = lines.some((l) => l.trim() === "%");
  const quotes: string[] = [];
  let cur: string[] = [];
  let firstLine = 0;
  const flush = () => {
    while (cur.length > 0 && cur[cur.length - 1]!.trim() === "") cur.pop();
    if (cur.length > 0) {
      const q = toWire(cur.join("\n"));
      if (Buffer.byteLength(q) >= QOTD_MAX) {
        throw new QuotesError(
          `the quote starting at line ${firstLine} has ${Buffer.byteLength(q)} bytes as sent; ` +
            `RFC 865 quotes must be under ${QOTD_MAX}`,
        );
      }
      quotes.push(q);
      if (quotes.length > MAX_QUOTES) throw new QuotesError(`more than ${MAX_QUOTES} quotes`);
    }
    cur = [];
  };
  lines.forEach((line, i) => {
    const sep = fortune ? line.trim() === "%" : line.trim() === "";
    if (sep) {
      flush();
      return;
    }
    if (cur.length === 0) {
      if (line.trim() === "") return; // leading blank lines of a fortune quote
      firstLine = i + 1;
    }
    cur.push(line);
  });
  flush();
  if (quotes.length === 0) throw new QuotesError("the quote file holds no quotes");
  return quotes;
}
