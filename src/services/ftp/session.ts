/**
 * One FTP control connection: login, the command loop and every command's reply (RFC 959,
 * 2428, 3659, draft-bryan-ftpext-hash). Transfers live in transfer.ts.
 *
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, rename, rmdir, stat, unlink } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { type Conn, upgradeTLS } from "../../net/index.js";
import { type DataPlan, passiveListener, sameHost } from "./data.js";
import type { FtpCounters, FtpEvent, ResolvedFtpOptions } from "./options.js";
import { PathRefused, realPathIn, virtualPath } from "./paths.js";
import {
  CommandSplitter,
  formatFtpTime,
  formatPort,
  formatReply,
  mlsxLine,
  type ParsedCommand,
  parseCommand,
  parseEprt,
  parsePort,
  quotePath,
} from "./protocol.js";
import { entryInfo, hashFile, listing, receiveFile, sendFile, type Transfer } from "./transfer.js";

/** Commands that work before login. */
const OPEN_COMMANDS = new Set([
  "USER",
  "PASS",
  "QUIT",
  "FEAT",
  "SYST",
  "HELP",
  "NOOP",
  "OPTS",
  "AUTH",
  "PBSZ",
  "PROT",
  "CCC",
  "STAT",
]);
/** Commands that need write access. */
const WRITE_COMMANDS = new Set(["STOR", "APPE", "DELE", "MKD", "XMKD", "RMD", "XRMD", "RNFR", "RNTO"]);
/** The commands HELP lists (each implemented below). @example `FTP_COMMANDS.includes("MLSD") // true` */
export const FTP_COMMANDS = [
  "ABOR",
  "APPE",
  "AUTH",
  "CCC",
  "CDUP",
  "CWD",
  "DELE",
  "EPRT",
  "EPSV",
  "FEAT",
  "HASH",
  "HELP",
  "LIST",
  "MDTM",
  "MKD",
  "MLSD",
  "MLST",
  "MODE",
  "NLST",
  "NOOP",
  "OPTS",
  "PASS",
  "PASV",
  "PBSZ",
  "PORT",
  "PROT",
  "PWD",
  "QUIT",
  "REST",
  "RETR",
  "RMD",
  "RNFR",
  "RNTO",
  "SIZE",
  "STAT",
  "STOR",
  "STRU",
  "SYST",
  "TYPE",
  "USER",
  "XCUP",
  "XCWD",
  "XMKD",
  "XPWD",
  "XRMD",
  "XSHA256",
] as const;
/** The FEAT lines (RFC 2389). @example `FTP_FEATURES.includes("REST STREAM") // true` */
export const FTP_FEATURES = [
  "EPRT",
  "EPSV",
  "HASH SHA-256*",
  "MDTM",
  "MLST type*;size*;modify*;perm*;",
  "REST STREAM",
  "SIZE",
  "TVFS",
  "UTF8",
  "XSHA256",
];
/** The FEAT lines added when the server has a certificate (RFC 4217). @example `FTPS_FEATURES[0] // "AUTH TLS"` */
export const FTPS_FEATURES = ["AUTH TLS", "PBSZ", "PROT"];
/** AUTH arguments that mean explicit TLS (RFC 4217 section 6: SSL and TLS-P/TLS-C are old synonyms). */
const AUTH_TLS = new Set(["TLS", "TLS-C", "SSL", "TLS-P"]);
/** Commands refused (530) before AUTH TLS when TLS is required. */
const LOGIN_COMMANDS = new Set(["USER", "PASS"]);
/** Commands that open a data connection: refused (521) before PROT P when TLS is required. */
const DATA_COMMANDS = new Set(["RETR", "STOR", "APPE", "LIST", "NLST", "MLSD"]);
const QUEUE_MAX = 8;

type Item = ParsedCommand | "too-long" | null;
/** An AUTH with bytes behind it before the handshake (plain text that would pass as protected). */
const PIPELINED = new WeakSet<object>();

