/**
 * Where the sink keeps messages: a Maildir (each message written to `tmp/`, flushed, then renamed
 * into `new/`: a reader never sees half a message, and a failed write — a full disk — leaves
 * nothing behind), or memory.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { makeOSError, OSError } from "../../errors/index.js";
import { headerValue } from "./headers.js";
import type { Envelope } from "./session.js";

/**
 * A message the sink has stored.
 *
 * @example
 * ```ts
 * const envelope = { from: "a@x.org", to: ["b@y.org"], helo: "c", peer: "127.0.0.1:1", smtputf8: false, receivedAt: new Date() };
 * const m: StoredMessage = { id: "1700000000.M1P2Q1R0a.host,S=12", envelope, subject: "hi", size: 12 };
 * ```
 */
export interface StoredMessage {
  /** Its name in the store (in a Maildir: the file name in `new/`). */
  readonly id: string;
  readonly envelope: Envelope;
  /** The Subject header, decoded; undefined without one. */
  readonly subject: string | undefined;
  /** Bytes the client sent (after dot-unstuffing, CRLF line endings). */
  readonly size: number;
}

/**
 * What the SMTP server needs to keep messages, and the web page to show them.
 *
 * @example
 * ```ts
 * const store: MessageStore = new MemoryStore();
 * ```
 */
export interface MessageStore {
  /** Stores a whole message; rejects (an OSError, e.g. ENOSPC) with nothing stored. */
  store(data: Buffer, envelope: Envelope): Promise<StoredMessage>;
  /** The stored messages, oldest first, as far as the store knows them. */
  list(): Promise<StoredMessage[]>;
  /** A message's bytes as stored, or undefined. */
  read(id: string): Promise<Buffer | undefined>;
}

const CRLF = Buffer.from("\r\n");

/** The message as a file: Return-Path and Received first, LF line endings (Maildir's convention). */
function asFile(data: Buffer, env: Envelope, host: string, id: string): Buffer {
  // client text in a header: no control characters (a CR or LF would start a header of its own)

  const clean = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, "?");
  const to = env.to.length === 1 ? ` for <${clean(env.to[0]!)}>` : "";
  const head =
    `Return-Path: <${clean(env.from)}>\n` +
    `Received: from ${clean(env.helo) || "unknown"} (${env.peer})\n\tby ${host} (sockit) with ${env.smtputf8 ? "UTF8SMTP" : "ESMTP"} id ${id}${to};\n\t${env.receivedAt.toUTCString()}\n`;
  const parts: Buffer[] = [Buffer.from(head)];
  let pos = 0;
  for (;;) {
    const i = data.indexOf(CRLF, pos);
    if (i === -1) break;
    parts.push(data.subarray(pos, i), Buffer.from("\n"));
    pos = i + 2;
  }
  parts.push(data.subarray(pos));
  return Buffer.concat(parts);
}

/** The first `n` bytes of a file (a message's headers, without reading a large body). */
async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function fsError(err: unknown, op: string, path: string): OSError {
  const code = (err as { code?: unknown } | null)?.code;
  const c = typeof code === "string" && /^E[A-Z]+$/.test(code) ? code : "EIO";
  const hint =
    c === "ENOSPC" || c === "EDQUOT"
      ? "the file system of the Maildir is full; free space or use another --maildir"
      : c === "EACCES" || c === "EPERM"
        ? "check the Maildir's owner and permissions"
        : "check the Maildir's file system";
  return makeOSError(c, { op, address: path, hint, cause: err });
}

/**
 * A Maildir (https://cr.yp.to/proto/maildir.html): `tmp/`, `new/`, `cur/` under `dir`, created if
 * missing. Unique names: `SECONDS.M<µs>P<pid>Q<n>R<random>.<host>,S=<size>`.
 *
 * @example
 * ```ts
 * const box = await MaildirStore.open("./maildir");
 * ```
 */
export class MaildirStore implements MessageStore {
  readonly dir: string;
  readonly #host: string;
  #n = 0;
  readonly #known = new Map<string, StoredMessage>();

  private constructor(dir: string) {
    this.dir = dir;
    this.#host = hostname().replace(/\//g, "\\057").replace(/:/g, "\\072") || "localhost";
  }

