/**
 * Hex dumps of the bytes going each way (`-x/--hexdump`), written to stderr:
 *
 * ```
 * > 00000000  68 65 6c 6c 6f 0a                                 |hello.|
 * < 00000000  48 45 4c 4c 4f 0a                                 |HELLO.|
 * ```
 * `>` is sent, `<` received; offsets count each direction of each connection separately.
 * With colour on, the offsets are coloured so the eye finds the rows.
 *
 * @module
 */
import diagnostics_channel from "node:diagnostics_channel";
import { type CallEvent, TRACE_CHANNEL } from "../../trace.js";

/**
 * Formats `data` as hex-dump lines starting at stream `offset`, each prefixed with `prefix`.
 * @example `hexdump(Buffer.from("hi"), 0, "> ") // "> 00000000  68 69 …  |hi|\n"`
 */
export function hexdump(
  data: Uint8Array,
  offset: number,
  prefix: string,
  paint: (s: string) => string = (s) => s,
): string {
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
    out += `${prefix}${paint((offset + i).toString(16).padStart(8, "0"))}  ${hex} |${text}|\n`;
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
  readonly #paint: ((s: string) => string) | undefined;

  /** `paint` colours the offsets (default: none). */
  constructor(write: (s: string) => void, label = "", paint?: (s: string) => string) {
    this.#write = write;
    this.#label = label ? `${label} ` : "";
    this.#paint = paint;
  }

  /** Dumps bytes that were sent. */
  sent(data: Uint8Array): void {
    this.#write(hexdump(data, this.#out, `${this.#label}> `, this.#paint));
    this.#out += data.length;
  }

  /** Dumps bytes that were received. */
  received(data: Uint8Array): void {
    this.#write(hexdump(data, this.#in, `${this.#label}< `, this.#paint));
    this.#in += data.length;
  }
}

const SENDS = new Set(["send", "sendto", "sendall", "write"]);

/**
 * Hex-dumps every socket's bytes as its calls happen (the wire, for commands that do not move
 * the bytes themselves, like the service clients): each successful send is dumped from its
 * buffer argument, each receive from its data, with offsets per socket and direction. Returns
 * the function that stops it.
 * @example `const stop = dumpCalls((fd) => ctx.dumper(\`fd ${fd}\`)!); await echo(…); stop();`
 */
export function dumpCalls(dumperFor: (fd: number) => Dumper): () => void {
  const dumpers = new Map<number, Dumper>();
  const of = (fd: number) => {
    let d = dumpers.get(fd);
    if (d === undefined) dumpers.set(fd, (d = dumperFor(fd)));
    return d;
  };
  const fn = (msg: unknown) => {
    const ev = msg as CallEvent;
    if (ev.error !== undefined) return;
    if (SENDS.has(ev.call) && Buffer.isBuffer(ev.args[0])) of(ev.fd).sent(ev.args[0]);
    else if (ev.data !== undefined && (ev.call.startsWith("recv") || ev.call === "read"))
      of(ev.fd).received(ev.data);
    else if (ev.call === "close") dumpers.delete(ev.fd);
  };
  diagnostics_channel.subscribe(TRACE_CHANNEL, fn);
  return () => diagnostics_channel.unsubscribe(TRACE_CHANNEL, fn);
}