/** Everything a session needs from its server. */
export interface SessionHost {
  readonly opts: ResolvedFtpOptions;
  readonly root: string;
  readonly counters: FtpCounters;
  emit(e: FtpEvent): void;
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/** A control connection's state and command loop. */
export class FtpSession {
  #c: Conn;
  readonly #h: SessionHost;
  readonly #peer: string;
  readonly #peerHost: string;
  readonly #localHost: string;
  #user: string | undefined;
  #loggedIn = false;
  #write = false;
  #cwd = "/";
  #binary = false;
  #rest = 0;
  #rnfr: string | undefined;
  #data: DataPlan | undefined;
  #epsvAll = false;
  #badPasswords = 0;
  #queue: Item[] = [];
  #wake: (() => void) | undefined;
  #controlClosed = false;
  /** The running transfer, which ABOR (read while it runs) aborts. */
  #xfer: AbortController | undefined;
  #idle: NodeJS.Timeout | undefined;
  #xferBytes = 0;
  #abortedByAbor = false;
  #xferWhat = "";
  /** The control connection is TLS (after AUTH TLS). */
  #secure = false;
  /** PBSZ 0 was given (after AUTH). */
  #pbsz = false;
  /** PROT P: data connections are TLS. */
  #protP = false;
  /** The read loop waits here after an AUTH, until the dispatcher has switched (or not). */
  #authDone: ((readOn: boolean) => void) | undefined;
  /** Aborted when the server shuts down (ends a handshake in progress). */
  #stop: AbortSignal | undefined;

  constructor(conn: Conn, host: SessionHost) {
    this.#c = conn;
    this.#h = host;
    this.#peer = conn.remoteAddress;
    const r = conn.remoteEndpoint;
    const l = conn.localEndpoint;
    // an IPv4 client of a dual-stack listener shows as ::ffff:a.b.c.d: it is IPv4 (PASV, PORT)
    const unmap = (a: string) => a.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
    this.#peerHost = r !== undefined && "address" in r ? unmap(r.address) : "";
    this.#localHost = l !== undefined && "address" in l ? unmap(l.address) : "";
  }

