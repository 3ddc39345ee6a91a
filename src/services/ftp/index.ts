/**
 * FTP (RFC 959, RFC 2428 EPSV/EPRT, RFC 3659 SIZE/MDTM/MLSD/MLST/REST STREAM, HASH per
 * draft-bryan-ftpext-hash and XSHA256): a server confined to one directory ({@link serveFtp})
 * and a client ({@link FtpClient}), with the pure wire formats they share.
 *
 * @example
 * ```ts
 * import { FtpClient, serveFtp } from "sockit/services/ftp";
 * const srv = await serveFtp({ root: ".", address: "127.0.0.1:0" });
 * const ftp = await FtpClient.connect(srv.address);
 * console.log(await ftp.nlst());
 * await ftp.quit();
 * await srv.close();
 * ```
 * @module
 */
export { FtpClient, type FtpClientOptions, FtpReplyError, type TransferOptions } from "./client.js";
export {
  DEFAULT_FTP_ADDRESS,
  type FtpCounters,
  type FtpEvent,
  type FtpServerOptions,
  resolveFtpOptions,
  type ResolvedFtpOptions,
} from "./options.js";
export { PathRefused, realPathIn, virtualPath } from "./paths.js";
export {
  CommandSplitter,
  type EntryInfo,
  formatEprt,
  formatFtpTime,
  formatPort,
  formatReply,
  type FtpReply,
  type HostPort,
  listLine,
  MAX_COMMAND_LINE,
  mlsxLine,
  type ParsedCommand,
  parseCommand,
  parseEprt,
  parseEpsvReply,
  parsePasvReply,
  parsePort,
  quotePath,
  ReplyReader,
  stripTelnet,
  unquotePath,
} from "./protocol.js";
export { FtpServer, serveFtp } from "./server.js";
export { FTP_COMMANDS, FTP_FEATURES, FTPS_FEATURES } from "./session.js";
export { hashFile, PART_FILE } from "./transfer.js";
