/**
 * Terminal-safe text: what a plain (netcat) chat user is shown of another user's bytes. Shared by
 * the chat hub and `sockit listen --chat`.
 *
 * @module
 */

/**
 * Makes one line of bytes safe to show on a terminal: printable ASCII, TAB and valid UTF-8 pass;
 * C0 controls, DEL, C1 controls (U+0080–U+009F), bidirectional overrides and invalid UTF-8
 * bytes are shown as `\xNN` per byte.
 *
 * @example
 * ```ts
 * escapeLine(Buffer.from("hi \x1b[2J\tthere é")); // "hi \\x1b[2J\tthere é"
 * ```
 */
export function escapeLine(b: Uint8Array): string {
  let i = 0;
  while (i < b.length && (b[i] === 0x09 || (b[i]! >= 0x20 && b[i]! < 0x7f))) i++;
  if (i === b.length) return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
  let out = Buffer.from(b.buffer, b.byteOffset, i).toString("latin1");
  while (i < b.length) {
    const c = b[i]!;
    if (c === 0x09 || (c >= 0x20 && c < 0x7f)) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    const n = c >= 0x80 ? utf8Length(b, i) : 0;
    if (n > 0) {
      const cp = codePoint(b, i, n);
      if (!(cp <= 0x9f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))) {
        out += String.fromCodePoint(cp);
        i += n;
        continue;
      }
      for (let k = 0; k < n; k++) out += hex(b[i + k]!);
      i += n;
      continue;
    }
    out += hex(c);
    i++;
  }
  return out;
}

const hex = (c: number): string => `\\x${c.toString(16).padStart(2, "0")}`;

/** Length of the valid UTF-8 sequence starting at `i` (RFC 3629: no overlongs/surrogates), or 0. */
function utf8Length(b: Uint8Array, i: number): number {
  const c = b[i]!;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c === 0xe0) lo = 0xa0;
    if (c === 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c === 0xf0) lo = 0x90;
    if (c === 0xf4) hi = 0x8f;
  } else return 0;
  if (i + n > b.length) return 0;
  const second = b[i + 1]!;
  if (second < lo || second > hi) return 0;
  for (let k = 2; k < n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return 0;
  return n;
}

function codePoint(b: Uint8Array, i: number, n: number): number {
  let cp = b[i]! & (0xff >> (n + 1));
  for (let k = 1; k < n; k++) cp = (cp << 6) | (b[i + k]! & 0x3f);
  return cp;
}
