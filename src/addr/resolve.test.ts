import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { batchProperty, FC_SEED } from "../../test/support/addr-oracle.js";
import { rejectsOSError } from "../../test/support/errors.js";
import { pythonOracle } from "../../test/support/python.js";
import { gaierror, InterruptedError, OSError } from "../errors/index.js";
import {
  AF_INET,
  AF_INET6,
  AI_CANONNAME,
  AI_NUMERICHOST,
  AI_PASSIVE,
  NI_DGRAM,
  NI_NAMEREQD,
  NI_NUMERICHOST,
  NI_NUMERICSERV,
  SOCK_STREAM,
} from "./constants.js";
import {
  getaddrinfo,
  getfqdn,
  gethostbyaddr,
  gethostbyname,
  gethostbyname_ex,
  gethostname,
  getnameinfo,
  resolveHost,
} from "./resolve.js";

const T = { timeout: 15_000 };
/** Names in /etc/hosts here; each is the first name on its line, so glibc's canonname is itself. */
const NAMES = ["localhost", "vm", "runsc"];

async function py(fn: string, inputs: unknown[], helpers = ""): Promise<unknown[]> {
  const r = await pythonOracle(`import socket\n${helpers}`, fn, inputs);
  return r.map((x) => (x.err !== undefined ? { err: x.err } : x.ok));
}

test("getaddrinfo returns Python-shaped entries: one per address and socket type", T, async () => {
  assert.deepEqual(await getaddrinfo("localhost", 80, AF_INET, SOCK_STREAM), [
    [2, 1, 6, "", ["127.0.0.1", 80]],
  ]);
  assert.deepEqual(await getaddrinfo("::1", "http", 0, SOCK_STREAM), [[10, 1, 6, "", ["::1", 80, 0, 0]]]);
  assert.deepEqual(await getaddrinfo(null, 8000, AF_INET, SOCK_STREAM, 0, AI_PASSIVE), [
    [2, 1, 6, "", ["0.0.0.0", 8000]],
  ]);
  assert.deepEqual(await getaddrinfo(null, 8000, AF_INET6, SOCK_STREAM), [
    [10, 1, 6, "", ["::1", 8000, 0, 0]],
  ]);
  assert.deepEqual(
    (await getaddrinfo("127.0.0.1", 0)).map((a) => [a[1], a[2]]),
    [
      [1, 6],
      [2, 17],
      [3, 0],
    ],
  );
  const [first, second] = await getaddrinfo("localhost", 0, AF_INET, 0, 0, AI_CANONNAME);
  assert.equal(first?.[3], "localhost");
  assert.equal(second?.[3], "");
});

test("getaddrinfo of a .invalid name fails fast with gaierror EAI_NONAME", T, async () => {
  const t0 = Date.now();
  const e = await rejectsOSError(
    getaddrinfo("no-such-host.invalid", 80),
    gaierror,
    "EAI_NONAME",
    "getaddrinfo",
  );
  assert.equal(e.errno, -2);
  assert.match(e.message, /name or service not known/i);
  assert.ok(Date.now() - t0 < 5000, "lookup of .invalid must fail locally");
});

test(
  "getaddrinfo raises gaierror for numeric-only flags, bad families and empty hosts, without DNS",
  T,
  async () => {
    await rejectsOSError(
      getaddrinfo("localhost", 80, 0, 0, 0, AI_NUMERICHOST),
      gaierror,
      "EAI_NONAME",
      "getaddrinfo",
    );
    await rejectsOSError(getaddrinfo("localhost", 80, 99), gaierror, "EAI_FAMILY", "getaddrinfo");
    await rejectsOSError(getaddrinfo(null, null), gaierror, "EAI_NONAME", "getaddrinfo");
    await rejectsOSError(getaddrinfo("", 80), gaierror, "EAI_NONAME", "getaddrinfo");
    await rejectsOSError(getaddrinfo("localhost\0.example", 80), gaierror, "EAI_NONAME", "getaddrinfo");
    await rejectsOSError(getaddrinfo("x".repeat(2000), 80), gaierror, "EAI_NONAME", "getaddrinfo");
    await rejectsOSError(getaddrinfo("127.0.0.1", 80, AF_INET6), gaierror, "EAI_ADDRFAMILY", "getaddrinfo");
  },
);

test("getaddrinfo rejects misuse with TypeError/RangeError (Python would wrap port 70000)", async () => {
  await assert.rejects(getaddrinfo(5 as unknown as string, 80), TypeError);
  await assert.rejects(getaddrinfo("localhost", {} as unknown as number), TypeError);
  await assert.rejects(getaddrinfo("localhost", 80, "x" as unknown as number), TypeError);
  await assert.rejects(getaddrinfo("localhost", 70000), RangeError);
  await assert.rejects(getaddrinfo("localhost", "70000"), RangeError);
});

