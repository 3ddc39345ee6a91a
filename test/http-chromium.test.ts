/**
 * Headless Chromium (Debian's, driven by playwright-core) as a client of sockit's HTTP server:
 * it loads a directory listing, follows a link in it to a file, and loads a page with an image
 * and a script, each answered by sockit (the access log shows every request).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type HttpServer, serveHttp, staticHandler } from "../src/services/http/index.js";
import { needs } from "./support/peers.js";
import { launchChromium } from "./support/chromium.js";

// a 1×1 PNG
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5f5" +
    "e0a50000000049454e44ae426082",
  "hex",
);

describe("headless Chromium as the client", { skip: needs(["chromium"]), timeout: 60_000 }, () => {
  let dir: string;
  let srv: HttpServer;
  const log: string[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sockit-chromium-"));
    mkdirSync(join(dir, "site"));
    writeFileSync(join(dir, "notes.txt"), "plain notes\n");
    writeFileSync(
      join(dir, "site", "index.html"),
      '<!DOCTYPE html><title>sockit page</title><img id="i" src="dot.png"><p id="p">static</p><script src="app.js"></script>\n',
    );
    writeFileSync(join(dir, "site", "dot.png"), PNG);
    writeFileSync(join(dir, "site", "app.js"), 'document.getElementById("p").textContent = "script ran";\n');
    srv = await serveHttp({
      address: "127.0.0.1:0",
      handler: staticHandler({ root: dir }),
      log: (l) => void log.push(l),
    });
  });
  after(async () => {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a listing, a link in it, and a page with an image and a script", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const listing = await page.goto(`http://${srv.address}/`);
      assert.equal(listing?.status(), 200);
      assert.equal(await page.title(), "Index of /");
      const names = await page.$$eval("td a", (as) => as.map((a) => a.textContent));
      assert.deepEqual(names, ["site/", "notes.txt"]);
      await Promise.all([page.waitForURL(`http://${srv.address}/notes.txt`), page.click("text=notes.txt")]);
      assert.equal(await page.textContent("body"), "plain notes\n");

      const site = await page.goto(`http://${srv.address}/site/`);
      assert.equal(site?.status(), 200);
      assert.equal(await page.title(), "sockit page");
      // (expressions as text: they run in the page, whose DOM types this project does not load)
      await page.waitForFunction('document.getElementById("p").textContent === "script ran"', undefined, {
        timeout: 10_000,
      });
      const width = await page.evaluate('document.getElementById("i").naturalWidth');
      assert.equal(width, 1, "the image loaded");
      await page.close();
    } finally {
      await browser.close();
    }
    const requested = log.map((l) => /"GET (\S+) HTTP\/1\.1" (\d+)/.exec(l)?.slice(1).join(" "));
    for (const want of ["/ 200", "/notes.txt 200", "/site/ 200", "/site/dot.png 200", "/site/app.js 200"])
      assert.ok(requested.includes(want), `${want} not in the log: ${log.join("\n")}`);
  });
});
