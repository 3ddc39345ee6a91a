/**
 * An FTP client over the Go-style face: login, passive (EPSV, then PASV) or active (EPRT, then
 * PORT) data connections, listings, downloads from an offset (REST), uploads, delete, mkdir,
 * rename, and the server's SHA-256 of a file (HASH or XSHA256) where it has one.
 *
 * @module
 */
import { framed, type Framed, lines } from "../../codec/index.js";
import { InterruptedError, OSError, TimeoutError } from "../../errors/index.js";
import { type Conn, dial, type Listener, listen, type TLSOptions, upgradeTLS } from "../../net/index.js";
import { joinHostPort } from "./data.js";
import {
  formatEprt,
  formatPort,
  type FtpReply,
  parseEpsvReply,
  parsePasvReply,
  ReplyReader,
  unquotePath,
} from "./protocol.js";

/** The host of HOST:PORT or [V6]:PORT. */
function hostOf(address: string): string {
  const m = /^\[([^\]]*)\]:\d+$/.exec(address) ?? /^(.*):\d+$/.exec(address);
  return m?.[1] ?? address;
}

/** The largest listing (LIST, NLST) the client accepts, in bytes. */
const MAX_LISTING = 64 * 1024 * 1024;

/**
 * An FTP server's negative reply, as an OSError: `reply` holds the code and text; `errno` is
 * the nearest Linux error (550 → ENOENT, or EACCES when the server says permission; 530 →
 * EACCES; 452/552 → ENOSPC; 425 → ECONNREFUSED; 421/426 → ECONNABORTED; others EPROTO).
 *
 * @example
 * ```ts
 * const ftp = await FtpClient.connect("127.0.0.1:2121");
 * try { await ftp.delete("nope.txt"); }
 * catch (e) { if (e instanceof FtpReplyError) console.log(e.reply.code); } // 550
 * ```
 */
export class FtpReplyError extends OSError {
  /** The server's reply. */
  readonly reply: FtpReply;
  constructor(op: string, reply: FtpReply, address?: string) {
    const text = reply.lines.join(" ").trim();
    const c = reply.code;
    const code =
      c === 530 ||
      c === 532 ||
      c === 553 ||
      (c === 550 && /permission|denied|read-only|outside|refused/i.test(text))
        ? "EACCES"
        : c === 550
          ? "ENOENT"
          : c === 452 || c === 552
            ? "ENOSPC"
            : c === 425
              ? "ECONNREFUSED"
              : c === 421 || c === 426
                ? "ECONNABORTED"
                : "EPROTO";
    super(code, {
      op,
      ...(address === undefined ? {} : { address }),
      hint: `the server answered ${c} ${text}`,
    });
    this.reply = reply;
  }
}

/**
 * Options of {@link FtpClient.connect}.
 * @example `{ user: "alice", password: "pw", active: false, timeout: 30_000 }`
 */
export interface FtpClientOptions {
  /** Login name (default `anonymous`). */
  readonly user?: string;
  /** Password (default `anonymous@` for anonymous). */
  readonly password?: string;
  /** Active mode: the server connects back (EPRT/PORT). Default passive (EPSV/PASV). */
  readonly active?: boolean;
  /** Milliseconds to wait for a reply, a connection or data before TimeoutError (default 30 000). */
  readonly timeout?: number;
  /**
   * Explicit FTPS (RFC 4217): `AUTH TLS` before the login, then `PBSZ 0` and `PROT P`, and every
   * data connection TLS too, resuming the control connection's session. `{}` verifies the
   * server against the system roots with the host name of `address`; `ca`, `serverName`,
   * `rejectUnauthorized: false` as for `dial`. A server that refuses AUTH TLS is an error: nothing
   * is sent in plain text.
   */
  readonly tls?: TLSOptions;
}

/**
 * Options of a transfer.
 * @example `{ offset: 1024, onProgress: (n) => bar.update(n) }`
 */
export interface TransferOptions {
  /** Start at this byte (REST): resumes a download or an upload. */
  readonly offset?: number;
  /** Called with the bytes moved so far (this transfer). */
  readonly onProgress?: (bytes: number) => void;
  /** Aborts the transfer: the data connection is reset (RST), InterruptedError. */
  readonly signal?: AbortSignal;
}

/**
 * An FTP session (see {@link FtpClient.connect}).
 *
 * @example
 * ```ts
 * const ftp = await FtpClient.connect("127.0.0.1:2121");
 * console.log(await ftp.nlst("/"));
 * await ftp.quit();
 * ```
 */