test("property: getaddrinfo matches Python's output and errors on local hosts", T, async () => {
  const hosts = [
    null,
    "*",
    ...NAMES,
    "127.0.0.1",
    "127.1",
    "0x7f.1",
    "::1",
    "::ffff:127.0.0.1",
    "fe80::1%lo",
    "fe80::1%1",
  ];
  const NOT_NUMERIC = ["fe80::1%nosuch", "1.2.3.4 ", "[::1]", "1.2.3.4.5"];
  const odd = [...NOT_NUMERIC, "", "0", "255.255.255.255", "0:0::1"];
  const arb = fc
    .tuple(
      fc.constantFrom(...hosts, ...odd),
      fc.constantFrom(null, 0, 80, "80", "0080", "http", "domain", "amqp", "ntp", "nosuch", "", "*"),
      fc.constantFrom(0, 0, 2, 10, 1, 99),
      fc.constantFrom(0, 0, 0, 1, 2, 3, 5, 6, 99),
      fc.constantFrom(0, 0, 0, 6, 17, 132, 33, 1),
      fc.constantFrom(0, 0, 1, 2, 4, 8, 8 | 16, 32, 1024, 1 | 2, 0x10000),
    )
    // Names with AF_INET6 would ask DNS for AAAA records (/etc/hosts has none), and the odd
    // non-numeric hosts would be looked up in DNS: tests make no DNS queries, so those only
    // run with AI_NUMERICHOST (which fails them locally).
    .filter(([h, , f]) => !(f === 10 && NAMES.includes(String(h))))
    .filter(([h, , , , , fl]) => !NOT_NUMERIC.includes(String(h)) || (fl & 4) !== 0);
  const helpers =
    "def gai(x):\n    try:\n        return [[int(a), int(b), c, d, list(e)] for a, b, c, d, e in socket.getaddrinfo(*x)]\n    except socket.gaierror as e:\n        return e.errno";
  await batchProperty(arb, 250, 2, async (xs) => {
    const want = await py("gai(x)", xs, helpers);
    const bad: string[] = [];
    for (const [i, x] of xs.entries()) {
      let ours: unknown;
      try {
        ours = await getaddrinfo(...x);
      } catch (e) {
        assert.ok(e instanceof gaierror, `${JSON.stringify(x)}: ${String(e)}`);
        ours = e.errno;
      }
      if (JSON.stringify(ours) !== JSON.stringify(want[i])) {
        bad.push(`${JSON.stringify(x)}: ours ${JSON.stringify(ours)}, python ${JSON.stringify(want[i])}`);
      }
    }
    assert.deepEqual(bad.slice(0, 8), []);
  });
});

test(
  "resolveHost passes numeric hosts through and resolves names, wildcards and <broadcast>",
  T,
  async () => {
    assert.deepEqual(await resolveHost("127.0.0.1", 0), { address: "127.0.0.1", family: 4 });
    assert.deepEqual(await resolveHost("::1", AF_INET6), { address: "::1", family: 6 });
    assert.deepEqual(await resolveHost("fe80::1%lo", 0), { address: "fe80::1%lo", family: 6 });
    assert.deepEqual(await resolveHost("localhost", AF_INET), { address: "127.0.0.1", family: 4 });
    assert.deepEqual(await resolveHost("127.1", 0), { address: "127.0.0.1", family: 4 });
    assert.deepEqual(await resolveHost("", AF_INET6), { address: "::", family: 6 });
    assert.deepEqual(await resolveHost("", 0), { address: "0.0.0.0", family: 4 });
    assert.deepEqual(await resolveHost("<broadcast>", AF_INET), { address: "255.255.255.255", family: 4 });
    assert.deepEqual(await resolveHost("vm", 0, { timeout: 5000 }), { address: "127.0.0.1", family: 4 });
  },
);

test("resolveHost raises gaierror on family mismatch and unknown names, EINTR when aborted", T, async () => {
  await rejectsOSError(resolveHost("::1", AF_INET), gaierror, "EAI_ADDRFAMILY", "getaddrinfo");
  await rejectsOSError(resolveHost("127.0.0.1", AF_INET6), gaierror, "EAI_ADDRFAMILY", "getaddrinfo");
  await rejectsOSError(resolveHost("nothing.invalid", 0), gaierror, "EAI_NONAME", "getaddrinfo");
  await rejectsOSError(
    resolveHost("localhost", 0, { signal: AbortSignal.abort() }),
    InterruptedError,
    "EINTR",
    "getaddrinfo",
  );
  await assert.rejects(resolveHost("<broadcast>", AF_INET6), OSError);
  await assert.rejects(resolveHost("localhost", 3 as 2), RangeError);
  await assert.rejects(resolveHost(null as unknown as string, 0), TypeError);
});

