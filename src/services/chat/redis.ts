/**
 * Several chat servers as one network through Redis (`--redis`): every node publishes what its own
 * members do on one pub/sub channel and shows the members of the other nodes as "remote" members
 * of its hub, so rooms, NAMES, WHO and LIST span the network. Nicknames are claimed in Redis with
 * `SET key node NX PX expiry`, renewed by their node and deleted when the member leaves; a node
 * that dies stops renewing and stops its heartbeat, and its members vanish from the others within
 * the expiry ({@link DEFAULT_NETWORK_EXPIRY_MS}). `ioredis` is loaded only when a network is joined.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { makeOSError, OSError } from "../../errors/index.js";
import {
  type ChatHub,
  type ChatMember,
  type HubEvent,
  type HubLink,
  infoOf,
  type MemberInfo,
} from "./hub.js";
import { type IrcMessage, ircLower } from "./protocol.js";

/**
 * Milliseconds after which a silent node's members vanish and its nickname claims expire.
 * @example `setTimeout(checkGone, DEFAULT_NETWORK_EXPIRY_MS + 2000)`
 */
export const DEFAULT_NETWORK_EXPIRY_MS = 10_000;

/**
 * Options of {@link joinRedisNetwork}.
 * @example `{ url: "redis://127.0.0.1:6379", expiryMs: 10_000 }`
 */
export interface RedisNetworkOptions {
  /** `redis://HOST:PORT[/DB]`, `rediss://…`, `unix:/PATH` or `redis+unix:///PATH`. */
  readonly url: string;
  /** See {@link DEFAULT_NETWORK_EXPIRY_MS}; heartbeats and renewals go out 5 times per expiry. */
  readonly expiryMs?: number;
  /** Key and channel prefix: nodes with the same prefix form one network (default "sockit:chat"). */
  readonly prefix?: string;
  /** Milliseconds to wait for the first connection (default 5000). */
  readonly connectTimeoutMs?: number;
}

/** The network messages: hub events plus the network's own. */
type Wire =
  | (HubEvent & { readonly n: string })
  | { readonly n: string; readonly t: "hb" | "sync" | "bye" }
  | {
      readonly n: string;
      readonly t: "state";
      readonly members: ReadonlyArray<MemberInfo & { readonly channels: string[] }>;
      readonly topics: ReadonlyArray<{ channel: string; text: string }>;
    }
  | {
      readonly n: string;
      readonly t: "dm";
      readonly to: string;
      readonly nick: string;
      readonly msg: IrcMessage;
    };

/** The part of an ioredis client used here. */
interface RedisLike {
  on(ev: string, f: (...a: unknown[]) => void): unknown;
  connect(): Promise<void>;
  quit(): Promise<unknown>;
  disconnect(): void;
  publish(ch: string, msg: string): Promise<unknown>;
  subscribe(ch: string): Promise<unknown>;
  set(...a: Array<string | number>): Promise<unknown>;
  get(k: string): Promise<string | null>;
  pexpire(k: string, ms: number): Promise<unknown>;
  eval(script: string, keys: number, ...a: string[]): Promise<unknown>;
  status: string;
}

/** Deletes a key only if this node holds it. */
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * How ioredis reaches `url`: `unix:/PATH` and `redis+unix:///PATH` are Unix sockets.
 * @example `redisTarget("unix:/tmp/r.sock") // { path: "/tmp/r.sock" }`
 */
export function redisTarget(url: string): { path: string } | { url: string } {
  const unix = /^(?:unix:|redis\+unix:\/\/)(\/.+)$/.exec(url);
  if (unix) return { path: unix[1]! };
  if (/^rediss?:\/\/[^/]+/.test(url)) return { url };
  throw makeOSError("EINVAL", {
    op: "redis",
    address: url,
    hint: "give --redis as redis://HOST:PORT, unix:/PATH or redis+unix:///PATH",
  });
}

/**
 * A hub's membership of a Redis-backed network ({@link joinRedisNetwork}).
 * @example `const net = await joinRedisNetwork(hub, { url }); …; await net.close();`
 */