export class FtpClient {
  #c: Conn;
  #lines: Framed<string>;
  readonly #timeout: number;
  readonly #active: boolean;
  readonly #address: string;
  /** The TLS options of data connections (PROT P), with the server name to check. */
  #tls: TLSOptions | undefined;
  /** The FEAT keywords, upper-case (`EPSV`, `SIZE`, `HASH`, …). */
  features = new Set<string>();
  /** The TLS facts of the last data connection (PROT P), e.g. whether it resumed the session. */
  lastDataTLS: Conn["tls"] = undefined;

  private constructor(c: Conn, address: string, o: FtpClientOptions) {
    this.#c = c;
    this.#address = address;
    this.#timeout = o.timeout ?? 30_000;
    this.#active = o.active === true;
    this.#lines = framed(c, lines({ maxLine: 8192, encoding: "utf8", allowUnterminatedAtEnd: true }));
  }

  /**
   * Connects to `HOST:PORT`, logs in and reads the features.
   *
   * Berkeley equivalent: `socket()`, `connect()`, then `send("USER …\r\n")`/`recv()` pairs.
   *
   * @example `const ftp = await FtpClient.connect("[::1]:2121", { user: "alice", password: "pw" })`
   */
  static async connect(address: string, o: FtpClientOptions = {}): Promise<FtpClient> {
    const timeout = o.timeout ?? 30_000;
    const c = await dial("tcp", address, { timeout });
    const ftp = new FtpClient(c, address, o);
    try {
      const hello = await ftp.#read();
      if (hello.code !== 220) throw new FtpReplyError("connect", hello, address);
      if (o.tls !== undefined) await ftp.#startTLS(o.tls, timeout);
      const user = o.user ?? "anonymous";
      let r = await ftp.command(`USER ${user}`);
      if (r.code === 331)
        r = await ftp.command(`PASS ${o.password ?? (user === "anonymous" ? "anonymous@" : "")}`);
      if (r.code !== 230) throw new FtpReplyError("login", r, address);
      const feat = await ftp.command("FEAT");
      if (feat.code === 211)
        for (const l of feat.lines.slice(1, -1)) ftp.features.add(l.trim().split(/\s+/)[0]!.toUpperCase());
      if (o.tls !== undefined) {
        await ftp.#expect("PBSZ 0", [200]);
        await ftp.#expect("PROT P", [200]);
        ftp.#tls = { ...o.tls, serverName: o.tls.serverName ?? hostOf(address) };
      }
      await ftp.#expect("TYPE I", [200]);
      return ftp;
    } catch (err) {
      ftp.#c.abort();
      throw err;
    }
  }

  /** AUTH TLS, then the handshake on the control connection (the server's 234 read whole first). */
  async #startTLS(tls: TLSOptions, timeout: number): Promise<void> {
    const r = await this.command("AUTH TLS");
    if (r.code !== 234) throw new FtpReplyError("AUTH", r, this.#address); // never fall back to plain text
    this.#c = await upgradeTLS(this.#c, { serverName: hostOf(this.#address), ...tls, timeout });
    this.#lines = framed(this.#c, lines({ maxLine: 8192, encoding: "utf8", allowUnterminatedAtEnd: true }));
  }

  /** PROT P: the data connection becomes TLS (we are the client), resuming the control session. */
  async #secure(d: Conn): Promise<Conn> {
    if (this.#tls === undefined) return d;
    const session = this.#c.tlsSession;
    return upgradeTLS(d, {
      ...this.#tls,
      ...(session === undefined ? {} : { session }),
      timeout: this.#timeout,
    });
  }

  /** The TLS facts of the control connection (undefined without `tls`). @example `ftp.tls?.protocol // "TLSv1.3"` */
  get tls(): Conn["tls"] {
    return this.#c.tls;
  }

