/**
 * The mail sink's web page (`sockit serve smtp --http PORT`) in headless Chromium (Debian's,
 * driven by playwright-core): a message sent with Python's smtplib appears in the open page
 * without a reload (server-sent events); opening it shows its decoded headers, its text part
 * (MIME decoded by mailparser) and its raw source; a hostile subject is shown as text, not
 * markup. With SOCKIT_SCREENSHOT=FILE the page is saved there (docs/img/mail-sink.png).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { needs } from "./support/peers.js";
import { launchChromium } from "./support/chromium.js";
import { runPython } from "./support/python.js";
import { SOCKIT } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";

describe("the mail sink's web page in Chromium", { skip: needs(["chromium"]) }, () => {
  let dir: string;
  let sink: Child;
  let smtp: string;
  let url: string;
  let browser: Browser;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sockit-mail-web-"));
    sink = start(process.execPath, [
      SOCKIT,
      "serve",
      "smtp",
      "127.0.0.1:0",
      "--json",
      "--http",
      "0",
      "--maildir",
      dir,
    ]);
    const [line] = await sink.line(/^\{"listening".*\}$/m, 10_000);
    const j = JSON.parse(line) as { listening: string; http: string };
    smtp = j.listening;
    url = j.http;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    sink.kill("SIGTERM");
    assert.equal(await sink.exit(10_000), 0, sink.stderr());
    rmSync(dir, { recursive: true, force: true });
  });

  test("a message sent with smtplib appears live; its headers, text part and raw source are shown", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    try {
      await page.goto(url);
      await page.locator("#status", { hasText: "live" }).waitFor({ timeout: 10_000 });
      assert.equal(await page.locator("tr.msg").count(), 0);
      const [host, port] = [smtp.slice(0, smtp.lastIndexOf(":")), smtp.slice(smtp.lastIndexOf(":") + 1)];
      const r = await runPython(
        `import smtplib, sys
from email.message import EmailMessage
def mail(subject, text):
    m = EmailMessage(); m["From"] = "Alice <alice@example.org>"; m["To"] = "bob@example.org"; m["Subject"] = subject
    m.set_content(text); m.add_alternative("<p>" + text + "</p>", subtype="html")
    m.add_attachment(b"col1,col2\\n1,2\\n", maintype="text", subtype="csv", filename="data.csv")
    return m
with smtplib.SMTP(sys.argv[1], int(sys.argv[2])) as s:
    s.send_message(mail("<img src=x onerror=alert(1)>", "not markup"))
    s.send_message(mail("Quarterly report — Grüße", "Hello Bob,\\n\\nthe numbers are attached.\\n.\\nAlice"))`,
        [host, port],
      );
      assert.equal(r.code, 0, r.stderr);
      const row = page.locator("tr.msg", { hasText: "Quarterly report — Grüße" });
      await row.waitFor({ timeout: 10_000 });
      assert.equal(await page.locator("tr.msg").count(), 2);
      // the hostile subject is text in the list, not an element
      await page.locator("tr.msg", { hasText: "<img src=x onerror=alert(1)>" }).waitFor({ timeout: 5000 });
      assert.equal(await page.locator("#list img").count(), 0);
      await row.click();
      await page.locator("#text").waitFor({ timeout: 10_000 });
      assert.equal(
        await page.locator("#text").textContent(),
        "Hello Bob,\n\nthe numbers are attached.\n.\nAlice\n",
      );
      const headers = await page.locator("#headers").innerText();
      assert.match(headers, /Subject\s+Quarterly report — Grüße/);
      assert.match(headers, /From\s+Alice <alice@example\.org>/);
      assert.match(await page.locator("#view").innerText(), /data\.csv \(text\/csv, 14 bytes\)/);
      const raw = (await page.locator("#raw").textContent())!;
      assert.match(raw, /^Return-Path: <alice@example\.org>\n/);
      assert.match(raw, /Content-Type: multipart\/mixed; boundary=/);
      assert.match(raw, /^Subject: Quarterly report =\?utf-8\?b\?/m);
      const shot = process.env.SOCKIT_SCREENSHOT;
      const png = await page.screenshot(shot ? { path: shot } : {});
      assert.ok(png.length > 1000);
    } finally {
      await page.close();
    }
  });
});
