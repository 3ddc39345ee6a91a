/**
 * Direct file transfer (`sockit send` / `sockit recv`): a small protocol with a header per file
 * (name, size, SHA-256), resume from a receiver's `.part`, and an acknowledgement per file, so the
 * sender knows the file arrived and verified. docs/file-transfer.md ("Direct transfer") describes it.
 *
 * @example
 * ```ts
 * const ln = await listen("tcp", "127.0.0.1:0");
 * const got = ln.accept().then((c) => receive(c, { dir: "/tmp/in" }).finally(() => c.close()));
 * const conn = await dial("tcp", ln.address);
 * const report = await send(conn, await collect(["a.bin"]));
 * await conn.close();
 * await got;
 * ```
 * @module
 */
export {
  checkName,
  EMPTY_SHA256,
  formatReceiver,
  formatSender,
  HELLO,
  HELLO2,
  isRefusal,
  isSha256,
  MAX_DEPTH,
  MAX_LINE,
  MAX_SIZE,
  NAME_MAX,
  parseReceiverLine,
  parseSenderLine,
  partName,
  type ReceiverMessage,
  type Refusal,
  type SenderMessage,
  splitPath,
} from "./protocol.js";
export { type ReceivedEntry, type ReceiveOptions, type ReceiveReport, receive } from "./receiver.js";
export {
  collect,
  type CollectOptions,
  send,
  type SendEntry,
  type SendOptions,
  type SentEntry,
  type SendReport,
  sha256File,
  withHashes,
} from "./sender.js";