  /** Runs the session to its end; never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    this.#stop = signal;
    const onStop = () =>
      void this.#reply(421, "Server shutting down.")
        .catch(() => {})
        .finally(() => void this.#c.close());
    signal.addEventListener("abort", onStop, { once: true });
    this.#idle = setTimeout(() => this.#onIdle(), this.#h.opts.idleMs);
    this.#idle.unref();
    try {
      await this.#reply(220, "sockit FTP server ready.");
      void this.#readLoop();
      for (;;) {
        const item = await this.#next();
        if (item === null) break;
        if (item === "too-long") {
          await this.#reply(500, `Command line too long (limit ${this.#h.opts.maxLine} bytes); closing.`);
          break;
        }
        this.#idle.refresh();
        if (!item.ok) {
          await this.#reply(item.code, item.text);
          continue;
        }
        if (item.verb === "AUTH" ? await this.#auth(item) : await this.#dispatch(item.verb, item.arg)) break;
        this.#idle.refresh();
      }
    } catch {
      // the control connection failed: nothing more to say to it
    } finally {
      signal.removeEventListener("abort", onStop);
      clearTimeout(this.#idle);
      this.#xfer?.abort();
      if (this.#data?.kind === "passive") await this.#data.ln.close();
      await this.#c.close();
    }
  }

  #onIdle(): void {
    if (this.#xfer !== undefined) {
      this.#idle?.refresh(); // a transfer running is activity (it has its own timeout)
      return;
    }
    this.#h.emit({ type: "closed", peer: this.#peer, detail: "idle timeout" });
    void this.#reply(421, `Idle for ${Math.round(this.#h.opts.idleMs / 1000)} s; closing control connection.`)
      .catch(() => {})
      .finally(() => void this.#c.close());
  }

  /** Reads command lines ahead (at most QUEUE_MAX), so ABOR and a dead client are seen during a transfer. */
  async #readLoop(): Promise<void> {
    const split = new CommandSplitter(this.#h.opts.maxLine);
    try {
      for (;;) {
        const chunk = await this.#c.read(4096);
        if (chunk === null) break;
        const got = split.push(chunk);
        if (got === "too-long") {
          this.#push("too-long");
          break;
        }
        for (const line of got) {
          const cmd = parseCommand(line);
          if (cmd.ok && cmd.verb === "ABOR" && this.#xfer !== undefined) {
            this.#xfer.abort();
            this.#abortedByAbor = true;
          }
          if (cmd.ok && cmd.verb === "STAT" && cmd.arg === "" && this.#xfer !== undefined) {
            // RFC 959 4.1.3: STAT during a transfer reports its progress at once
            await this.#reply(
              213,
              `Transfer in progress: ${this.#xferWhat}, ${this.#xferBytes} bytes so far.`,
            );
            continue;
          }
          if (cmd.ok && cmd.verb === "AUTH") {
            // RFC 4217: nothing may be read between AUTH and the handshake; whatever came with
            // it was sent in plain text and must not pass as protected (command injection)
            if (line !== got.at(-1) || split.pending > 0) {
              PIPELINED.add(cmd);
              this.#push(cmd);
              continue;
            }
            const readOn = new Promise<boolean>((r) => (this.#authDone = r));
            this.#push(cmd);
            if (!(await readOn)) break;
            continue;
          }
          this.#push(cmd);
        }
        // backpressure: a client that pipelines commands waits while the queue is full
        while (this.#queue.length >= QUEUE_MAX) await new Promise<void>((r) => setTimeout(r, 10));
      }
    } catch {
      // the connection failed or was closed: the session ends
    }
    this.#controlClosed = true;
    this.#xfer?.abort(); // the client is gone: whatever it was sending is incomplete
    this.#push(null);
  }

  #push(i: Item): void {
    this.#queue.push(i);
    this.#wake?.();
  }

  async #next(): Promise<Item> {
    while (this.#queue.length === 0) await new Promise<void>((r) => (this.#wake = r));
    this.#wake = undefined;
    return this.#queue.shift()!;
  }

  #reply(code: number, text: string | readonly string[]): Promise<number> {
    return this.#c.write(formatReply(code, text));
  }

