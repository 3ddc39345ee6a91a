/**
 * A line-level chat client for tests: connects with sockit's own `dial`, collects every line the
 * server sends, waits (bounded) for a line matching a pattern.
 */
import { type Conn, dial } from "../../src/net/index.js";

/** One connection to a chat server, its lines collected as they arrive. */
export class LineClient {
  readonly lines: string[] = [];
  closed = false;
  readonly #conn: Conn;
  #held = "";
  #waiters: Array<() => void> = [];
  readonly #reading: Promise<void>;

  private constructor(conn: Conn) {
    this.#conn = conn;
    this.#reading = this.#read();
  }

  /** Connects to `address` ("127.0.0.1:6667"). */
  static async connect(address: string): Promise<LineClient> {
    return new LineClient(await dial("tcp", address, { timeout: 5000 }));
  }

  /** Sends `line` + CR LF (a binary string: one char per byte). */
  async send(...lines: string[]): Promise<void> {
    await this.#conn.write(Buffer.from(lines.map((l) => `${l}\r\n`).join(""), "latin1"));
  }

  /** Sends raw bytes. */
  async raw(b: Uint8Array | string): Promise<void> {
    await this.#conn.write(b);
  }

  /** The first line at index ≥ `from` matching `re`, waiting at most `ms`. */
  async wait(re: RegExp, ms = 5000, from = 0): Promise<string> {
    const until = Date.now() + ms;
    for (;;) {
      const hit = this.lines.slice(from).find((l) => re.test(l));
      if (hit !== undefined) return hit;
      if (this.closed)
        throw new Error(`connection closed before a line matching ${re}; got:\n${this.lines.join("\n")}`);
      const left = until - Date.now();
      if (left <= 0)
        throw new Error(`no line matching ${re} within ${ms} ms; got:\n${this.lines.join("\n")}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Resolves when the server has closed the connection (at most `ms`). */
  async waitClosed(ms = 5000): Promise<void> {
    const until = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > until) throw new Error(`still open after ${ms} ms; got:\n${this.lines.join("\n")}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Registers as an IRC client and waits for 001 and the end of the MOTD. */
  async register(nick: string): Promise<void> {
    const from = this.lines.length;
    await this.send(`NICK ${nick}`, `USER ${nick} 0 * :${nick} test`);
    await this.wait(/ 001 /, 5000, from);
    await this.wait(/ (376|422) /, 5000, from);
  }

  /** Closes (abortive with `reset`). */
  async close(reset = false): Promise<void> {
    if (reset) this.#conn.abort();
    else await this.#conn.close().catch(() => {});
    await this.#reading;
  }

  async #read(): Promise<void> {
    try {
      for (;;) {
        const b = await this.#conn.read();
        if (b === null) break;
        this.#held += b.toString("latin1");
        let i: number;
        while ((i = this.#held.indexOf("\n")) >= 0) {
          this.lines.push(this.#held.slice(0, i).replace(/\r$/, ""));
          this.#held = this.#held.slice(i + 1);
        }
        for (const w of this.#waiters.splice(0)) w();
      }
    } catch {
      // reset or closed by us
    } finally {
      this.closed = true;
      for (const w of this.#waiters.splice(0)) w();
    }
  }
}
