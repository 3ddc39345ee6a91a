/**
 * A development mail sink and an SMTP client: {@link serveSmtp} stores every message it is
 * sent (RFC 5321 with PIPELINING, SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES; it never
 * relays) in a Maildir or in memory, {@link mailWeb} shows them in a browser, and
 * {@link sendMail} hands a message to any SMTP server.
 *
 * @example
 * ```ts
 * import { MemoryStore, sendMail, serveSmtp } from "sockit/services/smtp";
 * const srv = await serveSmtp("127.0.0.1:0", { store: new MemoryStore() });
 * await sendMail(srv.address, { from: "a@example.org", to: ["b@example.org"], message: Buffer.from("Subject: hi\n\nhello\n") });
 * await srv.close();
 * ```
 * @module
 */
export { dataText, type SendMailOptions, type SendMailResult, SmtpReplyError, sendMail } from "./client.js";
export { decodeWords, headerValue, summaryLine } from "./headers.js";
export { SMTP_LINE_LIMIT, type SmtpInput, SmtpReader, type SmtpReaderOptions } from "./parser.js";
export { SMTP_DEFAULTS, type SmtpEvent, SmtpServer, type SmtpServerOptions, serveSmtp } from "./server.js";
export { type Envelope, type SessionOptions, type SessionStep, SmtpSession } from "./session.js";
export { MaildirStore, MemoryStore, type MessageStore, type StoredMessage } from "./store.js";
export { type MailWeb, mailWeb, serveMailWeb } from "./web.js";
