/**
 * Just enough of RFC 5322 and RFC 2047 for the sink's one summary line per message: the header
 * block, unfolded, and encoded words decoded. (The web page decodes messages fully, with
 * mailparser.)
 *
 * @module
 */

/** Header bytes looked at (a summary needs no more; a hostile header block is cut off here). */
const MAX_HEADER_BYTES = 64 * 1024;

/**
 * The first value of header `name` (case-insensitive), unfolded, encoded words decoded;
 * undefined when the message has none.
 *
 * @example
 * ```ts
 * headerValue(Buffer.from("Subject: =?UTF-8?B?w6k=?=\r\n\r\nbody"), "subject") // "é"
 * ```
 */
export function headerValue(message: Buffer, name: string): string | undefined {
  const head = message.subarray(0, MAX_HEADER_BYTES).toString("utf8");
  const end = head.search(/\r?\n\r?\n/);
  const block = (end === -1 ? head : head.slice(0, end)).replace(/\r?\n(?=[ \t])/g, "");
  const want = name.toLowerCase();
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === want)
      return decodeWords(line.slice(colon + 1).trim());
  }
  return undefined;
}

/**
 * Decodes RFC 2047 encoded words (`=?charset?B|Q?text?=`); whitespace between two encoded words
 * is dropped, as the RFC says. Unknown charsets are left encoded.
 *
 * @example
 * ```ts
 * decodeWords("=?ISO-8859-1?Q?caf=E9?= ok") // "café ok"
 * ```
 */
export function decodeWords(text: string): string {
  return text
    .replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)/g, "$1")
    .replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (word, charset: string, enc: string, body: string) => {
      let bytes: Buffer;
      if (enc.toUpperCase() === "B") bytes = Buffer.from(body, "base64");
      else
        bytes = Buffer.from(
          body
            .replace(/_/g, " ")
            .replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
          "latin1",
        );
      try {
        return new TextDecoder(charset.replace(/\*.*$/, "").toLowerCase()).decode(bytes);
      } catch {
        return word;
      }
    });
}

/**
 * One summary line for a stored message: from, to, subject, size (and where it went).
 *
 * @example
 * ```ts
 * summaryLine({ from: "a@x", to: ["b@y"], subject: "hi", size: 120, id: "1.M1P2Q3.host" })
 * // 'from=<a@x> to=<b@y> subject="hi" size=120 id=1.M1P2Q3.host'
 * ```
 */
export function summaryLine(m: {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string | undefined;
  readonly size: number;
  readonly id: string;
}): string {
  const clean = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, "?");
  return (
    `from=<${clean(m.from)}> to=${m.to.map((t) => `<${clean(t)}>`).join(",")} ` +
    `subject=${JSON.stringify(clean(m.subject ?? ""))} size=${m.size} id=${m.id}`
  );
}