export class RedisNetwork implements HubLink {
  /** This node's id (random, per process). */
  readonly node = randomBytes(6).toString("hex");
  /** See {@link DEFAULT_NETWORK_EXPIRY_MS}. */
  readonly expiryMs: number;
  readonly #hub: ChatHub;
  readonly #pub: RedisLike;
  readonly #sub: RedisLike;
  readonly #prefix: string;
  readonly #url: string;
  /** Remote members by node, then lower-cased nick. */
  readonly #remote = new Map<string, { seen: number; members: Map<string, ChatMember> }>();
  #timer: NodeJS.Timeout | undefined;
  #up = false;
  #closed = false;

  /** @internal use {@link joinRedisNetwork}. */
  constructor(hub: ChatHub, pub: RedisLike, sub: RedisLike, url: string, opts: RedisNetworkOptions) {
    this.#hub = hub;
    this.#pub = pub;
    this.#sub = sub;
    this.#url = url;
    this.#prefix = opts.prefix ?? "sockit:chat";
    this.expiryMs = Math.max(500, opts.expiryMs ?? DEFAULT_NETWORK_EXPIRY_MS);
  }

  /** Whether this node is connected to Redis now. */
  get connected(): boolean {
    return this.#up;
  }

  /** How many members of other nodes this node sees. */
  get remoteMembers(): number {
    let n = 0;
    for (const r of this.#remote.values()) n += r.members.size;
    return n;
  }

  get #channel(): string {
    return `${this.#prefix}:events`;
  }

