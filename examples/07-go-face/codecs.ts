/**
 * Chapter 7: sans-IO codecs. A decoder is fed bytes and returns the frames that completed, with
 * no socket and no timer: the same frames whether the bytes come in one chunk or one byte at a
 * time; every codec has a maximum, and a hostile length is refused before anything is buffered.
 *
 * Run:   npm run build && node build/examples/07-go-face/codecs.js
 */
import { type Codec, FrameTooLargeError, lengthPrefixed, lines, netstring } from "sockit/codec";

const show = (frames: unknown[]) =>
  frames.map((f) => JSON.stringify(Buffer.isBuffer(f) ? f.toString() : f)).join(", ");

// #region chunking
const codecs: Array<[string, Codec<string> | Codec<Buffer>]> = [
  ["lines", lines({ maxLine: 64 })],
  ["lengthPrefixed", lengthPrefixed({ headerBytes: 2, endian: "big", maxFrame: 64 })],
  ["netstring", netstring({ maxFrame: 64 })],
];
for (const [name, codec] of codecs) {
  const c = codec as Codec<unknown>;
  const wire = Buffer.concat([c.encode(frame(name, "hello")), c.encode(frame(name, "world"))]);
  const whole = c.decoder().push(wire); // all at once
  const d = c.decoder();
  const bytewise = [...wire].flatMap((b) => d.push(Buffer.of(b))); // one byte at a time
  console.log(`${name}: wire ${JSON.stringify(wire.toString("latin1"))}`);
  console.log(`  in one chunk: ${show(whole)}; byte by byte: ${show(bytewise)}`);
}
// #endregion chunking

/** "text" as the frame type of the codec named `name`. */
function frame(name: string, text: string): unknown {
  return name === "lines" ? text : Buffer.from(text);
}

// #region limits
const d = lengthPrefixed({ headerBytes: 4, endian: "big", maxFrame: 1 << 20 }).decoder();
try {
  d.push(Buffer.from([0xff, 0xff, 0xff, 0xff])); // "4 GiB follow"
} catch (err) {
  if (!(err instanceof FrameTooLargeError)) throw err;
  console.log(`a 4 GiB header: ${err.name} ${err.code}: ${err.message}`);
}
console.log(`bytes held: ${d.buffered}`);
// #endregion limits
