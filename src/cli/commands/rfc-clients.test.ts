import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UsageError } from "../exit.js";
import { type ClientOptions, planClient, targetAddress } from "./rfc-clients.js";

describe("targetAddress", () => {
  const cases: Array<[string, number, string]> = [
    ["127.0.0.1:7007", 7, "127.0.0.1:7007"],
    ["127.0.0.1", 7, "127.0.0.1:7"],
    ["localhost", 37, "localhost:37"],
    ["[::1]:7007", 7, "[::1]:7007"],
    ["[::1]", 13, "[::1]:13"],
    ["::1", 13, "[::1]:13"],
    ["fe80::1%lo", 19, "[fe80::1%lo]:19"],
    ["host.example:echo", 7, "host.example:echo"],
  ];
  for (const [target, port, want] of cases) {
    test(`${target} (default ${port}) → ${want}`, () => assert.equal(targetAddress(target, port), want));
  }

  const bad: Array<[string, RegExp]> = [
    ["", /no host/],
    [":7007", /no host/],
    ["[]:7", /no host|bad port/],
    ["127.0.0.1:0", /port must be 1\.\.65535/],
    ["127.0.0.1:70000", /port must be 1\.\.65535/],
    ["127.0.0.1:", /bad port/],
    ["127.0.0.1:7 7", /bad port/],
  ];
  for (const [target, re] of bad) {
    test(`refuses ${JSON.stringify(target)}`, () => {
      assert.throws(
        () => targetAddress(target, 7),
        (e: unknown) => e instanceof UsageError && re.test(e.message),
      );
    });
  }
});

describe("planClient", () => {
  test("echo sends the words with a newline, or a greeting; other defaults", () => {
    const p = planClient("echo", "127.0.0.1:7007", ["hi", "there"], {});
    assert.equal(p.message.toString(), "hi there\n");
    assert.equal(p.address, "127.0.0.1:7007");
    assert.equal(p.udp, false);
    assert.equal(p.timeoutMs, 5000);
    assert.equal(p.count, 1);
    assert.equal(planClient("echo", "127.0.0.1", [], {}).message.toString(), "hello from sockit\n");
  });

  test("each service's default port is its well-known port", () => {
    assert.equal(planClient("echo", "h", [], {}).address, "h:7");
    assert.equal(planClient("daytime", "h", [], {}).address, "h:13");
    assert.equal(planClient("qotd", "h", [], {}).address, "h:17");
    assert.equal(planClient("chargen", "h", [], {}).address, "h:19");
    assert.equal(planClient("time", "h", [], {}).address, "h:37");
  });

  test("options: -u, -w seconds, -c, -n", () => {
    const p = planClient("chargen", "h", [], { udp: true, wait: "0.5", lines: "0" });
    assert.equal(p.udp, true);
    assert.equal(p.timeoutMs, 500);
    assert.equal(p.lines, 0);
    assert.equal(planClient("echo", "h", [], { count: "5" }).count, 5);
  });

  const bad: Array<[Parameters<typeof planClient>[0], string[], ClientOptions, RegExp]> = [
    ["echo", [], { wait: "0" }, /-w must be seconds/],
    ["echo", [], { wait: "x" }, /-w must be seconds/],
    ["echo", [], { count: "0" }, /-c must be an integer 1\.\./],
    ["chargen", [], { lines: "-1" }, /-n must be an integer/],
    ["time", ["extra"], {}, /time takes no message/],
  ];
  for (const [svc, words, opts, re] of bad) {
    test(`refuses ${svc} ${JSON.stringify([words, opts])}`, () => {
      assert.throws(
        () => planClient(svc, "127.0.0.1", words, opts),
        (e: unknown) => e instanceof UsageError && re.test(e.message),
      );
    });
  }
});
