/**
 * Debian's Chromium, headless, driven by playwright-core: the browser every page test uses
 * (guard the test with `needs(["chromium"])`). Flags: no sandbox (tests run as root), no GPU, no
 * background networking (the machine talks to loopback only).
 */
import type { Browser } from "playwright-core";
import { peerPath } from "./peers.js";

/**
 * Starts a headless Chromium; close it with `browser.close()`.
 * @example `const browser = await launchChromium(); try { … } finally { await browser.close(); }`
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: peerPath("chromium"),
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}
