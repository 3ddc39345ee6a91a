/**
 * The game client's network side: join, steer, and the newest snapshot.
 *
 * Inputs carry a sequence number; the latest one is sent again every tick until a snapshot
 * acknowledges it, and at least every {@link HEARTBEAT_MS} anyway (so the server knows the
 * player is there). Snapshots are latest-wins: one older than (or as old as) the newest the
 * client has is dropped and counted, so reordering never moves the picture back, and a lost one
 * is simply replaced by the next. A server silent for `timeoutMs` ends the game with TimeoutError.
 *
 * @module
 */
import { dial, type PacketConn } from "../../net/index.js";
import { makeOSError, OSError, TimeoutError } from "../../errors/index.js";
import { decode, type Dir, encode, MAX_DATAGRAM, newer, type Snapshot, type Welcome } from "./protocol.js";

/**
 * The longest a client stays quiet while joined, ms.
 * @example `setInterval(sendLatestInput, HEARTBEAT_MS)`
 */
export const HEARTBEAT_MS = 250;
/**
 * How often a join is sent again until answered, ms.
 * @example `setInterval(() => pc.write(join), JOIN_RESEND_MS)`
 */
export const JOIN_RESEND_MS = 200;

/**
 * Options of {@link GameClient.join}.
 * @example `const opts: GameClientOptions = { name: "alice", timeoutMs: 5000 };`
 */
export interface GameClientOptions {
  /** 1 to 16 printable ASCII characters. */
  readonly name: string;
  /** Server silence (no welcome, then no snapshot) that ends the game, ms (default 5000). */
  readonly timeoutMs?: number;
}

/**
 * What a client counted.
 * @example `client.stats.stale // snapshots dropped as older than the newest`
 */
export interface ClientStats {
  snapshots: number;
  stale: number;
  malformed: number;
  inputsSent: number;
}

const REASON_TEXT = {
  full: "the game is full",
  "bad-name": "the name is not allowed",
  "name-taken": "another player has this name; choose another with --name",
  running: "a match is running; join again when it is over",
} as const;

/**
 * One player's connection to a game server.
 *
 * @example
 * ```ts
 * const client = await GameClient.join("127.0.0.1:7777", { name: "alice" });
 * for (;;) {
 *   const s = await client.next();
 *   if (s.phase === "over") break;
 *   client.steer(1); // right
 * }
 * await client.close();
 * ```
 */
