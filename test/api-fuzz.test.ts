/**
 * Hostile arguments for every public function of `sockit/bsd` and `sockit/net` (and the methods
 * of what they return): wrong types, NaN, huge and negative numbers, NUL bytes, objects whose
 * `toString` throws, proxies that throw on any access, symbols. Only sockit's errors may come out
 * — an OSError with a real errno, a TypeError or RangeError of sockit's own (no Node `ERR_*`
 * code) — never a Node error, a crash or a hang; every socket a run opens is closed.
 *
 * Addresses are built only from hosts that never leave this machine and never need DNS
 * (loopback literals, "", names under .invalid, strings with NUL), ports only from this test's
 * own sockets or values no socket can use, and multicast groups that are not groups, so the
 * fuzz sends nothing off loopback and talks to no one else's server.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import * as bsd from "../src/bsd/index.js";
import { CodecError, OSError, UnexpectedEOFError } from "../src/errors/index.js";
import * as gonet from "../src/net/index.js";

const SEED = Number(process.env.FC_SEED ?? 20260501);
type Fn = (...args: unknown[]) => unknown;

// ---- hostile values ----------------------------------------------------------------------------

const boom = (): never => {
  throw new Error("hostile toString");
};
const EVIL = { toString: boom, valueOf: boom, [Symbol.toPrimitive]: boom };
/** An object that cannot be printed: every way to turn it into text throws. */
const PROXY = new Proxy(
  {},
  {
    get: (_t, key) =>
      key === "toString" || key === "valueOf" || key === Symbol.toPrimitive || key === Symbol.toStringTag
        ? boom()
        : undefined,
  },
);
/**
 * A stand-in for a value fast-check must not touch (it inspects and prints what it generates):
 * {@link real} swaps it for the hostile value right before the call.
 */
class Hostile {
  constructor(readonly name: "evil" | "proxy") {}
  toString(): string {
    return `<${this.name}>`;
  }
}
const H_EVIL = new Hostile("evil");
const H_PROXY = new Hostile("proxy");

/** The arguments with every {@link Hostile} stand-in replaced by the real thing. */
function real(v: unknown): unknown {
  if (v instanceof Hostile) return v.name === "evil" ? EVIL : PROXY;
  if (Array.isArray(v)) return v.map(real);
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, real(x)]));
  }
  return v;
}