  /** Opens (and creates) the Maildir at `dir`. Rejects with an OSError when it cannot. */
  static async open(dir: string): Promise<MaildirStore> {
    for (const sub of ["tmp", "new", "cur"]) {
      const p = join(dir, sub);
      await mkdir(p, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
        throw fsError(err, "mkdir", p);
      });
    }
    return new MaildirStore(dir);
  }

  /** A new unique name (without the size). */
  #name(): string {
    const now = Date.now();
    const usec = (now % 1000) * 1000 + Math.floor(Math.random() * 1000);
    return `${Math.floor(now / 1000)}.M${usec}P${process.pid}Q${++this.#n}R${randomBytes(4).toString("hex")}.${this.#host}`;
  }

  /** See {@link MessageStore.store}: tmp/NAME written and flushed, then renamed to new/NAME. */
  async store(data: Buffer, envelope: Envelope): Promise<StoredMessage> {
    const base = this.#name();
    const id = `${base},S=${data.length}`;
    const tmp = join(this.dir, "tmp", id);
    const bytes = asFile(data, envelope, this.#host, base);
    let written = false;
    try {
      const fh = await open(tmp, "wx", 0o600);
      written = true;
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, join(this.dir, "new", id));
    } catch (err) {
      if (written) await unlink(tmp).catch(() => {});
      throw fsError(err, "write", tmp);
    }
    const m: StoredMessage = { id, envelope, subject: headerValue(data, "subject"), size: data.length };
    this.#known.set(id, m);
    return m;
  }

  /** The messages in `new/` and `cur/`, oldest first (those stored by others: envelope from Return-Path). */
  async list(): Promise<StoredMessage[]> {
    const out: Array<StoredMessage & { t: number }> = [];
    for (const sub of ["new", "cur"]) {
      let names: string[];
      try {
        names = await readdir(join(this.dir, sub));
      } catch {
        continue;
      }
      for (const name of names) {
        if (name.startsWith(".")) continue;
        const known = this.#known.get(name);
        const t = Number(name.split(".")[0]) || 0;
        if (known) {
          out.push({ ...known, t });
          continue;
        }
        try {
          const path = join(this.dir, sub, name);
          const st = await stat(path);
          const head = await readHead(path, 64 * 1024);
          const from = /^<(.*)>$/.exec(headerValue(head, "return-path") ?? "")?.[1] ?? "";
          const to = headerValue(head, "to");
          out.push({
            id: name,
            envelope: { from, to: to ? [to] : [], helo: "", peer: "", smtputf8: false, receivedAt: st.mtime },
            subject: headerValue(head, "subject"),
            size: st.size,
            t: t || st.mtimeMs / 1000,
          });
        } catch {
          // gone meanwhile (a mail reader moved it): skip
        }
      }
    }
    return out.sort((a, b) => a.t - b.t || (a.id < b.id ? -1 : 1)).map(({ t: _t, ...m }) => m);
  }

  /** See {@link MessageStore.read}: from `new/`, else `cur/` (any flags suffix). */
  async read(id: string): Promise<Buffer | undefined> {
    if (id === "" || id.includes("/") || id.startsWith(".") || id.includes("\0")) return undefined;
    for (const sub of ["new", "cur"]) {
      try {
        return await readFile(join(this.dir, sub, id));
      } catch {
        // next
      }
    }
    return undefined;
  }
}

/**
 * Messages kept in memory (the newest `max`, default 1000), as the Maildir would store them.
 *
 * @example
 * ```ts
 * const mem = new MemoryStore({ max: 100 });
 * ```
 */
export class MemoryStore implements MessageStore {
  readonly #max: number;
  readonly #messages = new Map<string, { meta: StoredMessage; bytes: Buffer }>();
  #n = 0;

  /** `max`: messages kept; older ones are dropped. */
  constructor(opts: { max?: number } = {}) {
    this.#max = opts.max ?? 1000;
  }

  /** See {@link MessageStore.store}. */
  async store(data: Buffer, envelope: Envelope): Promise<StoredMessage> {
    const id = `${Math.floor(Date.now() / 1000)}.Q${++this.#n}`;
    const meta: StoredMessage = { id, envelope, subject: headerValue(data, "subject"), size: data.length };
    this.#messages.set(id, { meta, bytes: asFile(data, envelope, "localhost", id) });
    while (this.#messages.size > this.#max) this.#messages.delete(this.#messages.keys().next().value!);
    return meta;
  }

  /** See {@link MessageStore.list}. */
  async list(): Promise<StoredMessage[]> {
    return [...this.#messages.values()].map((m) => m.meta);
  }

  /** See {@link MessageStore.read}. */
  async read(id: string): Promise<Buffer | undefined> {
    return this.#messages.get(id)?.bytes;
  }
}