  #key(nick: string): string {
    return `${this.#prefix}:nick:${ircLower(nick)}`;
  }

  /** @internal */
  async start(): Promise<void> {
    this.#sub.on("message", (_ch, text) => this.#receive(String(text)));
    this.#sub.on("ready", () => void this.#ready());
    this.#pub.on("ready", () => void this.#ready());
    this.#sub.on("close", () => this.#down());
    await this.#sub.subscribe(this.#channel);
    this.#hub.link = this;
    await this.#ready();
    this.#timer = setInterval(() => this.#tick(), Math.floor(this.expiryMs / 5));
    this.#timer.unref();
  }

  /** Leaves the network: nickname claims released, the other nodes told; the hub stays. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#hub.link === this) this.#hub.link = undefined;
    if (this.#up) {
      await Promise.allSettled([
        ...this.#locals().map((m) => this.#pub.eval(RELEASE, 1, this.#key(m.nick), this.node)),
        this.#send({ n: this.node, t: "bye" }),
      ]);
    }
    for (const c of [this.#pub, this.#sub]) await c.quit().catch(() => c.disconnect());
  }

  /** Part of {@link HubLink}: called by the hub. */
  event(e: HubEvent): void {
    // released first: the other nodes hear of the QUIT after the name is free in Redis
    if (e.t === "quit") this.#pub.eval(RELEASE, 1, this.#key(e.nick), this.node).catch(() => {});
    void this.#send({ ...e, n: this.node });
  }

  /** Part of {@link HubLink}: called by the hub. */
  claimed(m: ChatMember, nick: string, old: string | undefined): void {
    if (old !== undefined && ircLower(old) !== ircLower(nick))
      this.#pub.eval(RELEASE, 1, this.#key(old), this.node).catch(() => {});
    if (this.#up) void this.#claim(m, nick);
  }

  async #claim(m: ChatMember, nick: string): Promise<void> {
    const key = this.#key(nick);
    try {
      const ok = await this.#pub.set(key, this.node, "PX", this.expiryMs, "NX");
      if (ok === "OK") return;
      const holder = await this.#pub.get(key);
      if (holder === this.node || holder === null) {
        if (holder === null) await this.#pub.set(key, this.node, "PX", this.expiryMs, "NX");
        return;
      }
    } catch {
      return; // Redis is away: the claim is made again when it is back (#ready)
    }
    // someone on another node took it at the same moment: this member gets a guest name
    if (ircLower(m.nick) !== ircLower(nick) || this.#hub.find(nick) !== m) return;
    this.#hub.claimNick(m, this.#hub.guestNick(), true);
    m.deliver({
      prefix: this.#hub.serverName,
      command: "NOTICE",
      params: [
        m.nick,
        `*** the nickname ${nick} was taken on another server of this network; you are ${m.nick}`,
      ],
    });
  }

  #locals(): ChatMember[] {
    return [...this.#hub.members.values()].filter((m) => m.node === undefined);
  }

  #notice(text: string): void {
    for (const m of this.#locals())
      m.deliver({ prefix: this.#hub.serverName, command: "NOTICE", params: [m.nick, text] });
  }

  async #ready(): Promise<void> {
    if (this.#closed || this.#up || this.#sub.status !== "ready" || this.#pub.status !== "ready") return;
    this.#up = true;
    const back = this.#hub.members.size > 0;
    for (const m of this.#locals()) void this.#claim(m, m.nick);
    await this.#send({ n: this.node, t: "sync" });
    await this.#sendState();
    if (back) this.#notice("*** back on the chat network: rooms reach the other servers again");
  }

  #down(): void {
    if (!this.#up || this.#closed) return;
    this.#up = false;
    this.#notice(
      `*** lost the chat network (Redis at ${this.#url}): rooms on this server keep working; ` +
        "people on other servers do not see what is said until it is back",
    );
  }

  async #send(w: Wire): Promise<void> {
    if (!this.#up && w.t !== "bye") return;
    await this.#pub.publish(this.#channel, JSON.stringify(w)).catch(() => {});
  }

  async #sendState(): Promise<void> {
    const members = this.#locals().map((m) => ({
      ...infoOf(m),
      channels: [...m.channels].map((k) => this.#hub.channels.get(k)?.name ?? k),
    }));
    const topics = [...this.#hub.channels.values()]
      .filter((c) => c.topic !== undefined && [...c.members.keys()].some((m) => m.node === undefined))
      .map((c) => ({ channel: c.name, text: c.topic!.text }));
    await this.#send({ n: this.node, t: "state", members, topics });
  }

  #tick(): void {
    if (this.#up) {
      void this.#send({ n: this.node, t: "hb" });
      for (const m of this.#locals()) this.#pub.pexpire(this.#key(m.nick), this.expiryMs).catch(() => {});
    }
    const now = Date.now();
    for (const [node, r] of this.#remote) if (now - r.seen > this.expiryMs) this.#drop(node, "node lost");
  }

  #drop(node: string, why: string): void {
    const r = this.#remote.get(node);
    if (!r) return;
    this.#remote.delete(node);
    for (const m of r.members.values()) this.#hub.quit(m, `*.net *.split (${why})`);
  }

  #ghost(node: string, info: MemberInfo): ChatMember {
    let r = this.#remote.get(node);
    if (!r) this.#remote.set(node, (r = { seen: Date.now(), members: new Map() }));
    const key = ircLower(info.nick);
    let m = r.members.get(key);
    if (m) return m;
    const send = (msg: IrcMessage): void => {
      // only messages addressed to this person travel; channel traffic reaches them from its author
      const to = msg.params[0] ?? "";
      if ((msg.command === "PRIVMSG" || msg.command === "NOTICE") && !to.startsWith("#"))
        void this.#send({ n: this.node, t: "dm", to: node, nick: m!.nick, msg });
    };
    m = { ...info, node, away: undefined, channels: new Set<string>(), deliver: send };
    r.members.set(key, m);
    this.#hub.claimNick(m, info.nick);
    return m;
  }

  #find(node: string, nick: string): ChatMember | undefined {
    return this.#remote.get(node)?.members.get(ircLower(nick));
  }

  #receive(text: string): void {
    let w: Wire;
    try {
      w = JSON.parse(text) as Wire;
    } catch {
      return;
    }
    if (typeof w !== "object" || w === null || typeof w.n !== "string" || w.n === this.node) return;
    try {
      this.#apply(w);
    } catch {
      // a message of another shape (another version, another program on the channel): ignored
    }
  }

  #apply(w: Wire): void {
    const r = this.#remote.get(w.n);
    if (r) r.seen = Date.now();
    const h = this.#hub;
    switch (w.t) {
      case "hb":
        if (!r) void this.#send({ n: this.node, t: "sync" }); // a node we do not know (yet, or again)
        return;
      case "sync":
        void this.#sendState();
        return;
      case "bye":
        return this.#drop(w.n, "node left");
      case "state":
        if (!r) this.#remote.set(w.n, { seen: Date.now(), members: new Map() });
        for (const info of w.members) {
          const m = this.#ghost(w.n, info);
          for (const c of info.channels) h.join(m, c);
        }
        for (const t of w.topics) {
          const ch = h.channel(t.channel);
          if (ch && ch.topic?.text !== t.text) ch.topic = { text: t.text, by: "", at: Date.now() };
        }
        return;
      case "join":
        h.join(this.#ghost(w.n, w.who), w.channel);
        return;
      case "dm":
        if (w.to === this.node) {
          const m = h.find(w.nick);
          if (m && m.node === undefined) m.deliver(w.msg);
        }
        return;
    }
    const m = this.#find(w.n, w.nick);
    if (!m) return;
    switch (w.t) {
      case "part": {
        const ch = h.channel(w.channel);
        if (ch) h.part(m, ch, w.reason);
        return;
      }
      case "quit":
        h.quit(m, w.reason);
        this.#remote.get(w.n)?.members.delete(ircLower(w.nick));
        return;
      case "nick": {
        const rm = this.#remote.get(w.n)!.members;
        rm.delete(ircLower(w.nick));
        rm.set(ircLower(w.to), m);
        h.claimNick(m, w.to, true);
        return;
      }
      case "say": {
        const ch = h.channel(w.channel);
        if (ch && ch.members.has(m)) h.say(m, ch, w.command, w.text);
        return;
      }
      case "topic": {
        const ch = h.channel(w.channel);
        if (ch) h.setTopic(m, ch, w.text);
        return;
      }
    }
  }
}