  async #read(): Promise<FtpReply> {
    this.#c.setReadDeadline(Date.now() + this.#timeout);
    const r = new ReplyReader();
    for (;;) {
      const line = await this.#lines.read();
      if (line === undefined) {
        throw new OSError("ECONNRESET", {
          op: "recv",
          address: this.#address,
          hint: "the FTP server closed the control connection",
        });
      }
      let reply: FtpReply | undefined;
      try {
        reply = r.feed(line);
      } catch (err) {
        throw new OSError("EPROTO", { op: "recv", address: this.#address, hint: (err as Error).message });
      }
      if (reply) {
        this.#c.setReadDeadline(null);
        return reply;
      }
    }
  }

  /** The next reply, waiting at most `ms` (used after a failed transfer). */
  async #readWithin(ms: number): Promise<FtpReply> {
    const timer = setTimeout(() => this.#c.setReadDeadline(Date.now()), ms);
    try {
      return await this.#read();
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends one command line and resolves the server's reply (whatever its code).
   * @example `(await ftp.command("NOOP")).code // 200`
   */
  async command(line: string): Promise<FtpReply> {
    if (/[\r\n\0]/.test(line)) throw new TypeError("an FTP command cannot contain CR, LF or NUL");
    await this.#c.write(`${line}\r\n`);
    return this.#read();
  }

  async #expect(line: string, codes: number[]): Promise<FtpReply> {
    const r = await this.command(line);
    if (!codes.includes(r.code)) throw new FtpReplyError(line.split(" ")[0]!, r, this.#address);
    return r;
  }

  /** Prepares the data connection: passive dials now, active listens and accepts later. */
  async #prepare(): Promise<{ conn?: Conn; ln?: Listener }> {
    const ep = this.#c.remoteEndpoint;
    const host = ep !== undefined && "address" in ep ? ep.address : "127.0.0.1";
    const local = this.#c.localEndpoint;
    const localHost = local !== undefined && "address" in local ? local.address : "127.0.0.1";
    const v6 = host.includes(":");
    if (!this.#active) {
      let port: number | undefined;
      const r = await this.command("EPSV");
      if (r.code === 229) port = parseEpsvReply(r.lines.join(" "));
      else if (!v6) {
        const p = await this.#expect("PASV", [227]);
        port = parsePasvReply(p.lines.join(" "))?.port; // the control peer's address, never the reply's
      } else throw new FtpReplyError("EPSV", r, this.#address);
      if (port === undefined)
        throw new OSError("EPROTO", {
          op: "EPSV",
          address: this.#address,
          hint: "no port in the passive reply",
        });
      return { conn: await dial("tcp", joinHostPort(host, port), { timeout: this.#timeout }) };
    }
    const ln = await listen("tcp", joinHostPort(localHost, 0), { backlog: 1 });
    try {
      const r = await this.command(`EPRT ${formatEprt(localHost, ln.port)}`);
      if (r.code !== 200) {
        if (v6) throw new FtpReplyError("EPRT", r, this.#address);
        await this.#expect(`PORT ${formatPort(localHost, ln.port)}`, [200]);
      }
      return { ln };
    } catch (err) {
      await ln.close();
      throw err;
    }
  }

  /** Runs one transfer command with its data connection; resolves what `io` returns. */
  async #transfer<T>(
    cmd: string,
    io: (data: Conn) => Promise<T>,
    offset = 0,
    signal?: AbortSignal,
  ): Promise<T> {
    const prep = await this.#prepare();
    let data = prep.conn;
    const onAbort = () => data?.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (offset > 0) await this.#expect(`REST ${offset}`, [350]);
      const r = await this.command(cmd);
      if (r.code !== 125 && r.code !== 150) throw new FtpReplyError(cmd.split(" ")[0]!, r, this.#address);
      if (prep.ln) data = await prep.ln.accept({ signal: AbortSignal.timeout(this.#timeout) });
      data = await this.#secure(data!);
      this.lastDataTLS = data.tls;
      let result: T;
      try {
        result = await io(data!);
      } catch (err) {
        if (signal?.aborted)
          throw new InterruptedError("EINTR", {
            op: cmd.split(" ")[0]!,
            address: this.#address,
            hint: "the transfer was aborted; the data connection was reset",
            cause: err,
          });
        // the data connection failed: the server's reply usually says why (452 disk full, 426…)
        data!.abort();
        const why = await this.#readWithin(2000).catch(() => undefined);
        if (why !== undefined && why.code >= 400)
          throw new FtpReplyError(cmd.split(" ")[0]!, why, this.#address);
        throw err;
      }
      await data![Symbol.asyncDispose]();
      const done = await this.#read();
      if (done.code !== 226 && done.code !== 250)
        throw new FtpReplyError(cmd.split(" ")[0]!, done, this.#address);
      return result;
    } catch (err) {
      data?.abort();
      throw err instanceof OSError || err instanceof TypeError
        ? err
        : new OSError("EIO", { op: cmd, address: this.#address, cause: err, hint: String(err) });
    } finally {
      signal?.removeEventListener("abort", onAbort);
      await prep.ln?.close();
    }
  }

  /**
   * The LIST text of a directory (or file): `ls -l`-style lines.
   * @example `console.log(await ftp.list("/pub"))`
   */
  async list(path = ""): Promise<string> {
    return this.#transfer(path ? `LIST ${path}` : "LIST", (d) => this.#readListing(d));
  }

  /** A listing's bytes as text, at most MAX_LISTING bytes (a server cannot fill our memory). */
  async #readListing(d: Conn): Promise<string> {
    const parts: Buffer[] = [];
    let n = 0;
    for (let b = await d.read(); b !== null; b = await d.read()) {
      n += b.length;
      if (n > MAX_LISTING)
        throw new OSError("EMSGSIZE", {
          op: "LIST",
          address: this.#address,
          hint: `the listing is over ${MAX_LISTING} bytes`,
        });
      parts.push(b);
    }
    return Buffer.concat(parts).toString("utf8");
  }

  /**
   * The names in a directory (NLST).
   * @example `await ftp.nlst("/") // ["a.bin", "pub"]`
   */
  async nlst(path = ""): Promise<string[]> {
    const text = await this.#transfer(path ? `NLST ${path}` : "NLST", (d) => this.#readListing(d));
    return text.split(/\r?\n/).filter(Boolean);
  }

  /**
   * The size of a file (SIZE), or undefined when the server does not say.
   * @example `await ftp.size("a.bin") // 1048576`
   */
  async size(path: string): Promise<number | undefined> {
    const r = await this.command(`SIZE ${path}`);
    if (r.code === 213 && /^\d+$/.test(r.lines[0]!.trim())) return Number(r.lines[0]!.trim());
    if (r.code === 550) throw new FtpReplyError("SIZE", r, this.#address);
    return undefined;
  }

  /**
   * Downloads `path` (from `offset`), handing each chunk to `sink` and awaiting it
   * (backpressure); resolves the bytes received.
   * @example `await ftp.download("a.bin", (b) => file.write(b))`
   */
  async download(
    path: string,
    sink: (chunk: Buffer) => Promise<unknown>,
    o: TransferOptions = {},
  ): Promise<number> {
    return this.#transfer(
      `RETR ${path}`,
      async (d) => {
        let n = 0;
        for (let b = await d.read(256 * 1024); b !== null; b = await d.read(256 * 1024)) {
          await sink(b);
          n += b.length;
          o.onProgress?.(n);
        }
        return n;
      },
      o.offset ?? 0,
      o.signal,
    );
  }

  /**
   * Uploads the chunks of `source` to `path` (STOR; with `offset`, REST then STOR: the server
   * keeps its first `offset` bytes); resolves the bytes sent.
   * @example `await ftp.upload("b.bin", createReadStream("b.bin"))`
   */
  async upload(path: string, source: AsyncIterable<Uint8Array>, o: TransferOptions = {}): Promise<number> {
    return this.#transfer(
      `STOR ${path}`,
      async (d) => {
        let n = 0;
        for await (const b of source) {
          n += await d.write(b);
          o.onProgress?.(n);
        }
        return n;
      },
      o.offset ?? 0,
      o.signal,
    );
  }

  /**
   * Deletes a file (DELE).
   * @example `await ftp.delete("old.txt")`
   */
  async delete(path: string): Promise<void> {
    await this.#expect(`DELE ${path}`, [250]);
  }

  /**
   * Makes a directory (MKD); resolves its path as the server says it.
   * @example `await ftp.mkdir("pub") // "/pub"`
   */
  async mkdir(path: string): Promise<string> {
    const r = await this.#expect(`MKD ${path}`, [257]);
    return unquotePath(r.lines[0]!) ?? path;
  }

  /**
   * Renames (RNFR + RNTO).
   * @example `await ftp.rename("a.txt", "b.txt")`
   */
  async rename(from: string, to: string): Promise<void> {
    await this.#expect(`RNFR ${from}`, [350]);
    await this.#expect(`RNTO ${to}`, [250]);
  }

  /**
   * The server's SHA-256 of a file, hex, by HASH (draft-bryan-ftpext-hash) or XSHA256; undefined
   * when the server offers neither.
   * @example `await ftp.sha256("a.bin") // "9f86d0…"`
   */
  async sha256(path: string): Promise<string | undefined> {
    if (this.features.has("HASH")) {
      const o = await this.command("OPTS HASH SHA-256");
      if (o.code === 200) {
        const r = await this.#expect(`HASH ${path}`, [213]);
        const m = /^SHA-256\s+\S+\s+([0-9a-fA-F]{64})\b/.exec(r.lines[0]!.trim());
        if (m) return m[1]!.toLowerCase();
      }
    }
    if (this.features.has("XSHA256")) {
      const r = await this.#expect(`XSHA256 ${path}`, [213]);
      const m = /\b([0-9a-fA-F]{64})\b/.exec(r.lines.join(" "));
      if (m) return m[1]!.toLowerCase();
    }
    return undefined;
  }

  /**
   * Says QUIT, waits for the 221 (bounded) and closes.
   * @example `await ftp.quit()`
   */
  async quit(): Promise<void> {
    try {
      await this.command("QUIT");
    } catch (err) {
      if (!(err instanceof OSError) || err instanceof TimeoutError) this.#c.abort();
    } finally {
      await this.#c.close();
    }
  }

  /** Resets the control connection at once. @example `ftp.abort()` */
  abort(): void {
    this.#c.abort();
  }
}
