/**
 * The two "across a bad link" tests a bulk transfer must pass (issue: file transfer, Faults):
 * the same transfer under 10 % random loss (nftables on the receiving side's ingress) and under
 * 50 ms of one-way delay on the data's way (support/delay-link.ts, a userspace TUN forwarder, as
 * the kernel here has no netem). Each is gated on integrity (the caller's `run` asserts it) and a
 * time bound, and on proof that the fault really acted: packets dropped, data through the link.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { delayLink } from "./delay-link.js";
import type { NetnsPair } from "./netns.js";

/** How {@link badLinkTests} runs one transfer and where its data flows. */
export interface BadLinkCase {
  /** The namespace pair, made in the caller's `before` (read when a test runs). */
  readonly pair: () => NetnsPair;
  /** Bytes of the payload: the delay test checks at least size/1500 packets crossed the link. */
  readonly size: number;
  /** The bound for one transfer, ms (each test gets 30 s more). */
  readonly limitMs: number;
  /** Which way the data flows: client → server ("up", e.g. send to recv) or back ("down", a download). */
  readonly dataFlows: "up" | "down";
  /**
   * Runs one transfer with the server side listening on `host` (in `pair.server`), asserts the
   * result is intact, and resolves the time it took in ms.
   */
  readonly run: (host: string, label: string) => Promise<number>;
  /** Extra words for the test names (e.g. ", both sides exit 0"). */
  readonly suffix?: string;
}

/** The one-way delay of the delay test, ms. */
export const BAD_LINK_DELAY_MS = 50;

/**
 * Declares the loss test and the delay test for `c` inside the caller's describe.
 *
 * @example
 * ```ts
 * badLinkTests({ pair: () => pair, size: SIZE, limitMs: LIMIT_MS, dataFlows: "up", run: transfer });
 * ```
 */
export function badLinkTests(c: BadLinkCase): void {
  const timeout = c.limitMs + 30_000;
  test(
    `${c.size / 1e6} MB under 10 % random loss arrives intact (same SHA-256)${c.suffix ?? ""}`,
    { timeout },
    async () => {
      const pair = c.pair();
      const loss = pair.randomLoss(10, c.dataFlows === "up" ? "server" : "client");
      try {
        const ms = await c.run(pair.serverV4, "loss");
        const dropped = loss.dropped();
        assert.ok(dropped > 100, `the loss rule dropped packets (${dropped}) in ${ms} ms`);
      } finally {
        loss.remove();
      }
    },
  );

  test(
    `${c.size / 1e6} MB under ${BAD_LINK_DELAY_MS} ms of delay (userspace TUN link) arrives intact`,
    { timeout },
    async () => {
      const up = c.dataFlows === "up";
      const link = await delayLink(c.pair(), {
        delayMs: up ? BAD_LINK_DELAY_MS : 0,
        backMs: up ? 0 : BAD_LINK_DELAY_MS,
        seconds: c.limitMs / 1000 + 20,
      });
      try {
        const rtt = link.rttMs();
        assert.ok(rtt >= BAD_LINK_DELAY_MS - 5, `the link delays: a connect took ${rtt} ms`);
        await c.run(link.serverV4, "delay");
        const stats = await link.stop();
        const way = up ? stats.ab : stats.ba;
        assert.ok(
          way.tx > c.size / 1500,
          `the data went through the delaying link: ${JSON.stringify(stats)}`,
        );
      } finally {
        await link.close();
      }
    },
  );
}