  /** Handles one command; true to end the session. */
  async #dispatch(verb: string, arg: string): Promise<boolean> {
    const o = this.#h.opts;
    if (o.tlsRequired && !this.#secure && LOGIN_COMMANDS.has(verb)) {
      await this.#reply(530, "This server requires TLS: send AUTH TLS first, then log in.");
      return false;
    }
    if (!this.#loggedIn && !OPEN_COMMANDS.has(verb)) {
      await this.#reply(530, "Please log in with USER and PASS first.");
      return false;
    }
    if (WRITE_COMMANDS.has(verb) && !this.#write) {
      await this.#reply(
        550,
        "Permission denied: this session is read-only (the server was not started with --write or --user).",
      );
      return false;
    }
    if (o.tlsRequired && !this.#protP && DATA_COMMANDS.has(verb)) {
      await this.#reply(521, "Data connections must be protected: send PBSZ 0 and PROT P first.");
      return false;
    }
    if (verb !== "RNTO") {
      const pending = this.#rnfr;
      this.#rnfr = undefined;
      if (verb === "RNFR") this.#rnfr = pending;
    }
    try {
      return await this.#command(verb, arg);
    } catch (err) {
      if (err instanceof PathRefused) await this.#reply(550, err.message);
      else {
        const code = (err as { code?: string }).code;
        const text =
          code === "ENOENT"
            ? "No such file or directory."
            : code === "ENOTDIR"
              ? "Not a directory."
              : code === "EEXIST"
                ? "File exists."
                : code === "ENOTEMPTY"
                  ? "Directory not empty."
                  : code === "EACCES" || code === "EPERM"
                    ? "Permission denied."
                    : code === "EISDIR"
                      ? "Is a directory."
                      : undefined;
        if (text === undefined) throw err;
        await this.#reply(550, text);
      }
      return false;
    }
  }

  /** The checked real path and virtual path of an argument. */
  async #path(arg: string): Promise<{ real: string; virtual: string }> {
    const virtual = virtualPath(this.#cwd, arg === "" ? "." : arg);
    return { real: await realPathIn(this.#h.root, virtual), virtual };
  }

  async #command(verb: string, arg: string): Promise<boolean> {
    switch (verb) {
      case "USER":
        return this.#userCmd(arg);
      case "PASS":
        return this.#passCmd(arg);
      case "QUIT":
        await this.#reply(221, "Goodbye.");
        return true;
      case "NOOP":
        await this.#reply(200, "NOOP ok.");
        return false;
      case "SYST":
        await this.#reply(215, "UNIX Type: L8");
        return false;
      case "FEAT": {
        const tls = this.#h.opts.tls === undefined ? [] : FTPS_FEATURES;
        await this.#reply(211, ["Features:", ...[...FTP_FEATURES, ...tls].sort(), "End"]);
        return false;
      }
      case "HELP":
        await this.#reply(214, [
          "The following commands are recognized:",
          ...chunk(FTP_COMMANDS, 10).map((r) => r.join(" ")),
          "Help OK.",
        ]);
        return false;
      case "PBSZ":
        if (!this.#secure)
          await this.#reply(503, "PBSZ needs a protected control connection: AUTH TLS first.");
        else if (!/^\d{1,10}$/.test(arg)) await this.#reply(501, "PBSZ needs a number (0 for TLS).");
        else {
          this.#pbsz = true;
          await this.#reply(200, "PBSZ=0");
        }
        return false;
      case "PROT":
        return this.#prot(arg);
      case "CCC":
        await (this.#secure
          ? this.#reply(534, "CCC refused: the control connection stays protected.")
          : this.#reply(533, "CCC: the control connection is not protected."));
        return false;
      case "OPTS":
        return this.#opts(arg);
      case "STAT":
        return this.#stat(arg);
      case "PWD":
      case "XPWD":
        await this.#reply(257, `${quotePath(this.#cwd)} is the current directory.`);
        return false;
      case "CWD":
      case "XCWD":
        return this.#cwdCmd(arg);
      case "CDUP":
      case "XCUP":
        return this.#cwdCmd("..");
      case "TYPE": {
        const t = arg.toUpperCase().replace(/\s+/g, " ");
        if (t === "I" || t === "L 8") this.#binary = true;
        else if (t === "A" || t === "A N") this.#binary = false;
        else {
          await this.#reply(504, `TYPE ${arg} not supported; use TYPE I (binary) or TYPE A (ASCII).`);
          return false;
        }
        await this.#reply(200, `Type set to ${this.#binary ? "I" : "A"}.`);
        return false;
      }
      case "MODE":
        await (arg.toUpperCase() === "S"
          ? this.#reply(200, "Mode set to S.")
          : this.#reply(504, "Only MODE S (stream) is supported."));
        return false;
      case "STRU":
        await (arg.toUpperCase() === "F"
          ? this.#reply(200, "Structure set to F.")
          : this.#reply(504, "Only STRU F (file) is supported."));
        return false;
      case "PASV":
      case "EPSV":
        return this.#passive(verb, arg);
      case "PORT":
      case "EPRT":
        return this.#active(verb, arg);
      case "REST": {
        if (!/^\d{1,15}$/.test(arg)) {
          await this.#reply(501, "REST needs a byte offset (a non-negative integer).");
          return false;
        }
        this.#rest = Number(arg);
        await this.#reply(350, `Restarting at ${this.#rest}. Send STOR or RETR to continue.`);
        return false;
      }
      case "ABOR": {
        // RFC 959: after an aborted transfer's 426, the ABOR itself is answered 226
        const aborted = this.#abortedByAbor;
        this.#abortedByAbor = false;
        await (aborted
          ? this.#reply(226, "ABOR successful; the transfer was aborted.")
          : this.#reply(225, "No transfer to abort."));
        return false;
      }
      case "SIZE":
      case "MDTM": {
        const p = await this.#path(arg);
        const st = await stat(p.real);
        if (!st.isFile()) await this.#reply(550, `${p.virtual}: not a regular file.`);
        else await this.#reply(213, verb === "SIZE" ? String(st.size) : formatFtpTime(st.mtime));
        return false;
      }
      case "MLST": {
        const p = await this.#path(arg);
        const info = await entryInfo(p.real, p.virtual === "/" ? "/" : p.virtual, this.#write);
        await this.#reply(250, ["Listing " + p.virtual, mlsxLine(info), "End."]);
        return false;
      }
      case "DELE": {
        const p = await this.#path(arg);
        if ((await stat(p.real)).isDirectory())
          await this.#reply(550, `${p.virtual}: is a directory; use RMD.`);
        else {
          await unlink(p.real);
          await this.#reply(250, `${p.virtual} deleted.`);
        }
        return false;
      }
      case "MKD":
      case "XMKD": {
        const p = await this.#path(arg);
        await mkdir(p.real);
        await this.#reply(257, `${quotePath(p.virtual)} created.`);
        return false;
      }
      case "RMD":
      case "XRMD": {
        const p = await this.#path(arg);
        if (p.virtual === "/") await this.#reply(550, "The root directory cannot be removed.");
        else {
          await rmdir(p.real);
          await this.#reply(250, `${p.virtual} removed.`);
        }
        return false;
      }
      case "RNFR": {
        const p = await this.#path(arg);
        await stat(p.real);
        this.#rnfr = p.real;
        await this.#reply(350, "Ready for RNTO.");
        return false;
      }
      case "RNTO": {
        const from = this.#rnfr;
        this.#rnfr = undefined;
        if (from === undefined) {
          await this.#reply(503, "Send RNFR first.");
          return false;
        }
        const p = await this.#path(arg);
        await rename(from, p.real);
        await this.#reply(250, `Renamed to ${p.virtual}.`);
        return false;
      }
      case "HASH":
      case "XSHA256": {
        const p = await this.#path(arg);
        const st = await stat(p.real);
        if (!st.isFile()) {
          await this.#reply(550, `${p.virtual}: not a regular file.`);
          return false;
        }
        const hex = await hashFile(p.real);
        await this.#reply(213, verb === "HASH" ? `SHA-256 0-${st.size} ${hex} ${p.virtual}` : hex);
        return false;
      }
      case "RETR":
      case "STOR":
      case "APPE":
      case "LIST":
      case "NLST":
      case "MLSD":
        await this.#transfer(verb, arg);
        return false;
      default:
        await this.#reply(502, `${verb} not implemented; HELP lists the commands.`);
        return false;
    }
  }

  async #userCmd(arg: string): Promise<boolean> {
    if (this.#loggedIn) {
      await this.#reply(503, "Already logged in.");
      return false;
    }
    this.#user = arg;
    const anon = arg === "anonymous" || arg === "ftp";
    await this.#reply(
      331,
      anon ? "Anonymous login: send your e-mail address as the password." : `Password required for ${arg}.`,
    );
    return false;
  }

  async #passCmd(arg: string): Promise<boolean> {
    const o = this.#h.opts;
    if (this.#loggedIn) {
      await this.#reply(503, "Already logged in.");
      return false;
    }
    const user = this.#user;
    if (user === undefined) {
      await this.#reply(503, "Send USER first.");
      return false;
    }
    const anon = user === "anonymous" || user === "ftp";
    let ok = false;
    if (anon) ok = o.anonymous;
    else if (Object.hasOwn(o.users, user)) ok = timingSafeEqual(digest(arg), digest(o.users[user]!));
    else timingSafeEqual(digest(arg), digest(randomBytes(8).toString("hex"))); // same work either way
    if (!ok) {
      this.#badPasswords++;
      this.#h.counters.badPasswords++;
      this.#h.emit({
        type: "bad-password",
        peer: this.#peer,
        detail: `user ${JSON.stringify(user)} (${this.#badPasswords} in this session)`,
      });
      await sleep(o.badPasswordDelayMs);
      this.#user = undefined;
      if (this.#badPasswords >= o.maxBadPasswords) {
        await this.#reply(
          421,
          `Login incorrect; ${this.#badPasswords} failed attempts, closing control connection.`,
        );
        return true;
      }
      await this.#reply(530, anon ? "Anonymous login is disabled on this server." : "Login incorrect.");
      return false;
    }
    this.#loggedIn = true;
    this.#write = anon ? o.anonymousWrite : true;
    this.#h.emit({
      type: "login",
      peer: this.#peer,
      detail: `${anon ? "anonymous" : user}${this.#write ? " (read-write)" : " (read-only)"}`,
    });
    await this.#reply(
      230,
      `Logged in${anon ? " anonymously" : ` as ${user}`}; ${this.#write ? "read-write" : "read-only"}.`,
    );
    return false;
  }

  /**
   * AUTH TLS (RFC 4217 section 4): 234, then the TLS handshake as the server on the control
   * connection, bounded by tlsHandshakeMs (a client that stalls it frees its slot). The read
   * loop waits in between, so nothing sent in plain text is taken as protected.
   */
  async #auth(cmd: ParsedCommand & { ok: true }): Promise<boolean> {
    const readOn = this.#authDone;
    this.#authDone = undefined;
    let end = true;
    try {
      end = await this.#authSwitch(cmd);
    } finally {
      readOn?.(!end);
    }
    return end;
  }

  async #authSwitch(cmd: ParsedCommand & { ok: true }): Promise<boolean> {
    const tls = this.#h.opts.tls;
    const mech = cmd.arg.trim().toUpperCase();
    if (tls === undefined) {
      await this.#reply(502, "TLS is not offered by this server (it was started without --tls).");
      return false;
    }
    if (this.#secure) {
      await this.#reply(503, "The control connection is already protected by TLS.");
      return false;
    }
    if (!AUTH_TLS.has(mech)) {
      await this.#reply(504, `AUTH ${cmd.arg}: mechanism not supported; use AUTH TLS.`);
      return false;
    }
    if (PIPELINED.has(cmd)) {
      await this.#reply(503, "Nothing may follow AUTH TLS before the TLS handshake; send it alone.");
      return false;
    }
    await this.#reply(234, `AUTH ${mech} successful; starting the TLS handshake.`);
    try {
      this.#c = await upgradeTLS(this.#c, {
        ...tls,
        server: true,
        timeout: this.#h.opts.tlsHandshakeMs,
        ...(this.#stop === undefined ? {} : { signal: this.#stop }),
      });
    } catch (err) {
      this.#h.emit({
        type: "tls",
        peer: this.#peer,
        detail: `control handshake failed: ${(err as Error).message}`,
      });
      return true;
    }
    this.#secure = true;
    // RFC 4217 section 4 (as RFC 2228): a successful AUTH resets the login
    this.#loggedIn = false;
    this.#user = undefined;
    this.#write = false;
    const t = this.#c.tls;
    this.#h.emit({
      type: "tls",
      peer: this.#peer,
      detail: `control ${t?.protocol ?? "TLS"} ${t?.cipher ?? ""}`.trim(),
    });
    return false;
  }

  async #prot(arg: string): Promise<boolean> {
    const level = arg.trim().toUpperCase();
    if (!this.#secure) await this.#reply(503, "PROT needs a protected control connection: AUTH TLS first.");
    else if (level === "C" && this.#h.opts.tlsRequired)
      await this.#reply(534, "PROT C refused: this server requires protected data connections.");
    else if (!this.#pbsz) await this.#reply(503, "Send PBSZ 0 before PROT.");
    else if (level === "P") {
      this.#protP = true;
      await this.#reply(200, "Protection level set to P: data connections use TLS.");
    } else if (level === "C") {
      this.#protP = false;
      await this.#reply(200, "Protection level set to C: data connections are plain.");
    } else if (level === "S" || level === "E")
      await this.#reply(536, `PROT ${level} not supported; use PROT P (or C).`);
    else await this.#reply(504, `PROT ${arg}: unknown protection level; use P or C.`);
    return false;
  }

  /**
   * Makes a data connection TLS (PROT P). RFC 4217 section 9: the server takes TLS's server
   * side on data connections in passive and active mode alike. Bounded by dataTimeoutMs.
   */
  #secureData(tls: NonNullable<ResolvedFtpOptions["tls"]>): (c: Conn) => Promise<Conn> {
    return async (c) => {
      try {
        const s = await upgradeTLS(c, { ...tls, server: true, timeout: this.#h.opts.dataTimeoutMs });
        const t = s.tls;
        this.#h.emit({
          type: "tls",
          peer: this.#peer,
          detail: `data ${t?.protocol ?? "TLS"} ${t?.cipher ?? ""}${t?.resumed ? " (session resumed)" : ""}`,
        });
        return s;
      } catch (err) {
        this.#h.emit({
          type: "tls",
          peer: this.#peer,
          detail: `data handshake failed: ${(err as Error).message}`,
        });
        throw err;
      }
    };
  }

  async #opts(arg: string): Promise<boolean> {
    const [name = "", ...rest] = arg.trim().split(/\s+/);
    const value = rest.join(" ").toUpperCase();
    const n = name.toUpperCase();
    if (n === "UTF8" || n === "UTF-8")
      await this.#reply(
        value === "ON" || value === "" ? 200 : 504,
        value === "ON" || value === "" ? "UTF8 mode is always on." : "UTF8 cannot be turned off.",
      );
    else if (n === "HASH")
      await (value === "" || value === "SHA-256"
        ? this.#reply(200, "SHA-256")
        : this.#reply(501, "Only SHA-256 is supported."));
    else if (n === "MLST") await this.#reply(200, "MLST OPTS type;size;modify;perm;");
    else await this.#reply(501, `OPTS ${name}: option not recognized.`);
    return false;
  }

  async #stat(arg: string): Promise<boolean> {
    if (arg === "") {
      await this.#reply(211, [
        "sockit FTP server status:",
        `Connected from ${this.#peer}`,
        this.#loggedIn
          ? `Logged in as ${this.#user ?? "?"} (${this.#write ? "read-write" : "read-only"})`
          : "Not logged in",
        this.#secure
          ? `Control connection: ${this.#c.tls?.protocol ?? "TLS"}; data connections: ${this.#protP ? "TLS (PROT P)" : "plain (PROT C)"}`
          : "Control connection: plain",
        `TYPE: ${this.#binary ? "BINARY" : "ASCII"}, STRU: File, MODE: Stream`,
        this.#xfer ? "A transfer is in progress" : "No data connection",
        "End of status.",
      ]);
      return false;
    }
    if (!this.#loggedIn) {
      await this.#reply(530, "Please log in with USER and PASS first.");
      return false;
    }
    const p = await this.#path(arg.replace(/^(-[a-zA-Z]+\s*)+/, ""));
    const body: string[] = [];
    await listing(p.real, this.#write, "LIST", async (l) => void body.push(...l), 10_000);
    await this.#reply(213, [`Status of ${p.virtual}:`, ...body, "End of status."]);
    return false;
  }

  async #cwdCmd(arg: string): Promise<boolean> {
    const p = await this.#path(arg);
    if (!(await stat(p.real)).isDirectory()) {
      await this.#reply(550, `${p.virtual}: not a directory.`);
      return false;
    }
    this.#cwd = p.virtual;
    await this.#reply(250, `Directory changed to ${p.virtual}.`);
    return false;
  }

  async #passive(verb: "PASV" | "EPSV", arg: string): Promise<boolean> {
    if (verb === "EPSV" && arg.toUpperCase() === "ALL") {
      this.#epsvAll = true;
      await this.#reply(200, "EPSV ALL accepted; only EPSV from now on.");
      return false;
    }
    const v6 = this.#localHost.includes(":");
    if (verb === "PASV" && (this.#epsvAll || v6)) {
      await this.#reply(
        501,
        v6 ? "PASV is IPv4 only; use EPSV on IPv6." : "PASV not allowed after EPSV ALL; use EPSV.",
      );
      return false;
    }
    if (verb === "EPSV" && arg !== "" && arg !== (v6 ? "2" : "1")) {
      await this.#reply(522, `Network protocol not supported, use (${v6 ? 2 : 1}).`);
      return false;
    }
    await this.#dropData();
    const ln = await passiveListener(this.#localHost, this.#h.opts.passivePorts);
    this.#data = { kind: "passive", ln };
    await (verb === "PASV"
      ? this.#reply(227, `Entering Passive Mode (${formatPort(this.#localHost, ln.port)}).`)
      : this.#reply(229, `Entering Extended Passive Mode (|||${ln.port}|).`));
    return false;
  }

  async #active(verb: "PORT" | "EPRT", arg: string): Promise<boolean> {
    if (this.#epsvAll) {
      await this.#reply(501, `${verb} not allowed after EPSV ALL; use EPSV.`);
      return false;
    }
    const v6 = this.#peerHost.includes(":");
    const at = verb === "PORT" ? parsePort(arg) : parseEprt(arg);
    if (at === undefined) {
      await this.#reply(
        501,
        verb === "PORT" ? "PORT wants h1,h2,h3,h4,p1,p2." : "EPRT wants |af|address|port|.",
      );
      return false;
    }
    if ((verb === "PORT" && v6) || ("family" in at && (at.family === 2) !== v6)) {
      await (verb === "PORT"
        ? this.#reply(501, "PORT is IPv4 only; use EPRT on IPv6.")
        : this.#reply(522, `Network protocol not supported, use (${v6 ? 2 : 1}).`));
      return false;
    }
    if (!sameHost(at.host, this.#peerHost)) {
      this.#h.emit({ type: "refused", peer: this.#peer, detail: `${verb} to ${at.host} (bounce attempt)` });
      await this.#reply(
        504,
        `${verb} refused: data connections go only to ${this.#peerHost}, the address of this control connection.`,
      );
      return false;
    }
    if (at.port < 1024) {
      await this.#reply(504, `${verb} refused: ports below 1024 are not used for data connections.`);
      return false;
    }
    await this.#dropData();
    this.#data = { kind: "active", host: at.host, port: at.port };
    await this.#reply(200, `${verb} command successful.`);
    return false;
  }

  async #dropData(): Promise<void> {
    const d = this.#data;
    this.#data = undefined;
    if (d?.kind === "passive") await d.ln.close();
  }

  async #transfer(verb: string, arg: string): Promise<void> {
    const rest = this.#rest;
    this.#rest = 0;
    const data = this.#data;
    this.#data = undefined;
    const t: Transfer = {
      verb,
      arg,
      cwd: this.#cwd,
      root: this.#h.root,
      binary: this.#binary,
      rest,
      writable: this.#write,
      data,
      peerHost: this.#peerHost,
      localHost: this.#localHost,
      ...(this.#protP && this.#h.opts.tls !== undefined
        ? { secure: this.#secureData(this.#h.opts.tls) }
        : {}),
      opts: this.#h.opts,
      counters: this.#h.counters,
      reply: (code, text) => {
        // a final reply ends the transfer for the client: a STAT it sends the moment it reads
        // the 226 must not find the transfer still "in progress"
        if (code >= 200) this.#xfer = undefined;
        return this.#reply(code, text);
      },
      controlClosed: () => this.#controlClosed,
      start: () => {
        this.#xfer = new AbortController();
        return this.#xfer.signal;
      },
      emit: (type, detail) => this.#h.emit({ type, peer: this.#peer, detail }),
      activity: (n) => {
        this.#xferBytes += n;
        this.#idle?.refresh();
      },
    };
    this.#xferBytes = 0;
    this.#xferWhat = `${verb} ${arg}`.trim();
    try {
      await (verb === "STOR" || verb === "APPE" ? receiveFile(t) : sendFile(t));
    } finally {
      this.#xfer = undefined;
      if (data?.kind === "passive") await data.ln.close();
    }
  }
}

function chunk<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}