test("gethostname, gethostbyname and gethostbyname_ex agree with Python", T, async () => {
  const [pyName] = await py("socket.gethostname()", [0]);
  assert.equal(gethostname(), pyName);
  // only names this machine answers from /etc/hosts: tests make no DNS queries
  const hosts = [...NAMES, "127.0.0.1", "127.1", "", "<broadcast>", "::1"];
  const want = await py("socket.gethostbyname(x)", hosts);
  for (const [i, h] of hosts.entries()) {
    const ours = await gethostbyname(h).catch((e: OSError) => ({ err: e.constructor.name }));
    assert.deepEqual(ours, want[i], h);
  }
  await rejectsOSError(gethostbyname("nothing.invalid"), gaierror, "EAI_NONAME");
  const exHosts = [...NAMES, "127.0.0.1"];
  const wantEx = await py("list(socket.gethostbyname_ex(x))", exHosts);
  for (const [i, h] of exHosts.entries()) assert.deepEqual(await gethostbyname_ex(h), wantEx[i], h);
});

test("gethostbyaddr agrees with Python for names in /etc/hosts", T, async () => {
  const hosts = ["127.0.0.1", ...NAMES];
  const want = await py("list(socket.gethostbyaddr(x))", hosts);
  for (const [i, h] of hosts.entries()) assert.deepEqual(await gethostbyaddr(h), want[i], h);
  await rejectsOSError(gethostbyaddr("nothing.invalid"), gaierror, "EAI_NONAME");
});

test("getnameinfo honours NI_* flags and agrees with Python", T, async () => {
  const cases: Array<[[string, number] | [string, number, number, number], number]> = [
    [["127.0.0.1", 80], 0],
    [["127.0.0.1", 80], NI_NUMERICHOST],
    [["127.0.0.1", 80], NI_NUMERICSERV],
    [["127.0.0.1", 80], NI_NAMEREQD],
    [["127.0.0.1", 53], NI_DGRAM],
    [["127.0.0.1", 123], NI_DGRAM],
    [["127.0.0.1", 9999], 0],
    [["127.1", 22], NI_NUMERICHOST],
    [["::1", 80, 0, 0], NI_NUMERICHOST],
    [["::1", 80], NI_NUMERICHOST | NI_NUMERICSERV],
    [["fe80::1", 80, 0, 1], NI_NUMERICHOST],
    [["fe80::1", 443, 0, 0], NI_NUMERICHOST],
    [["fe80::1%lo", 80], NI_NUMERICHOST],
    [["fe80::1%lo", 80, 0, 1], NI_NUMERICHOST],
    [["ff02::1", 80, 0, 1], NI_NUMERICHOST],
    [["ff01::1", 80, 0, 1], NI_NUMERICHOST],
    [["fd00::1", 80, 0, 7], NI_NUMERICHOST],
    [["localhost", 80], 0],
  ];
  const helpers =
    "def gni(x):\n    try:\n        return list(socket.getnameinfo(tuple(x[0]), x[1]))\n    except socket.gaierror as e:\n        return e.errno";
  const want = await py("gni(x)", cases, helpers);
  for (const [i, [sa, flags]] of cases.entries()) {
    const ours = await getnameinfo(sa, flags).catch((e: OSError) => e.errno);
    assert.deepEqual(ours, want[i], JSON.stringify([sa, flags]));
  }
  await assert.rejects(getnameinfo(["127.0.0.1", 80, 0, 0], 0), OSError);
  await assert.rejects(getnameinfo(["127.0.0.1"] as unknown as [string, number], 0), TypeError);
  await assert.rejects(getnameinfo(["127.0.0.1", 70000], 0), RangeError);
  await assert.rejects(getnameinfo(["::1", 80, 1 << 20, 0], 0), RangeError);
});

test("getfqdn follows Python's rules: this host by default, the name itself when unknown", T, async () => {
  // names and addresses /etc/hosts answers (no DNS queries from tests)
  const names = ["", "localhost", "127.0.0.1", "vm", "  localhost  "];
  const want = await py("socket.getfqdn(x)", names);
  for (const [i, n] of names.entries()) assert.equal(await getfqdn(n), want[i], n);
  assert.equal(await getfqdn(), want[0]);
  assert.equal(await getfqdn("nothing.invalid"), "nothing.invalid", "an unknown name is returned as is");
});

test(
  "property: hostile hosts and ports give results or typed errors (AI_NUMERICHOST: no DNS)",
  T,
  async () => {
    const anyHost = fc.oneof(
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.string({ maxLength: 1100 }),
      fc.constant(null),
    );
    const anyPort = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.integer({ min: -1, max: 70000 }),
      fc.constant(null),
    );
    await fc.assert(
      fc.asyncProperty(anyHost, anyPort, fc.constantFrom(0, 2, 10), async (h, p, f) => {
        for (const call of [
          () => getaddrinfo(h, p, f, 0, 0, AI_NUMERICHOST),
          () => getnameinfo([h ?? "", typeof p === "number" ? p : 0], NI_NUMERICHOST | NI_NUMERICSERV),
        ]) {
          try {
            await call();
          } catch (e) {
            assert.ok(e instanceof OSError || e instanceof TypeError || e instanceof RangeError, String(e));
          }
        }
      }),
      { seed: FC_SEED, numRuns: 1000 },
    );
  },
);
