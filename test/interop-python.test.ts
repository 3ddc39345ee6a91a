/**
 * Interop with Python's `socket` module, an independent peer nobody here wrote: sockit serves
 * Python clients and dials Python servers over IPv4 (127.0.0.1), IPv6 (::1) and a Unix path, with
 * both faces. Half-close both ways, 64 MiB transfers checked by SHA-256 on both ends, and the
 * addresses each side reports for the other; and whether a buffer handed to sendall()/write() may be
 * reused once the call resolves (Python's contract, and Go's io.Writer). Port 0 everywhere: sockit's
 * real port goes to Python on argv, a Python server prints its port on its first stdout line.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  SHUT_WR,
  SOCK_STREAM,
  type SockAddr,
  type Socket,
  socket,
} from "../src/bsd/index.js";
import { dial, listen, type StreamNetwork } from "../src/net/index.js";
import { type PythonPeer, spawnPython } from "./support/interop-python-peer.js";
import { within } from "./support/leaks.js";

// ---- the three places -------------------------------------------------------------------------

interface Place {
  readonly name: string;
  readonly family: number;
  readonly network: StreamNetwork;
  /** Python's family key (argv[1]). */
  readonly kind: "4" | "6" | "u";
  /** Loopback host; for Unix the socket path is made per test in a temp dir. */
  readonly host: string;
}

const PLACES: readonly Place[] = [
  { name: "IPv4", family: AF_INET, network: "tcp4", kind: "4", host: "127.0.0.1" },
  { name: "IPv6", family: AF_INET6, network: "tcp6", kind: "6", host: "::1" },
  { name: "Unix", family: AF_UNIX, network: "unix", kind: "u", host: "" },
];
const [IPV4, IPV6] = PLACES as [Place, Place, Place];

/** Where one test talks: the host or socket path, and the address forms of each face. */
class Where {
  constructor(
    readonly place: Place,
    readonly at: string,
  ) {}

  get unix(): boolean {
    return this.place.family === AF_UNIX;
  }

  /** Berkeley address with `port` (0 = any free port). */
  bsd(port = 0): SockAddr {
    return this.unix ? this.at : [this.at, port];
  }

  /** Go-style address string with `port`. */
  net(port = 0): string {
    if (this.unix) return this.at;
    return this.place.family === AF_INET6 ? `[${this.at}]:${port}` : `${this.at}:${port}`;
  }

  /** Python's argv: kind, host or path, port. */
  py(port = 0): string[] {
    return [this.place.kind, this.at, String(port)];
  }
}

/** Closes what a test opened (sockets, conns, listeners, Python), last opened first. */
class Resources {
  readonly #items: Array<{ close(): Promise<void> }> = [];

  use<T extends { close(): Promise<void> }>(x: T): T {
    this.#items.push(x);
    return x;
  }

