import assert from "node:assert/strict";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { FC_SEED, outcome } from "../../test/support/addr-oracle.js";
import { assertOSError } from "../../test/support/errors.js";
import { pythonOracle } from "../../test/support/python.js";
import { OSError } from "../errors/index.js";
import {
  BUILTIN_SERVICES,
  getservbyname,
  getservbyport,
  MAX_SERVICES_FILE_SIZE,
  parseServices,
  systemServices,
} from "./services.js";

const T = { timeout: 10_000 };

test("getservbyname finds names and aliases, per protocol or the first listed", () => {
  assert.equal(getservbyname("http"), 80);
  assert.equal(getservbyname("http", "tcp"), 80);
  assert.equal(getservbyname("www", "tcp"), 80);
  assert.equal(getservbyname("domain", "udp"), 53);
  assert.equal(getservbyname("echo"), 7);
  assert.equal(getservbyname("ircd"), 6667);
});

test("getservbyname raises OSError 'service/proto not found' for unknown names, case-sensitively", () => {
  for (const [n, p] of [
    ["nosuch", undefined],
    ["HTTP", undefined],
    ["http", "TCP"],
    ["ntp", "tcp"],
    ["", "tcp"],
  ] as const) {
    assert.throws(
      () => getservbyname(n, p),
      (e) => {
        assertOSError(e, OSError, "ENOENT", "getservbyname");
        assert.match(e.message, /service\/proto not found/);
        return true;
      },
    );
  }
  assert.throws(() => getservbyname(80 as unknown as string), TypeError);
  assert.throws(() => getservbyname("http", 6 as unknown as string), TypeError);
});

test("getservbyport gives the official name; unknown ports raise OSError, bad ports RangeError/TypeError", () => {
  assert.equal(getservbyport(80), "http");
  assert.equal(getservbyport(53, "udp"), "domain");
  assert.equal(getservbyport(443), "https");
  assert.throws(
    () => getservbyport(9999),
    (e) => {
      assertOSError(e, OSError, "ENOENT", "getservbyport");
      assert.match(e.message, /port\/proto not found/);
      return true;
    },
  );
  assert.throws(() => getservbyport(80, "udp"), OSError);
  assert.throws(() => getservbyport(70000), RangeError);
  assert.throws(() => getservbyport(-1), RangeError);
  assert.throws(() => getservbyport("80" as unknown as number), TypeError);
  assert.throws(() => getservbyport(80.5), TypeError);
});

test("parseServices reads names, ports, protocols and aliases, and skips malformed lines", () => {
  const t = parseServices(
    [
      "# comment",
      "http\t80/tcp\twww www-http # web",
      "bad 70000/tcp",
      "noproto 80",
      "also-bad x/tcp",
      "",
      "   ",
      `long ${"1".repeat(5000)}/tcp`,
      "dns 53/udp#nospace",
      "\0\0 1/tcp",
    ].join("\n"),
  );
  assert.deepEqual(t, [
    { name: "http", aliases: ["www", "www-http"], port: 80, proto: "tcp" },
    { name: "dns", aliases: [], port: 53, proto: "udp" },
  ]);
});

test("the services file is ignored when missing or larger than the size guard", () => {
  const dir = mkdtempSync(join(tmpdir(), "sockit-services-"));
  try {
    assert.deepEqual(systemServices(join(dir, "missing")), []);
    const small = join(dir, "small");
    writeFileSync(small, "foo 1234/tcp bar\n");
    assert.deepEqual(systemServices(small), [{ name: "foo", aliases: ["bar"], port: 1234, proto: "tcp" }]);
    const big = join(dir, "big");
    writeFileSync(big, "foo 1234/tcp\n");
    truncateSync(big, MAX_SERVICES_FILE_SIZE + 1);
    assert.deepEqual(systemServices(big), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the built-in table covers the common services when the file lacks them", () => {
  for (const [name, port] of [
    ["echo", 7],
    ["ssh", 22],
    ["http", 80],
    ["irc", 194],
    ["ircd", 6667],
    ["https", 443],
  ] as const) {
    assert.ok(
      BUILTIN_SERVICES.some((e) => e.name === name && e.port === port),
      name,
    );
    assert.equal(getservbyname(name, "tcp"), port);
  }
  assert.equal(getservbyport(194, "tcp"), "irc");
});

test("getservbyname and getservbyport agree with Python for every /etc/services entry", T, async () => {
  const table = systemServices();
  const names = new Set<string>(["nosuch", "HTTP", "irc", "", "  "]);
  for (const e of table) for (const n of [e.name, ...e.aliases]) names.add(n);
  const protos = [null, "tcp", "udp", "sctp", "ddp"];
  const byName = [...names].flatMap((n) => protos.map((p) => [n, p] as const));
  const py = await pythonOracle(
    "import socket",
    "socket.getservbyname(x[0], x[1]) if x[1] is not None else socket.getservbyname(x[0])",
    byName,
  );
  const inFile = (n: string, p: string | null) =>
    table.some((e) => (p === null || e.proto === p) && (e.name === n || e.aliases.includes(n)));
  const bad = byName.filter(([n, p], i) => {
    const ours = outcome(() => getservbyname(n, p ?? undefined));
    const theirs = py[i]!;
    if ("ok" in ours) return theirs.ok !== ours.ok && !(theirs.err && !inFile(n, p));
    return theirs.err !== "OSError" || ours.err !== "OSError";
  });
  assert.deepEqual(bad, []);
  const byPort = Array.from({ length: 1200 }, (_, port) =>
    protos.slice(0, 3).map((p) => [port, p] as const),
  ).flat();
  const pyPorts = await pythonOracle(
    "import socket",
    "socket.getservbyport(x[0], x[1]) if x[1] is not None else socket.getservbyport(x[0])",
    byPort,
  );
  const portInFile = (n: number, p: string | null) =>
    table.some((e) => e.port === n && (p === null || e.proto === p));
  const badPorts = byPort.filter(([n, p], i) => {
    const ours = outcome(() => getservbyport(n, p ?? undefined));
    const theirs = pyPorts[i]!;
    if ("ok" in ours) return theirs.ok !== ours.ok && !(theirs.err && !portInFile(n, p));
    return theirs.err !== "OSError" || ours.err !== "OSError";
  });
  assert.deepEqual(badPorts, []);
});

test("property: hostile service names give a port or OSError, never another error", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.option(fc.string({ maxLength: 5 })),
      (n, p) => {
        const r = outcome(() => getservbyname(n, p ?? undefined), [n, p]);
        assert.ok("ok" in r || r.err === "OSError");
      },
    ),
    { seed: FC_SEED, numRuns: 500 },
  );
});
