import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_LIMITS } from "../../services/rfc/limits.js";
import { UsageError } from "../exit.js";
import { formatTable, planServe, type ServeOptions, tryIt } from "./serve.js";

describe("planServe", () => {
  const cases: Array<[string, string[], ServeOptions, Array<[string, number]>]> = [
    [
      "all services at 7000 + the well-known port",
      [],
      {},
      [
        ["echo", 7007],
        ["discard", 7009],
        ["daytime", 7013],
        ["qotd", 7017],
        ["chargen", 7019],
        ["time", 7037],
      ],
    ],
    [
      "chosen services, in the order given",
      ["time", "echo"],
      {},
      [
        ["time", 7037],
        ["echo", 7007],
      ],
    ],
    ["a port base", ["echo"], { portBase: "20000" }, [["echo", 20007]]],
    ["port base 0: the well-known ports", ["echo"], { portBase: "0" }, [["echo", 7]]],
    [
      "one service's port",
      ["echo", "time"],
      { port: ["time=9037"] },
      [
        ["echo", 7007],
        ["time", 9037],
      ],
    ],
    [
      "all=0: every service on a free port",
      ["echo", "time"],
      { port: ["all=0"] },
      [
        ["echo", 0],
        ["time", 0],
      ],
    ],
    ["a later --port wins", ["echo"], { port: ["all=0", "echo=9"] }, [["echo", 9]]],
    ["a service named twice is served once", ["echo", "echo"], {}, [["echo", 7007]]],
  ];
  for (const [name, names, opts, want] of cases) {
    test(name, () => {
      const p = planServe(names, opts);
      assert.deepEqual(
        p.services.map((s) => [s.name, s.port]),
        want,
      );
    });
  }

  test("defaults: 127.0.0.1, TCP only, the default limits", () => {
    const p = planServe([], {});
    assert.equal(p.host, "127.0.0.1");
    assert.equal(p.udp, false);
    assert.deepEqual(p.limits, DEFAULT_LIMITS);
  });

  test("limit flags: counts as given, seconds to milliseconds", () => {
    const p = planServe([], {
      maxConns: "10",
      maxPerSource: "2",
      idle: "1.5",
      chargenBytes: "1000",
      chargenSeconds: "2",
      udpRate: "3",
      udpBurst: "4",
      udpTotalRate: "50",
      udpSources: "8",
      udpMaxReply: "100",
      udpQueue: "16",
      backlog: "64",
      grace: "0",
      linger: "2.5",
      udp: true,
    });
    assert.deepEqual(p.limits, {
      maxConnections: 10,
      maxPerSource: 2,
      idleMs: 1500,
      lingerMs: 2500,
      chargenBytes: 1000,
      chargenMs: 2000,
      udpRate: 3,
      udpBurst: 4,
      udpTotalRate: 50,
      udpSources: 8,
      udpMaxReply: 100,
      udpQueue: 16,
      backlog: 64,
      graceMs: 0,
    });
    assert.equal(p.udp, true);
  });

  const bad: Array<[string[], ServeOptions, RegExp]> = [
    [["ftp"], {}, /unknown service ftp; services: echo, discard/],
    [[], { portBase: "65500" }, /--port-base must be an integer 0\.\.65498/],
    [[], { portBase: "-1" }, /--port-base/],
    [[], { port: ["echo"] }, /--port wants NAME=PORT/],
    [[], { port: ["echo=70000"] }, /--port must be an integer 0\.\.65535/],
    [[], { port: ["ftp=21"] }, /unknown service ftp/],
    [["echo"], { port: ["time=37"] }, /time is not one of the services served/],
    [[], { port: ["echo=7013"] }, /echo and daytime would both use port 7013|daytime and echo/],
    [[], { maxConns: "0" }, /--max-conns must be an integer 1\.\./],
    [[], { idle: "soon" }, /--idle must be a number/],
    [[], { udpRate: "1.5" }, /--udp-rate must be an integer/],
    [[], { host: "" }, /--host is empty/],
    [["echo"], { quotes: "q.txt" }, /--quotes is for the qotd service/],
    [[], { statsEvery: "0" }, /--stats-every/],
  ];
  for (const [names, opts, re] of bad) {
    test(`refuses ${JSON.stringify([names, opts])}`, () => {
      assert.throws(
        () => planServe(names, opts),
        (e: unknown) => e instanceof UsageError && re.test(e.message),
      );
    });
  }
});

describe("the table", () => {
  const b = (service: "echo" | "time" | "chargen" | "discard", proto: "tcp" | "udp", port: number) => ({
    service,
    proto,
    host: "127.0.0.1",
    port,
    address: `127.0.0.1:${port}`,
  });

  test("each row says how to try the service: sockit, nc, rdate", () => {
    assert.deepEqual(tryIt(b("echo", "tcp", 7007)), [
      "sockit echo 127.0.0.1:7007",
      "nc 127.0.0.1 7007  (type a line)",
    ]);
    assert.deepEqual(tryIt(b("echo", "udp", 7007)), [
      "sockit echo -u 127.0.0.1:7007",
      "echo hi | nc -u -w1 127.0.0.1 7007",
    ]);
    assert.deepEqual(tryIt(b("time", "tcp", 7037)), [
      "rdate -p -o 7037 127.0.0.1",
      "sockit time 127.0.0.1:7037",
    ]);
    assert.deepEqual(tryIt(b("time", "udp", 7037)), [
      "rdate -pu -o 7037 127.0.0.1",
      "sockit time -u 127.0.0.1:7037",
    ]);
    assert.deepEqual(tryIt(b("chargen", "tcp", 7019)), [
      "sockit chargen 127.0.0.1:7019",
      "nc 127.0.0.1 7019 | head -3",
    ]);
    assert.deepEqual(tryIt(b("discard", "tcp", 7009)), ["nc 127.0.0.1 7009"]);
  });

  test("columns line up under a header", () => {
    const t = formatTable([b("echo", "tcp", 7007), b("time", "udp", 7037)]);
    assert.equal(
      t,
      "SERVICE  PROTO  LISTENING ON    TRY IT FROM ANOTHER TERMINAL\n" +
        "echo     tcp    127.0.0.1:7007  sockit echo 127.0.0.1:7007   or: nc 127.0.0.1 7007  (type a line)\n" +
        "time     udp    127.0.0.1:7037  rdate -pu -o 7037 127.0.0.1   or: sockit time -u 127.0.0.1:7037\n",
    );
  });
});