  async closeAll(): Promise<void> {
    const errors: unknown[] = [];
    for (const x of this.#items.reverse()) await x.close().catch((e: unknown) => errors.push(e));
    if (errors.length > 0) throw errors[0];
  }
}

/**
 * A test body on `place`: bounded by `ms`, everything it registered closed in `finally`, the Unix
 * temp dir removed, and no socket handle left open.
 */
function interop(
  place: Place,
  body: (w: Where, r: Resources) => Promise<void>,
  ms = 60_000,
): () => Promise<void> {
  return async () => {
    const dir = place.family === AF_UNIX ? fs.mkdtempSync(path.join(os.tmpdir(), "sockit-py-")) : undefined;
    const r = new Resources();
    try {
      await within(
        body(new Where(place, dir === undefined ? place.host : path.join(dir, "s.sock")), r),
        ms,
        place.name,
      );
    } finally {
      await r.closeAll();
      if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

// ---- the data, generated identically on both sides --------------------------------------------

const MIB = 1 << 20;
const TOTAL_MIB = 64;
const TOTAL = TOTAL_MIB * MIB;
const SEED = "sockit-interop";

/**
 * 64 MiB: a 1 MiB block of SHA-256(seed ‖ i) counter-mode output, repeated, each copy starting
 * with its index (8 bytes, big-endian) so a lost, repeated or reordered MiB changes the hash.
 */
const data = (() => {
  let cached: { buf: Buffer; sha: string } | undefined;
  return () => {
    if (cached === undefined) {
      const base = Buffer.allocUnsafe(MIB);
      const idx = Buffer.alloc(4);
      for (let i = 0; i < MIB / 32; i++) {
        idx.writeUInt32BE(i);
        createHash("sha256")
          .update(SEED)
          .update(idx)
          .digest()
          .copy(base, i * 32);
      }
      const buf = Buffer.allocUnsafe(TOTAL);
      for (let k = 0; k < TOTAL_MIB; k++) {
        base.copy(buf, k * MIB);
        buf.writeBigUInt64BE(BigInt(k), k * MIB);
      }
      cached = { buf, sha: createHash("sha256").update(buf).digest("hex") };
    }
    return cached;
  };
})();

/** The small request of the half-close exchanges (~190 KB, several segments). */
const REQUEST = Buffer.from(Array.from({ length: 10_000 }, (_, i) => `request line ${i}\n`).join(""));

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const ack = (b: Uint8Array) => `ack ${b.length} ${sha256(b)}`;

/** The shared Python side: argv is kind, host-or-path, port, then per-script arguments. */
const PRELUDE = String.raw`
import hashlib, json, socket, sys, time
KIND, WHERE, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
FAMILY = {"4": socket.AF_INET, "6": socket.AF_INET6, "u": socket.AF_UNIX}[KIND]
ADDRESS = WHERE if KIND == "u" else (WHERE, PORT)
REQUEST = b"".join(b"request line %d\n" % i for i in range(10000))

def serve():
    """Binds ADDRESS (port 0), prints the real port as the first line, accepts one connection."""
    ls = socket.socket(FAMILY, socket.SOCK_STREAM)
    ls.bind(ADDRESS)
    ls.listen(1)
    print(0 if KIND == "u" else ls.getsockname()[1], flush=True)
    ls.settimeout(50)
    conn, peer = ls.accept()
    ls.close()
    conn.settimeout(50)
    return conn, peer

def connect():
    s = socket.socket(FAMILY, socket.SOCK_STREAM)
    s.settimeout(50)
    s.connect(ADDRESS)
    return s

def read_all(s):
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)

def hash_to_eof(s, pace=0):
    h, n = hashlib.sha256(), 0
    while True:
        b = s.recv(65536)
        if not b:
            return n, h.hexdigest()
        h.update(b)
        n += len(b)
        if pace:
            time.sleep(pace)

def blocks():
    block = bytearray(b"".join(hashlib.sha256(b"${SEED}" + i.to_bytes(4, "big")).digest() for i in range(32768)))
    for k in range(${TOTAL_MIB}):
        block[0:8] = k.to_bytes(8, "big")
        yield block
`;

/** Python client: request, SHUT_WR, reply to EOF. */
const PY_HALF_CLOSE_CLIENT = `${PRELUDE}
s = connect()
s.sendall(REQUEST)
s.shutdown(socket.SHUT_WR)
reply = read_all(s)
s.close()
print(json.dumps({"reply": reply.decode()}))
`;

/** Python server: request to EOF, reply, SHUT_WR, then the peer's EOF. */
const PY_HALF_CLOSE_SERVER = `${PRELUDE}
conn, peer = serve()
request = read_all(conn)
conn.sendall(b"ack %d %s" % (len(request), hashlib.sha256(request).hexdigest().encode()))
conn.shutdown(socket.SHUT_WR)
after = conn.recv(1)
conn.close()
print(json.dumps({"peer": peer, "request_ok": request == REQUEST, "after": after.decode()}))
`;

/** Python sends the 64 MiB (client or server per argv[4]), SHUT_WR, reads the receiver's ack. */
const PY_SEND = `${PRELUDE}
s = serve()[0] if sys.argv[4] == "serve" else connect()
h, n = hashlib.sha256(), 0
for b in blocks():
    s.sendall(b)
    h.update(b)
    n += len(b)
s.shutdown(socket.SHUT_WR)
reply = read_all(s)
s.close()
print(json.dumps({"sent": n, "sha": h.hexdigest(), "reply": reply.decode()}))
`;

/**
 * Python receives to EOF with recv(65536), hashes, answers "n sha", closes. An optional argv[5]
 * paces the reader (seconds of sleep after each recv): the sender's buffers stay full.
 */
const PY_RECV = `${PRELUDE}
s = serve()[0] if sys.argv[4] == "serve" else connect()
n, sha = hash_to_eof(s, float(sys.argv[5]) if len(sys.argv) > 5 else 0)
s.sendall(b"%d %s" % (n, sha.encode()))
s.close()
print(json.dumps({"received": n, "sha": sha}))
`;

/** Python client: prints its own and its peer's address as Python sees them, waits for EOF. */
const PY_NAMES_CLIENT = `${PRELUDE}
s = connect()
print(json.dumps({"sock": s.getsockname(), "peer": s.getpeername()}))
read_all(s)
s.close()
`;

/** Python server: prints accept()'s address and the connection's names, waits for EOF. */
const PY_NAMES_SERVER = `${PRELUDE}
conn, peer = serve()
print(json.dumps({"accepted": peer, "sock": conn.getsockname(), "peer": conn.getpeername()}))
read_all(conn)
conn.close()
`;

// ---- sockit-side helpers ----------------------------------------------------------------------

/** A listening Berkeley socket at `w` (port 0) and its real port. */
async function bsdServer(w: Where, r: Resources): Promise<{ srv: Socket; port: number }> {
  const srv = r.use(socket(w.place.family, SOCK_STREAM));
  await srv.bind(w.bsd());
  await srv.listen(1);
  const name = srv.getsockname();
  return { srv, port: typeof name === "string" ? 0 : name[1] };
}

/** Starts a Python server script and connects a Berkeley socket to the port it prints. */
async function bsdToPython(w: Where, r: Resources, code: string, extra: string[] = []) {
  const py = r.use(spawnPython(code, [...w.py(), ...extra]));
  const port = Number(await py.firstLine);
  const cli = r.use(socket(w.place.family, SOCK_STREAM));
  await cli.connect(w.bsd(port));
  return { py, cli };
}

/** Reads with recv(65536) until EOF; all of it. */
async function recvAll(s: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (;;) {
    const b = await s.recv(65536);
    if (b.length === 0) return Buffer.concat(chunks);
    chunks.push(b);
  }
}

/** Reads with recv(65536) until EOF; byte count and SHA-256. */
async function recvHash(s: Socket): Promise<{ n: number; sha: string }> {
  const h = createHash("sha256");
  let n = 0;
  for (;;) {
    const b = await s.recv(65536);
    if (b.length === 0) return { n, sha: h.digest("hex") };
    h.update(b);
    n += b.length;
  }
}

/** Sends the 64 MiB with sendall in `chunk`-byte slices. */
async function sendData(s: Socket, chunk: number): Promise<void> {
  const { buf } = data();
  for (let off = 0; off < buf.length; off += chunk) await s.sendall(buf.subarray(off, off + chunk));
}

/** The last stdout line of a Python peer that exited 0, as JSON. */
async function pyResult<T>(py: PythonPeer): Promise<T> {
  const lines = await py.ok();
  assert.ok(lines.length > 0, "python printed its result");
  return JSON.parse(lines.at(-1)!) as T;
}

// ---- 1, 2: half-close ---------------------------------------------------------------------------

describe("half-close with Python", () => {
  for (const place of PLACES) {
    test(
      `${place.name}: a Python client's SHUT_WR reaches sockit as EOF, sockit still replies and its SHUT_WR ends Python's read`,
      interop(place, async (w, r) => {
        const { srv, port } = await bsdServer(w, r);
        const py = r.use(spawnPython(PY_HALF_CLOSE_CLIENT, w.py(port)));
        const [conn] = await srv.accept();
        r.use(conn);
        const request = await recvAll(conn); // ends only at Python's FIN
        assert.ok(request.equals(REQUEST), `request intact (${request.length} of ${REQUEST.length} bytes)`);
        await conn.sendall(ack(request)); // sending after the peer's FIN
        conn.shutdown(SHUT_WR);
        assert.equal((await conn.recv(10)).length, 0, "EOF is still EOF after our own SHUT_WR");
        const out = await pyResult<{ reply: string }>(py);
        assert.equal(out.reply, ack(REQUEST), "Python read the whole reply, then EOF");
      }),
    );

    test(
      `${place.name}: sockit's SHUT_WR reaches a Python server as EOF, Python still replies and its SHUT_WR ends sockit's read`,
      interop(place, async (w, r) => {
        const { py, cli } = await bsdToPython(w, r, PY_HALF_CLOSE_SERVER);
        await cli.sendall(REQUEST);
        cli.shutdown(SHUT_WR);
        const reply = await recvAll(cli); // ends only at Python's FIN
        assert.equal(reply.toString(), ack(REQUEST));
        await cli.close();
        const out = await pyResult<{ peer: unknown; request_ok: boolean; after: string }>(py);
        assert.equal(out.request_ok, true, "Python read the whole request, then EOF");
        assert.equal(out.after, "", "Python reads EOF after its own SHUT_WR");
      }),
    );
  }
});

// ---- 3: 64 MiB, Berkeley face ----------------------------------------------------------------

describe("64 MiB with SHA-256, Berkeley face", () => {
  for (const place of PLACES) {
    test(
      `${place.name}: a sockit server's sendall delivers 64 MiB intact to a Python client`,
      interop(place, async (w, r) => {
        const { buf, sha } = data();
        const { srv, port } = await bsdServer(w, r);
        const py = r.use(spawnPython(PY_RECV, [...w.py(port), "connect"]));
        const [conn] = await srv.accept();
        r.use(conn);
        await sendData(conn, MIB);
        conn.shutdown(SHUT_WR);
        assert.equal((await recvAll(conn)).toString(), `${buf.length} ${sha}`, "Python's count and hash");
        const out = await pyResult<{ received: number; sha: string }>(py);
        assert.deepEqual(out, { received: TOTAL, sha });
      }),
    );

    test(
      `${place.name}: a sockit client's recv(65536) receives 64 MiB intact from a Python server`,
      interop(place, async (w, r) => {
        const { sha } = data();
        const { py, cli } = await bsdToPython(w, r, PY_SEND, ["serve"]);
        const got = await recvHash(cli);
        assert.deepEqual(got, { n: TOTAL, sha }, "sockit received exactly what Python generated");
        await cli.sendall(`${got.n} ${got.sha}`);
        cli.shutdown(SHUT_WR);
        const out = await pyResult<{ sent: number; sha: string; reply: string }>(py);
        assert.deepEqual(out, { sent: TOTAL, sha, reply: `${TOTAL} ${sha}` });
      }),
    );
  }
});

// ---- 4: 64 MiB, Go-style face ----------------------------------------------------------------

describe("64 MiB with SHA-256, Go-style face", () => {
  for (const place of PLACES) {
    test(
      `${place.name}: dial() to a Python server: write() 64 MiB, closeWrite(), for await reads Python's hash to EOF`,
      interop(place, async (w, r) => {
        const { buf, sha } = data();
        const py = r.use(spawnPython(PY_RECV, [...w.py(), "serve"]));
        const port = Number(await py.firstLine);
        const conn = r.use(await dial(place.network, w.net(port)));
        for (let off = 0; off < buf.length; off += 64 * 1024) {
          assert.equal(await conn.write(buf.subarray(off, off + 64 * 1024)), 64 * 1024);
        }
        await conn.closeWrite();
        const reply: Buffer[] = [];
        for await (const chunk of conn) reply.push(chunk);
        assert.equal(Buffer.concat(reply).toString(), `${TOTAL} ${sha}`);
        const out = await pyResult<{ received: number; sha: string }>(py);
        assert.deepEqual(out, { received: TOTAL, sha });
      }),
    );

    test(
      `${place.name}: listen() for a Python client: for await hashes 64 MiB to EOF, write() the hash, closeWrite()`,
      interop(place, async (w, r) => {
        const { sha } = data();
        const ln = r.use(await listen(place.network, w.net()));
        const py = r.use(spawnPython(PY_SEND, [...w.py(ln.port), "connect"]));
        const conn = r.use(await ln.accept());
        const h = createHash("sha256");
        let n = 0;
        for await (const chunk of conn) {
          h.update(chunk);
          n += chunk.length;
        }
        const got = h.digest("hex");
        assert.deepEqual({ n, sha: got }, { n: TOTAL, sha });
        await conn.write(`${n} ${got}`);
        await conn.closeWrite();
        assert.equal(await conn.read(), null, "EOF stays EOF after closeWrite()");
        const out = await pyResult<{ sent: number; sha: string; reply: string }>(py);
        assert.deepEqual(out, { sent: TOTAL, sha, reply: `${TOTAL} ${sha}` });
      }),
    );
  }
});

// ---- 5: addresses ----------------------------------------------------------------------------

describe("addresses as Python sees them", () => {
  for (const place of PLACES) {
    test(
      `${place.name}: accept() returns exactly the Python client's getsockname(); the accepted socket's names mirror the client's`,
      interop(place, async (w, r) => {
        const { srv, port } = await bsdServer(w, r);
        const py = r.use(spawnPython(PY_NAMES_CLIENT, w.py(port)));
        const [conn, addr] = await srv.accept();
        r.use(conn);
        const names = JSON.parse(await py.firstLine) as { sock: unknown; peer: unknown };
        if (place === IPV4) assert.equal((names.sock as unknown[]).length, 2, "Python's AF_INET 2-tuple");
        if (place === IPV6) assert.equal((names.sock as unknown[]).length, 4, "Python's AF_INET6 4-tuple");
        // one comparison, so a failure shows all three at once
        assert.deepEqual(
          { accepted: addr, getpeername: conn.getpeername(), getsockname: conn.getsockname() },
          { accepted: names.sock, getpeername: names.sock, getsockname: names.peer },
          "accept() and getpeername() = client's getsockname(); getsockname() = client's getpeername()",
        );
        await conn.close();
        await py.ok();
      }),
    );

    test(
      `${place.name}: a Python server's accept() returns exactly the sockit client's getsockname()`,
      interop(place, async (w, r) => {
        const { py, cli } = await bsdToPython(w, r, PY_NAMES_SERVER);
        const mine = cli.getsockname();
        const theirs = cli.getpeername();
        await cli.close(); // Python has printed its view and waits for EOF
        const names = await pyResult<{ accepted: unknown; sock: unknown; peer: unknown }>(py);
        assert.deepEqual(names.accepted, mine, "Python's accept() address = our getsockname()");
        assert.deepEqual(names.peer, mine, "Python's getpeername() = our getsockname()");
        assert.deepEqual(names.sock, theirs, "Python's getsockname() = our getpeername()");
      }),
    );
  }
});

// ---- buffers handed to sendall()/write() --------------------------------------------------------

/**
 * Sends REUSE_MIB MiB through one reused 1 MiB buffer, refilled (with different bytes each time) as soon
 * as `send` resolves, as Python code does with a bytearray; resolves the SHA-256 of what was in the
 * buffer at each call: what the receiver must get.
 */
async function sendReusing(send: (b: Buffer) => Promise<unknown>): Promise<string> {
  const { buf } = data();
  const block = Buffer.allocUnsafe(MIB);
  const h = createHash("sha256");
  for (let k = 0; k < REUSE_MIB; k++) {
    const from = (k * 7919 * 13) % (TOTAL - MIB); // a differently shifted window each time
    buf.copy(block, 0, from, from + MIB);
    h.update(block);
    await send(block);
  }
  return h.digest("hex");
}

/** Python's pause after each recv(65536) (seconds): the kernel buffers stay full, sends queue in Node. */
const PACE = "0.002";
/** MiB sent through the reused buffer (paced, so fewer than the big transfers). */
const REUSE_MIB = 16;

describe("buffers handed to sendall() and write()", () => {
  for (const place of PLACES) {
    test(
      `${place.name}: sendall() is done with the caller's buffer when it resolves: refilling it at once does not change what Python receives`,
      interop(place, async (w, r) => {
        const py = r.use(spawnPython(PY_RECV, [...w.py(), "serve", PACE]));
        const cli = r.use(socket(place.family, SOCK_STREAM));
        await cli.connect(w.bsd(Number(await py.firstLine)));
        const sha = await sendReusing((b) => cli.sendall(b));
        cli.shutdown(SHUT_WR);
        const out = await pyResult<{ received: number; sha: string }>(py);
        assert.deepEqual(
          out,
          { received: REUSE_MIB * MIB, sha },
          "Python got the bytes as they were at each sendall()",
        );
      }),
    );
  }

  test(
    "IPv4: Conn.write() does not retain the caller's buffer (io.Writer contract): refilling it at once does not change what Python receives",
    interop(IPV4, async (w, r) => {
      const py = r.use(spawnPython(PY_RECV, [...w.py(), "serve", PACE]));
      const conn = r.use(await dial("tcp4", w.net(Number(await py.firstLine))));
      const sha = await sendReusing((b) => conn.write(b));
      await conn.closeWrite();
      const out = await pyResult<{ received: number; sha: string }>(py);
      assert.deepEqual(
        out,
        { received: REUSE_MIB * MIB, sha },
        "Python got the bytes as they were at each write()",
      );
    }),
  );
});
