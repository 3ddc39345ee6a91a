/**
 * The web page's handler over real HTTP on loopback (node:http's server, fetch as the client),
 * with a Maildir store: the JSON list and one message decoded, the raw source, the live events
 * stream, and what it refuses — ids that try to leave new/ and cur/ (`..`, encoded slashes),
 * methods other than GET/HEAD, unknown paths — with the security headers on every answer.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Envelope } from "./session.js";
import { MaildirStore } from "./store.js";
import { mailWeb, serveMailWeb } from "./web.js";

const envelope: Envelope = {
  from: "a@example.org",
  to: ["b@example.org"],
  helo: "client",
  peer: "127.0.0.1:1",
  smtputf8: false,
  receivedAt: new Date(),
};

describe("the mail sink's web handler", () => {
  let dir: string;
  let store: MaildirStore;
  let web: ReturnType<typeof mailWeb>;
  let page: Awaited<ReturnType<typeof serveMailWeb>>;
  let base: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sockit-mail-webh-"));
    store = await MaildirStore.open(join(dir, "box"));
    // a file next to the Maildir that no id may reach
    writeFileSync(join(dir, "secret"), "Subject: secret\n\nnot for the page\n");
    web = mailWeb(store);
    page = await serveMailWeb(web, 0);
    base = `http://${page.address}`;
  });
  after(async () => {
    await page.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the list, one message decoded, its raw source; a new message reaches an open /events stream", async () => {
    const events = await fetch(`${base}/events`);
    assert.equal(events.headers.get("content-type"), "text/event-stream");
    const reader = events.body!.getReader();
    const m = await store.store(Buffer.from("Subject: =?UTF-8?Q?caf=C3=A9?=\r\n\r\nbody text\r\n"), envelope);
    web.notify(m);
    let got = "";
    for (let i = 0; i < 10 && !got.includes("event: message"); i++)
      got += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    assert.match(got, /event: message\ndata: \{"id":"[^"]+","from":"a@example\.org".*"subject":"café"/);
    const list = (await (await fetch(`${base}/api/messages`)).json()) as Array<{
      id: string;
      subject: string;
    }>;
    assert.deepEqual(
      list.map((x) => [x.id, x.subject]),
      [[m.id, "café"]],
    );
    const one = (await (await fetch(`${base}/api/messages/${encodeURIComponent(m.id)}`)).json()) as {
      text: string;
      headers: string[][];
    };
    assert.equal(one.text, "body text\n");
    assert.ok(one.headers.some(([k, v]) => k === "Subject" && v === "café"));
    const raw = await (await fetch(`${base}/api/messages/${encodeURIComponent(m.id)}/raw`)).text();
    assert.match(raw, /^Return-Path: <a@example\.org>\n[\s\S]*\n\nbody text\n$/);
  });

  test("a message another program put in cur/ is listed too, its sender from Return-Path", async () => {
    const name = "1000000000.M1P1Q1.other:2,S";
    writeFileSync(
      join(dir, "box", "cur", name),
      `Return-Path: <old@example.org>\nTo: me@example.org\nSubject: from elsewhere\n\n${"x".repeat(100_000)}\n`,
    );
    const list = (await (await fetch(`${base}/api/messages`)).json()) as Array<{
      id: string;
      from: string;
      subject: string;
    }>;
    assert.deepEqual(list[0], { ...list[0], id: name, from: "old@example.org", subject: "from elsewhere" });
    const one = (await (await fetch(`${base}/api/messages/${encodeURIComponent(name)}`)).json()) as {
      text: string;
    };
    assert.equal(one.text.length, 100_001);
  });

  test("ids that would leave the Maildir, other methods and unknown paths are refused", async () => {
    for (const path of [
      "/api/messages/..%2F..%2Fsecret",
      "/api/messages/..%2Fsecret/raw",
      "/api/messages/%2E%2E",
      "/api/messages/.",
      "/api/messages/nope/raw",
      "/nope",
    ]) {
      const r = await fetch(base + path);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(await r.text(), /not for the page/);
    }
    const post = await fetch(`${base}/api/messages`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    const home = await fetch(`${base}/`);
    assert.match(home.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assert.equal(home.headers.get("x-content-type-options"), "nosniff");
    assert.match(await home.text(), /<script src="app\.js"><\/script>/);
  });
});
