/**
 * `serve smtp` and `mail send`, the pure steps: arguments to plans (defaults, serve's flags, the
 * usage errors) and the message `mail send` composes (a whole message kept as it is, text wrapped
 * in headers, non-ASCII subjects encoded, 8-bit bodies declared).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UsageError } from "../exit.js";
import { composeMessage, planMailSend, planServeSmtp } from "./mail.js";

describe("planServeSmtp", () => {
  test("defaults, ADDRESS, serve's --host/--port and limits; conflicts refused", () => {
    const d = planServeSmtp(undefined, {}, {});
    assert.deepEqual(
      [d.address, d.maildir, d.http, d.maxMessage],
      ["127.0.0.1:2525", undefined, undefined, 10485760],
    );
    assert.equal(planServeSmtp("[::1]:0", {}, {}).address, "[::1]:0");
    assert.equal(planServeSmtp(undefined, {}, { host: "::1", port: "0" }).address, "[::1]:0");
    const p = planServeSmtp(
      undefined,
      { http: "0", maxMessage: "5000", maildir: "m" },
      { maxConns: "3", idle: "1.5" },
    );
    assert.deepEqual([p.http, p.maxMessage, p.maxConnections, p.idleMs, p.maildir], [0, 5000, 3, 1500, "m"]);
    assert.throws(() => planServeSmtp("127.0.0.1:0", {}, { port: "1" }), /either ADDRESS or --host\/--port/);
    assert.throws(() => planServeSmtp(undefined, { http: "x" }, {}), UsageError);
    assert.throws(
      () => planServeSmtp(undefined, { maxMessage: "0" }, {}),
      /--max-message must be an integer/,
    );
  });
});

describe("planMailSend and composeMessage", () => {
  const plan = (args: string[], o: Parameters<typeof planMailSend>[1] = {}) =>
    planMailSend(args, { from: "a@example.org", to: ["b@example.org"], ...o });

  test("HOST[:PORT] with port 25 by default; FILE optional; --from/--to required", () => {
    assert.equal(plan(["mail.example.org"]).address, "mail.example.org:25");
    assert.deepEqual(
      [plan(["-", "[::1]:2525"]).address, plan(["-", "[::1]:2525"]).file],
      ["[::1]:2525", "-"],
    );
    assert.throws(() => planMailSend(["h"], { to: ["b@x.org"] }), /--from ADDRESS is required/);
    assert.throws(() => planMailSend(["h"], { from: "a@x.org" }), /--to ADDRESS is required/);
    assert.throws(() => plan(["h"], { to: ["b@x.org>"] }), /no blanks or angle brackets/);
    assert.throws(() => plan(["h"], { timeout: "soon" }), /--timeout must be a number/);
  });

  test("a whole message is kept as it is (a Subject added only if missing); text gets headers", () => {
    const whole = Buffer.from("From: x@y.org\r\nSubject: mine\r\n\r\nbody\r\n");
    assert.equal(composeMessage(plan(["f", "h"], { subject: "other" }), whole), whole);
    const noSubject = Buffer.from("From: x@y.org\n\nbody\n");
    assert.equal(
      composeMessage(plan(["f", "h"], { subject: "added" }), noSubject).toString(),
      "Subject: added\r\nFrom: x@y.org\n\nbody\n",
    );
    const now = new Date("2026-01-02T03:04:05Z");
    const m = composeMessage(plan(["f", "h"], { subject: "Grüße" }), Buffer.from("ça va\n"), now).toString();
    assert.match(
      m,
      /^From: a@example\.org\r\nTo: b@example\.org\r\nSubject: =\?UTF-8\?B\?R3LDvMOfZQ==\?=\r\n/,
    );
    assert.match(m, /\r\nDate: Fri, 02 Jan 2026 03:04:05 \+0000\r\n/);
    assert.match(m, /\r\nMessage-ID: <\d+\.[0-9a-f]{12}@example\.org>\r\n/);
    assert.match(m, /\r\nContent-Transfer-Encoding: 8bit\r\n[\s\S]*\r\n\r\nça va\n$/);
    assert.match(
      composeMessage(plan(["h"]), undefined, now).toString(),
      /Subject: test\r\n[\s\S]*7bit[\s\S]*test message/,
    );
  });
});
