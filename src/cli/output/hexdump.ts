/**
 * Hex dumps of the bytes going each way (`-x/--hexdump`), written to stderr:
 *
 * ```
 * > 00000000  68 65 6c 6c 6f 0a                                 |hello.|
 * < 00000000  48 45 4c 4c 4f 0a                                 |HELLO.|
 * ```
 * `>` is sent, `<` received; offsets count each direction of each connection separately.
 *
 * @module
 */

/**
 * Formats `data` as hex-dump lines starting at stream `offset`, each prefixed with `prefix`.
 * @example `hexdump(Buffer.from("hi"), 0, "> ") // "> 00000000  68 69 …  |hi|\n"`
 */
export function hexdump(data: Uint8Array, offset: number, prefix: string): string {
  let out = "";
  for (let i = 0; i < data.length; i += 16) {
    const row = data.subarray(i, Math.min(i + 16, data.length));
    let hex = "";
    let text = "";
    for (let j = 0; j < 16; j++) {
      if (j === 8) hex += " ";
      if (j < row.length) {
        const b = row[j]!;
        hex += `${b.toString(16).padStart(2, "0")} `;
        text += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
      } else hex += "   ";
    }
    out += `${prefix}${(offset + i).toString(16).padStart(8, "0")}  ${hex} |${text}|\n`;
  }
  return out;
}

/**
 * Keeps the per-direction offsets of one connection and writes dumps to a sink.
 * @example `const d = new Dumper((s) => process.stderr.write(s)); d.sent(buf); d.received(buf);`
 */
export class Dumper {
  #out = 0;
  #in = 0;
  readonly #write: (s: string) => void;
  readonly #label: string;

  constructor(write: (s: string) => void, label = "") {
    this.#write = write;
    this.#label = label ? `${label} ` : "";
  }

  /** Dumps bytes that were sent. */
  sent(data: Uint8Array): void {
    this.#write(hexdump(data, this.#out, `${this.#label}> `));
    this.#out += data.length;
  }

  /** Dumps bytes that were received. */
  received(data: Uint8Array): void {
    this.#write(hexdump(data, this.#in, `${this.#label}< `));
    this.#in += data.length;
  }
}