/**
 * Makes `hub` one node of the network of every hub joined to the same Redis (and prefix):
 * rooms, nicknames, NAMES/WHO/LIST span the nodes. Loads `ioredis` (only now). Rejects with an
 * {@link OSError} when Redis cannot be reached at start; later losses are told to the users
 * (a NOTICE) and retried, local rooms working meanwhile.
 *
 * @example
 * ```ts
 * import { ChatHub, joinRedisNetwork, serveChat } from "sockit/services/chat";
 * const hub = new ChatHub();
 * const net = await joinRedisNetwork(hub, { url: "redis://127.0.0.1:6379" });
 * const server = await serveChat({ port: 0, hub });
 * // … later
 * await server.close();
 * await net.close();
 * ```
 */
export async function joinRedisNetwork(hub: ChatHub, opts: RedisNetworkOptions): Promise<RedisNetwork> {
  const target = redisTarget(opts.url);
  const { Redis } = await import("ioredis");
  const base = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: opts.connectTimeoutMs ?? 5000,
    retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
  };
  const make = (): RedisLike =>
    ("path" in target
      ? new Redis({ ...base, path: target.path })
      : new Redis(target.url, base)) as unknown as RedisLike;
  const pub = make();
  const sub = make();
  for (const c of [pub, sub]) c.on("error", () => {}); // reported through close/ready and the users' NOTICE
  try {
    await Promise.all([pub.connect(), sub.connect()]);
  } catch (err) {
    pub.disconnect();
    sub.disconnect();
    const code =
      typeof (err as { code?: unknown }).code === "string" ? (err as { code: string }).code : "ECONNREFUSED";
    throw makeOSError(/^E[A-Z]+$/.test(code) ? code : "ECONNREFUSED", {
      op: "connect",
      address: opts.url,
      hint: "is redis-server running there? check --redis (redis://HOST:PORT or unix:/PATH)",
      cause: err,
    });
  }
  const net = new RedisNetwork(hub, pub, sub, opts.url, opts);
  try {
    await net.start();
  } catch (err) {
    await net.close();
    throw err instanceof OSError ? err : makeOSError("EIO", { op: "redis", address: opts.url, cause: err });
  }
  return net;
}
