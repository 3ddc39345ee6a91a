/**
 * Token buckets: at most `rate` events per second on average, `burst` at once. {@link RateLimiter}
 * keeps one bucket per source (bounded in number) plus one for all sources together, so neither
 * one noisy sender nor many spoofed ones can make a UDP service answer faster than configured.
 * Pure: the caller passes the clock.
 *
 * @module
 */

/**
 * One token bucket. Starts full.
 *
 * @example
 * ```ts
 * const b = new TokenBucket(10, 20);          // 10/s, bursts of 20
 * if (b.take(performance.now())) await pc.writeTo(reply, packet.endpoint);
 * ```
 */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  #tokens: number;
  #last: number | undefined;

  /** `rate` tokens per second (> 0), at most `burst` (≥ 1) stored. */
  constructor(rate: number, burst: number) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be > 0, got ${rate}`);
    if (!(burst >= 1) || !Number.isFinite(burst)) throw new RangeError(`burst must be >= 1, got ${burst}`);
    this.rate = rate;
    this.burst = burst;
    this.#tokens = burst;
  }

  /** Tokens available at `nowMs` (refilled, at most `burst`). */
  tokens(nowMs: number): number {
    this.#refill(nowMs);
    return this.#tokens;
  }

  /** Takes one token if there is one; false means "over the limit". */
  take(nowMs: number): boolean {
    this.#refill(nowMs);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** True when the bucket would be full at `nowMs` (an idle source, safe to forget). */
  full(nowMs: number): boolean {
    return this.tokens(nowMs) >= this.burst;
  }

  #refill(nowMs: number): void {
    if (this.#last !== undefined && nowMs > this.#last) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((nowMs - this.#last) / 1000) * this.rate);
    }
    if (this.#last === undefined || nowMs > this.#last) this.#last = nowMs;
  }
}

/**
 * Limits of a {@link RateLimiter}.
 *
 * @example
 * ```ts
 * const limits: RateLimits = { rate: 10, burst: 20, totalRate: 1000, maxSources: 4096 };
 * const rl = new RateLimiter(limits);
 * ```
 */
export interface RateLimits {
  /** Replies per second per source (average). */
  readonly rate: number;
  /** Replies a source may get at once. */
  readonly burst: number;
  /** Replies per second over all sources together. */
  readonly totalRate: number;
  /** Sources remembered at once; beyond it the least recently seen is forgotten. */
  readonly maxSources: number;
}

/**
 * Why {@link RateLimiter.allow} said no (`"ok"`: it said yes).
 *
 * @example
 * ```ts
 * const rl = new RateLimiter({ rate: 1, burst: 1, totalRate: 100, maxSources: 16 });
 * const first: Verdict = rl.allow("192.0.2.1", 0); // "ok"
 * const second: Verdict = rl.allow("192.0.2.1", 1); // "source": its bucket is empty
 * ```
 */
export type Verdict = "ok" | "source" | "total";

/**
 * A token bucket per source key (an IP address) and one for everybody. The table of sources is
 * bounded: when full, idle sources go first, then the least recently seen.
 *
 * @example
 * ```ts
 * const rl = new RateLimiter({ rate: 10, burst: 20, totalRate: 1000, maxSources: 4096 });
 * if (rl.allow(packet.endpoint.address, performance.now()) === "ok") await pc.writeTo(reply, packet.endpoint);
 * ```
 */
export class RateLimiter {
  readonly limits: RateLimits;
  readonly #sources = new Map<string, TokenBucket>();
  readonly #total: TokenBucket;

  /** See {@link RateLimits}. */
  constructor(limits: RateLimits) {
    if (!(limits.maxSources >= 1)) throw new RangeError(`maxSources must be >= 1, got ${limits.maxSources}`);
    this.limits = limits;
    this.#total = new TokenBucket(limits.totalRate, Math.max(1, limits.totalRate * 2));
  }

  /** Sources currently remembered. */
  get size(): number {
    return this.#sources.size;
  }

  /** Takes a token for `key` (and one from the total) if both have one. */
  allow(key: string, nowMs: number): Verdict {
    let b = this.#sources.get(key);
    if (b === undefined) {
      if (this.#sources.size >= this.limits.maxSources) this.#evict(nowMs);
      b = new TokenBucket(this.limits.rate, this.limits.burst);
      this.#sources.set(key, b);
    } else {
      // most recently seen last: Map keeps insertion order
      this.#sources.delete(key);
      this.#sources.set(key, b);
    }
    if (b.tokens(nowMs) < 1) return "source";
    if (!this.#total.take(nowMs)) return "total";
    b.take(nowMs);
    return "ok";
  }

  #evict(nowMs: number): void {
    // forget idle (full) buckets among the oldest; if none is idle, the oldest goes
    let scanned = 0;
    for (const [k, b] of this.#sources) {
      if (scanned++ >= 64) break;
      if (b.full(nowMs)) this.#sources.delete(k);
    }
    if (this.#sources.size >= this.limits.maxSources) {
      const oldest = this.#sources.keys().next();
      if (!oldest.done) this.#sources.delete(oldest.value);
    }
  }
}