export class GameClient {
  readonly stats: ClientStats = { snapshots: 0, stale: 0, malformed: 0, inputsSent: 0 };
  readonly #pc: PacketConn;
  readonly #address: string;
  readonly #timeoutMs: number;
  readonly #loop: Promise<void>;
  #welcome: Welcome | undefined;
  #joined: { resolve: (w: Welcome) => void; reject: (e: Error) => void } | undefined;
  #latest: Snapshot | undefined;
  #taken: number | undefined;
  #waiter: (() => void) | undefined;
  #error: Error | undefined;
  #heardAt = performance.now();
  #seq = 0;
  #dir: Dir = 0;
  #acked = 0;
  #sentAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(pc: PacketConn, address: string, timeoutMs: number) {
    this.#pc = pc;
    this.#address = address;
    this.#timeoutMs = timeoutMs;
    this.#loop = this.#receive();
  }

  /**
   * Joins the server at `address` ("host:port"): resends the join until a welcome comes. Rejects
   * ConnectionRefusedError when the server refuses (full, name taken, a match running) or no
   * server answers on that port, TimeoutError when nothing answers within `timeoutMs`.
   */
  static async join(address: string, opts: GameClientOptions): Promise<GameClient> {
    const join = encode({ type: "join", name: opts.name }); // RangeError for a bad name, before any socket
    const timeoutMs = opts.timeoutMs ?? 5000;
    const pc = await dial("udp", address);
    const c = new GameClient(pc, address, timeoutMs);
    try {
      await c.#join(join);
    } catch (err) {
      await c.close(false);
      throw err;
    }
    return c;
  }

  /** The welcome: this player's id, the arena size, the tick rate. */
  get welcome(): Welcome {
    return this.#welcome!;
  }

  /** The newest snapshot received (undefined before the first). */
  get latest(): Snapshot | undefined {
    return this.#latest;
  }

  /** The direction last asked for. */
  get dir(): Dir {
    return this.#dir;
  }

  async #join(join: Buffer): Promise<void> {
    const welcome = new Promise<Welcome>((resolve, reject) => (this.#joined = { resolve, reject }));
    const t0 = performance.now();
    const resend = setInterval(() => {
      if (performance.now() - t0 > this.#timeoutMs) {
        this.#joined?.reject(
          new TimeoutError("ETIMEDOUT", {
            op: "join",
            address: this.#address,
            hint: "no game server answered; check the address and that `sockit game serve` runs there",
          }),
        );
      } else this.#write(join);
    }, JOIN_RESEND_MS);
    this.#write(join);
    try {
      this.#welcome = await welcome;
    } finally {
      clearInterval(resend);
      this.#joined = undefined;
    }
    this.#heardAt = performance.now();
    this.#timer = setInterval(() => this.#tick(), 1000 / this.#welcome.tickHz);
  }

  /** Asks for direction `dir`; the input is sent now and again until acknowledged. */
  steer(dir: Dir): void {
    if (dir === this.#dir && !newer(this.#seq, this.#acked)) return;
    this.#dir = dir;
    this.#seq = (this.#seq + 1) >>> 0;
    this.#sendInput();
  }

  /**
   * Resolves the next snapshot newer than the one it resolved last (the newest there is: in
   * between ones are skipped). Rejects TimeoutError when the server has been silent for
   * `timeoutMs`, or the socket's error.
   */
  async next(): Promise<Snapshot> {
    for (;;) {
      if (this.#error !== undefined) throw this.#error;
      const s = this.#latest;
      if (s !== undefined && (this.#taken === undefined || newer(s.tick, this.#taken))) {
        this.#taken = s.tick;
        return s;
      }
      if (this.#closed) throw makeOSError("EBADF", { op: "recv", hint: "the game client was closed" });
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
      });
    }
  }

  /** Sends a leave (when joined) and closes the socket. Idempotent. */
  async close(leave = true): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    if (leave && this.#welcome !== undefined)
      await this.#pc.write(encode({ type: "leave", token: this.#welcome.token })).catch(() => 0);
    await this.#pc.close();
    await this.#loop;
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  #tick(): void {
    if (performance.now() - this.#heardAt > this.#timeoutMs) {
      this.#fail(
        new TimeoutError("ETIMEDOUT", {
          op: "recv",
          address: this.#address,
          hint: `the game server sent nothing for ${this.#timeoutMs / 1000} s; is it still running?`,
        }),
      );
      return;
    }
    if (newer(this.#seq, this.#acked) || performance.now() - this.#sentAt >= HEARTBEAT_MS) this.#sendInput();
  }

  #sendInput(): void {
    if (this.#welcome === undefined || this.#closed) return;
    this.#sentAt = performance.now();
    this.stats.inputsSent++;
    this.#write(encode({ type: "input", token: this.#welcome.token, seq: this.#seq, dir: this.#dir }));
  }

  #write(b: Buffer): void {
    if (this.#closed) return;
    this.#pc.write(b).catch((err: unknown) => {
      if (err instanceof OSError && err.code !== "EBADF") this.#fail(this.#hint(err));
    });
  }

  #hint(err: OSError): OSError {
    if (err.code !== "ECONNREFUSED") return err;
    return makeOSError("ECONNREFUSED", {
      op: "recv",
      address: this.#address,
      hint: "nothing listens on that UDP port; is `sockit game serve` running there?",
    });
  }

  #fail(err: Error): void {
    this.#error ??= err;
    this.#joined?.reject(err);
    clearInterval(this.#timer);
    this.#wake();
  }

  async #receive(): Promise<void> {
    try {
      for await (const p of this.#pc) {
        const m = p.data.length > MAX_DATAGRAM ? undefined : decode(p.data);
        if (m === undefined) {
          this.stats.malformed++;
          continue;
        }
        if (m.type === "welcome") this.#joined?.resolve(m);
        else if (m.type === "reject" && this.#joined !== undefined) {
          this.#joined.reject(
            makeOSError("ECONNREFUSED", { op: "join", address: this.#address, hint: REASON_TEXT[m.reason] }),
          );
        } else if (m.type === "snapshot" && this.#welcome !== undefined) this.#snapshot(m);
        else this.stats.malformed++;
      }
    } catch (err) {
      if (!this.#closed) this.#fail(err instanceof OSError ? this.#hint(err) : (err as Error));
    }
  }

  #snapshot(s: Snapshot): void {
    this.#heardAt = performance.now();
    if (this.#latest !== undefined && !newer(s.tick, this.#latest.tick)) {
      this.stats.stale++;
      return;
    }
    this.stats.snapshots++;
    this.#latest = s;
    if (!newer(this.#acked, s.ack)) this.#acked = s.ack;
    this.#wake();
  }
}