const SCALARS: unknown[] = [
  undefined,
  null,
  true,
  false,
  Number.NaN,
  Infinity,
  -Infinity,
  0,
  -0,
  -1,
  1.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  -(2 ** 53),
  Number.MAX_VALUE,
  1e-300,
  0n,
  2n ** 64n,
  Symbol("s"),
  "",
  "\0",
  "a\0b",
  "x.invalid",
  "é.invalid",
  {},
  [],
  [null],
  [[]],
  [H_EVIL],
  H_EVIL,
  H_PROXY,
  () => 1,
  new Date(Number.NaN),
  Object.create(null),
  Buffer.alloc(0),
  Buffer.alloc(8),
  Buffer.alloc(8, 0xff),
  new Uint8Array(3),
  new ArrayBuffer(4),
  { group: "10.0.0.1" },
  { group: "::1", interface: H_EVIL },
  { group: H_EVIL },
  { signal: "not a signal" },
  { signal: H_PROXY },
  { timeout: Number.NaN },
  { max: -1 },
];
/** Any hostile value, including random numbers and strings (never used as a host or port). */
const anyValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SCALARS) },
  { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

// ports: this test's own sockets, 0, or values no socket can use
const ports = { tcp4: 0, tcp6: 0, udp4: 0, udp6: 0 };
const portArb = fc.oneof(
  fc.constantFrom(
    0,
    -1,
    65536,
    1.5,
    Number.NaN,
    Infinity,
    2 ** 53,
    "nosuchservice-x",
    "99999",
    "-1",
    "",
    "0",
  ),
  fc.constantFrom(null, undefined, Symbol("p"), {}, H_EVIL, H_PROXY, 1n),
  fc.constantFrom("tcp4", "tcp6", "udp4", "udp6").map((k) => ports[k as keyof typeof ports]),
);
// hosts: loopback literals, "", and what fails before any lookup
const hostArb = fc.constantFrom<unknown>(
  "",
  "127.0.0.1",
  "::1",
  "::ffff:127.0.0.1",
  "0.0.0.0",
  "\0",
  "a\0b",
  "x.invalid",
  "é.invalid",
  "fe80::1%nosuch0",
  `${"y".repeat(300)}.invalid`,
  0x7f000001,
  null,
  undefined,
  Number.NaN,
  1.5,
  -1,
  2 ** 32,
  Symbol("h"),
  {},
  H_EVIL,
  H_PROXY,
  [],
);
/** Hosts for reverse lookups: only 127.0.0.1 has a name in /etc/hosts (::1 would ask DNS). */
const reverseHostArb = fc.constantFrom<unknown>(
  "127.0.0.1",
  "\0",
  "a\0b",
  "x.invalid",
  0x7f000001,
  null,
  Number.NaN,
  {},
  H_EVIL,
  H_PROXY,
  [],
  Symbol("r"),
);
let unixDir = "";
const unixPathArb = fc.oneof(
  fc.constantFrom("", "\0", "/nonexistent-sockit-fuzz/s", "z".repeat(200)),
  fc.nat(1000).map((n) => `\0sockit-fuzz-${process.pid}-${n}`),
  fc.nat(1000).map((n) => join(unixDir, `s${n}`)),
);
/** Berkeley addresses: tuples of safe hosts and ports, Unix paths, or hostile non-strings. */
const addrArb = fc.oneof(
  fc.tuple(hostArb, portArb),
  fc.tuple(hostArb, portArb, anyValue, anyValue),
  fc.tuple(hostArb, portArb, anyValue),
  fc.tuple(hostArb),
  unixPathArb,
  fc.constantFrom<unknown>(
    undefined,
    null,
    0,
    2,
    Number.NaN,
    {},
    [],
    H_EVIL,
    H_PROXY,
    Symbol("a"),
    bsd.AF_UNSPEC,
  ),
);
/** Go-style "host:port" strings from safe hosts, and hostile non-strings. */
const netAddrArb = fc.oneof(
  fc.constantFrom("127.0.0.1:0", ":0", "127.0.0.1", "127.0.0.1:", "127.0.0.1:-1", "127.0.0.1:99999"),
  fc.constantFrom(
    "127.0.0.1:nosuchservice-x",
    "[::1",
    "x.invalid:80",
    "\0:80",
    "[fe80::1%nosuch0]:80",
    "",
    "\0",
  ),
  fc
    .constantFrom("tcp4", "tcp6", "udp4", "udp6")
    .map((k) =>
      k.endsWith("6")
        ? `[::1]:${ports[k as keyof typeof ports]}`
        : `127.0.0.1:${ports[k as keyof typeof ports]}`,
    ),
  unixPathArb,
  fc.constantFrom<unknown>(undefined, null, 80, {}, H_EVIL, H_PROXY, Symbol("n"), ["127.0.0.1", 80]),
);
const networkArb = fc.constantFrom<unknown>(
  "tcp",
  "tcp4",
  "tcp6",
  "unix",
  "udp",
  "udp4",
  "udp6",
  "",
  "TCP",
  "ip",
  undefined,
  null,
  4,
  H_EVIL,
  H_PROXY,
);
const optsArb = fc.oneof(
  anyValue,
  fc.record(
    {
      timeout: anyValue,
      signal: fc.oneof(
        anyValue,
        fc.constant("abort").map(() => AbortSignal.abort()),
      ),
      localAddress: hostArb,
      localPort: portArb,
      keepAlive: anyValue,
      noDelay: anyValue,
      backlog: anyValue,
      ipv6Only: anyValue,
      reuseAddr: anyValue,
      broadcast: anyValue,
      queueCount: anyValue,
      queueBytes: anyValue,
      max: anyValue,
    },
    { requiredKeys: [] },
  ),
);

// ---- what may come out --------------------------------------------------------------------------

const ENGINE =
  /is not a function|Cannot read prop|Cannot convert|is not iterable|Cannot mix BigInt|is not a constructor/;

/** Fails unless `err` is one of sockit's own errors (see the module comment). */
function checkError(err: unknown, what: string): void {
  if (err instanceof OSError) {
    assert.ok(Number.isInteger(err.errno) && err.errno !== 0, `${what}: errno ${err.errno} (${err.message})`);
    if (err.constructor.name !== "gaierror" && err.constructor.name !== "herror")
      assert.ok(err.errno > 0, `${what}: ${err.message}`);
    assert.ok(!/^ERR_/.test(err.code) && !/eRR_/.test(err.message), `${what}: Node code in ${err.message}`);
    return;
  }
  if (err instanceof TypeError || err instanceof RangeError) {
    assert.ok(
      !("code" in err),
      `${what}: a Node error escaped: ${(err as { code?: string }).code} ${err.message}`,
    );
    assert.ok(!ENGINE.test(err.message), `${what}: an engine error escaped: ${err.message}`);
    return;
  }
  if (err instanceof UnexpectedEOFError || err instanceof CodecError) return;
  if (err instanceof AggregateError) {
    for (const e of err.errors) checkError(e, what);
    return;
  }
  assert.fail(`${what}: ${(err as Error)?.constructor?.name} escaped: ${String((err as Error)?.message)}`);
}

/** Closes whatever a call returned that holds a socket. */
async function dispose(v: unknown): Promise<void> {
  if (Array.isArray(v)) {
    for (const x of v) if (x instanceof bsd.Socket) await x.close();
    return;
  }
  if (
    v instanceof bsd.Socket ||
    v instanceof gonet.Conn ||
    v instanceof gonet.Listener ||
    v instanceof gonet.PacketConn
  )
    await v.close();
}

const PENDING = Symbol("pending");

/**
 * Calls `f` and checks what comes out. A call on a resource may legitimately wait (a read with
 * nothing to read): after `graceMs` the resource is closed, and the call must then settle. A call
 * without one must settle within 5 s (a hang is a failure).
 */
async function probe(
  what: string,
  f: (...args: unknown[]) => unknown,
  args: unknown[],
  resource?: { close(): unknown },
): Promise<void> {
  let r: unknown;
  try {
    r = f(...(real(args) as unknown[]));
  } catch (err) {
    checkError(err, what);
    return;
  }
  if (!(r instanceof Promise)) return dispose(r);
  const settled = r.then(
    (v) => ({ v }),
    (e: unknown) => ({ e }),
  );
  const race = (ms: number) =>
    Promise.race([settled, new Promise<typeof PENDING>((res) => setTimeout(() => res(PENDING), ms).unref())]);
  let out = await race(resource === undefined ? 5000 : 50);
  if (out === PENDING && resource !== undefined) {
    await resource.close();
    out = await race(5000);
  }
  assert.notEqual(out, PENDING, `${what}: did not settle (hang)`);
  const o = out as { v?: unknown; e?: unknown };
  if ("e" in o) checkError(o.e, what);
  else await dispose(o.v);
}

function show(args: unknown[]): string {
  return args
    .map((a) => {
      try {
        return typeof a === "symbol"
          ? a.toString()
          : typeof a === "bigint"
            ? `${a}n`
            : (JSON.stringify(a) ?? String(a));
      } catch {
        return "<hostile>";
      }
    })
    .join(", ");
}

// ---- this test's own peers ----------------------------------------------------------------------

const peers: Array<{ close(): Promise<unknown> }> = [];
const problems: unknown[] = [];
const onProblem = (e: unknown) => problems.push(e);

// one suite around everything: its after() closes the peers before the file's leak check runs
describe("hostile arguments", () => {
  before(async () => {
    unixDir = mkdtempSync(join(tmpdir(), "sockit-fuzz-"));
    process.on("uncaughtException", onProblem);
    process.on("unhandledRejection", onProblem);
    for (const [k, at] of [
      ["tcp4", "127.0.0.1:0"],
      ["tcp6", "[::1]:0"],
    ] as const) {
      const ln = await gonet.listen(k, at);
      ports[k] = ln.port;
      peers.push(ln);
      void (async () => {
        for await (const c of ln) void c.close(); // accept and hang up
      })();
    }
    for (const [k, at] of [
      ["udp4", "127.0.0.1:0"],
      ["udp6", "[::1]:0"],
    ] as const) {
      const pc = await gonet.listenPacket(k, at);
      ports[k] = pc.port;
      peers.push(pc);
      void (async () => {
        for await (const _ of pc); // read and drop
      })();
    }
  });

  after(async () => {
    for (const p of peers) await p.close();
    process.off("uncaughtException", onProblem);
    process.off("unhandledRejection", onProblem);
    rmSync(unixDir, { recursive: true, force: true });
    assert.deepEqual(problems.map(String), [], "uncaught errors or unhandled rejections during the fuzz");
  });

  // ---- the Berkeley face -------------------------------------------------------------------------

  describe("sockit/bsd under hostile arguments", () => {
    const MODULE_FUNCTIONS: Record<string, fc.Arbitrary<unknown[]>> = {
      socket: fc.tuple(anyValue, anyValue, anyValue),
      create_connection: fc.tuple(addrArb, anyValue, fc.oneof(addrArb, anyValue), anyValue),
      create_server: fc.tuple(addrArb, optsArb),
      socketpair: fc.tuple(anyValue, anyValue),
      has_dualstack_ipv6: fc.tuple(),
      setdefaulttimeout: fc.tuple(anyValue),
      getdefaulttimeout: fc.tuple(),
      gethostname: fc.tuple(),
      gethostbyname: fc.tuple(hostArb),
      gethostbyname_ex: fc.tuple(hostArb),
      gethostbyaddr: fc.tuple(reverseHostArb),
      getaddrinfo: fc.tuple(hostArb, fc.oneof(portArb, anyValue), anyValue, anyValue, anyValue, anyValue),
      getnameinfo: fc.tuple(
        fc.oneof(
          fc.tuple(reverseHostArb, portArb),
          fc.tuple(reverseHostArb, portArb, anyValue, anyValue),
          anyValue,
        ),
        anyValue,
      ),
      getfqdn: fc.tuple(reverseHostArb),
      getservbyname: fc.tuple(anyValue, anyValue),
      getservbyport: fc.tuple(anyValue, anyValue),
      inet_aton: fc.tuple(anyValue),
      inet_ntoa: fc.tuple(anyValue),
      inet_pton: fc.tuple(anyValue, anyValue),
      inet_ntop: fc.tuple(anyValue, anyValue),
      htons: fc.tuple(anyValue),
      htonl: fc.tuple(anyValue),
      ntohs: fc.tuple(anyValue),
      ntohl: fc.tuple(anyValue),
      poll: fc.tuple(),
    };

    test("module functions", async () => {
      const names = Object.keys(MODULE_FUNCTIONS);
      for (const name of names) assert.equal(typeof (bsd as Record<string, unknown>)[name], "function", name);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...names).chain((name) => fc.tuple(fc.constant(name), MODULE_FUNCTIONS[name]!)),
          async ([name, args]) => {
            const f = (bsd as unknown as Record<string, Fn>)[name]!;
            try {
              await probe(`${name}(${show(args)})`, f, args);
            } finally {
              bsd.setdefaulttimeout(null);
            }
          },
        ),
        { seed: SEED, numRuns: 600, includeErrorInReport: true },
      );
    });

    const KINDS: Array<[number, number]> = [
      [bsd.AF_INET, bsd.SOCK_STREAM],
      [bsd.AF_INET6, bsd.SOCK_STREAM],
      [bsd.AF_UNIX, bsd.SOCK_STREAM],
      [bsd.AF_INET, bsd.SOCK_DGRAM],
      [bsd.AF_INET6, bsd.SOCK_DGRAM],
    ];
    const levelArb = fc.oneof(fc.constantFrom(0, 1, 6, 17, 41, -1, 2 ** 31), anyValue);
    const optArb = fc.oneof(
      fc.constantFrom(1, 2, 3, 4, 6, 7, 8, 9, 13, 15, 26, 30, 32, 33, 34, 35, 36, 38, 39),
      anyValue,
    );
    const METHODS: Record<string, fc.Arbitrary<unknown[]>> = {
      bind: fc.tuple(addrArb),
      listen: fc.tuple(anyValue),
      accept: fc.tuple(),
      connect: fc.tuple(addrArb),
      connect_ex: fc.tuple(addrArb),
      recv: fc.tuple(anyValue, anyValue),
      recvfrom: fc.tuple(anyValue, anyValue),
      recv_into: fc.tuple(anyValue, anyValue, anyValue),
      recvfrom_into: fc.tuple(anyValue, anyValue, anyValue),
      recv_exactly: fc.tuple(anyValue),
      readline: fc.tuple(anyValue),
      send: fc.tuple(anyValue, anyValue),
      sendall: fc.tuple(anyValue, anyValue),
      sendto: fc.oneof(fc.tuple(anyValue, addrArb), fc.tuple(anyValue, anyValue, addrArb)),
      shutdown: fc.tuple(anyValue),
      close: fc.tuple(),
      getsockname: fc.tuple(),
      getpeername: fc.tuple(),
      setsockopt: fc.tuple(levelArb, optArb, anyValue),
      getsockopt: fc.tuple(levelArb, optArb, anyValue),
      settimeout: fc.tuple(anyValue),
      gettimeout: fc.tuple(),
      setblocking: fc.tuple(anyValue),
      getblocking: fc.tuple(),
      fileno: fc.tuple(),
      toString: fc.tuple(),
    };

    /** A socket of `kind` in `state`: fresh, bound to loopback, listening, or connected to our peer. */
    async function made(kind: number, state: number): Promise<bsd.Socket> {
      const [family, type] = KINDS[kind]!;
      const s = bsd.socket(family, type);
      try {
        const v6 = family === bsd.AF_INET6;
        const loop = v6 ? "::1" : "127.0.0.1";
        if (state === 1 || (state === 2 && family !== bsd.AF_UNIX))
          await s.bind(family === bsd.AF_UNIX ? `\0sockit-fuzz-${process.pid}-own` : [loop, 0]);
        if (state === 2 && type === bsd.SOCK_STREAM) await s.listen(4);
        if (state === 3 && family !== bsd.AF_UNIX) {
          const port =
            type === bsd.SOCK_DGRAM ? (v6 ? ports.udp6 : ports.udp4) : v6 ? ports.tcp6 : ports.tcp4;
          await s.connect([loop, port]);
        }
        s.settimeout(0); // a call that would wait fails with BlockingIOError instead
      } catch (err) {
        await s.close();
        throw err;
      }
      return s;
    }

    test("Socket methods in every state", async () => {
      const names = Object.keys(METHODS);
      await fc.assert(
        fc.asyncProperty(
          fc.nat(KINDS.length - 1),
          fc.nat(3),
          fc.constantFrom(...names).chain((name) => fc.tuple(fc.constant(name), METHODS[name]!)),
          async (kind, state, [name, args]) => {
            const s = await made(kind, state);
            try {
              const f = (s as unknown as Record<string, Fn>)[name]!;
              await probe(`${String(s)}.${name}(${show(args)})`, f.bind(s), args, s);
            } finally {
              await s.close();
            }
          },
        ),
        { seed: SEED, numRuns: 1200, includeErrorInReport: true },
      );
    });

    test("select() and poll objects", async () => {
      // select() timeouts: a null or huge one could wait forever on an idle list, as in Python
      const timeoutArb = fc.constantFrom<unknown>(
        0,
        0.01,
        -1,
        Number.NaN,
        Infinity,
        1e10,
        "1",
        {},
        H_EVIL,
        H_PROXY,
        1n,
      );
      // a negative or null poll() timeout waits forever, as in Python: not in the pool
      const msArb = fc.constantFrom<unknown>(
        0,
        10,
        Number.NaN,
        Infinity,
        2 ** 31,
        "1",
        {},
        H_EVIL,
        H_PROXY,
        1n,
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.oneof(fc.constant("sock"), anyValue), { maxLength: 3 }),
          fc.oneof(fc.constant("list"), anyValue),
          timeoutArb,
          msArb,
          fc.tuple(anyValue, anyValue),
          async (items, listOrNot, timeout, ms, [regA, regB]) => {
            const socks = [await made(0, 3), await made(3, 1)];
            try {
              const list = items.map((x) => (x === "sock" ? socks[0] : x));
              const arg = listOrNot === "list" ? list : listOrNot;
              await probe(`select(${show([arg, timeout])})`, bsd.select as Fn, [
                arg,
                socks.slice(1),
                arg,
                timeout,
              ]);
              const p = bsd.poll();
              const call = (m: keyof bsd.Poll) => (p[m] as Fn).bind(p);
              await probe(`poll.register(${show([regA, regB])})`, call("register"), [regA, regB]);
              await probe(`poll.register(sock, ${show([regB])})`, call("register"), [socks[0], regB]);
              await probe(`poll.modify(${show([regA, regB])})`, call("modify"), [regA, regB]);
              await probe(`poll.poll(${show([ms])})`, call("poll"), [ms]);
              await probe(`poll.unregister(${show([regA])})`, call("unregister"), [regA]);
            } finally {
              for (const s of socks) await s.close();
            }
          },
        ),
        { seed: SEED, numRuns: 200, includeErrorInReport: true },
      );
    });
  });

  // ---- the Go-style face -------------------------------------------------------------------------

  describe("sockit/net under hostile arguments", () => {
    test("dial, listen, listenPacket", async () => {
      const fns = { dial: gonet.dial, listen: gonet.listen, listenPacket: gonet.listenPacket } as Record<
        string,
        Fn
      >;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...Object.keys(fns)),
          networkArb,
          netAddrArb,
          optsArb,
          async (name, network, address, opts) => {
            await probe(`${name}(${show([network, address, opts])})`, fns[name]!, [network, address, opts]);
          },
        ),
        { seed: SEED, numRuns: 500, includeErrorInReport: true },
      );
    });

    const callOpts = fc.oneof(anyValue, fc.record({ signal: anyValue, max: anyValue }, { requiredKeys: [] }));
    const CONN: Record<string, fc.Arbitrary<unknown[]>> = {
      read: fc.tuple(anyValue, callOpts),
      readExactly: fc.tuple(anyValue, callOpts),
      readLine: fc.tuple(callOpts),
      write: fc.tuple(anyValue, callOpts),
      closeWrite: fc.tuple(),
      close: fc.tuple(),
      abort: fc.tuple(),
      setDeadline: fc.tuple(anyValue),
      setReadDeadline: fc.tuple(anyValue),
      setWriteDeadline: fc.tuple(anyValue),
      setNoDelay: fc.tuple(anyValue),
      setKeepAlive: fc.tuple(anyValue, anyValue),
    };
    const PACKET: Record<string, fc.Arbitrary<unknown[]>> = {
      readFrom: fc.tuple(anyValue, callOpts),
      writeTo: fc.tuple(
        anyValue,
        fc.oneof(netAddrArb, fc.record({ address: hostArb, port: portArb, family: anyValue })),
        callOpts,
      ),
      read: fc.tuple(anyValue, callOpts),
      write: fc.tuple(anyValue, callOpts),
      setDeadline: fc.tuple(anyValue),
      setReadDeadline: fc.tuple(anyValue),
      setWriteDeadline: fc.tuple(anyValue),
      setBroadcast: fc.tuple(anyValue),
      joinGroup: fc.tuple(
        fc.oneof(fc.constantFrom("10.0.0.1", "127.0.0.1", "::1", "", "x"), anyValue),
        anyValue,
      ),
      leaveGroup: fc.tuple(
        fc.oneof(fc.constantFrom("10.0.0.1", "127.0.0.1", "::1", "", "x"), anyValue),
        anyValue,
      ),
      close: fc.tuple(),
    };
    const LISTENER: Record<string, fc.Arbitrary<unknown[]>> = {
      accept: fc.tuple(callOpts),
      close: fc.tuple(),
    };

    test("Conn, PacketConn and Listener methods", async () => {
      const kinds = [
        ["conn", CONN],
        ["packet", PACKET],
        ["dialled packet", PACKET],
        ["listener", LISTENER],
      ] as const;
      await fc.assert(
        fc.asyncProperty(
          fc.nat(kinds.length - 1).chain((k) =>
            fc.tuple(
              fc.constant(k),
              fc
                .constantFrom(...Object.keys(kinds[k]![1]))
                .chain((m) => fc.tuple(fc.constant(m), kinds[k]![1][m]!)),
            ),
          ),
          fc.boolean(),
          async ([k, [method, args]], v6) => {
            const lo = v6 ? "[::1]" : "127.0.0.1";
            const obj =
              k === 0
                ? await gonet.dial(v6 ? "tcp6" : "tcp4", `${lo}:${v6 ? ports.tcp6 : ports.tcp4}`)
                : k === 1
                  ? await gonet.listenPacket(v6 ? "udp6" : "udp4", `${lo}:0`)
                  : k === 2
                    ? await gonet.dial(v6 ? "udp6" : "udp4", `${lo}:${v6 ? ports.udp6 : ports.udp4}`)
                    : await gonet.listen(v6 ? "tcp6" : "tcp4", `${lo}:0`);
            try {
              const f = (obj as unknown as Record<string, Fn>)[method]!;
              await probe(`${kinds[k]![0]}.${method}(${show(args)})`, f.bind(obj), args, obj);
            } finally {
              await obj.close();
            }
          },
        ),
        { seed: SEED, numRuns: 2000, includeErrorInReport: true },
      );
    });
  });
});
