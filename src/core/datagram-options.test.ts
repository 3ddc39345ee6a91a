// The option setters of a core DatagramSocket against a real UDP socket: held before bind and
// applied at bind, applied at once after it, and every failure an OSError with the errno Python's
// setsockopt reports for the same call.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { describe, test } from "node:test";
import { assertOSError, rejectsOSError } from "../../test/support/errors.js";
import { within } from "../../test/support/leaks.js";
import { runPython } from "../../test/support/python.js";
import { OSError } from "../errors/index.js";
import { checkGroup } from "./datagram-options.js";
import { DatagramSocket } from "./datagram.js";

const LOOP4 = { address: "127.0.0.1", port: 0, family: 4 } as const;

/** Python's errno for each setsockopt on a bound UDP socket (0: accepted). */
const PY_ERRNOS = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
any4 = socket.inet_aton("0.0.0.0")
calls = {
  "ttl0": lambda: s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 0),
  "mttl300": lambda: s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 300),
  "mif": lambda: s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("192.0.2.1")),
  "drop": lambda: s.setsockopt(socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP, socket.inet_aton("239.1.2.3") + any4),
  "join_unicast": lambda: s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton("10.0.0.1") + any4),
}
for k, f in calls.items():
    try:
        f(); print(k, 0)
    except OSError as e:
        print(k, e.errno)
`;

async function pythonErrnos(): Promise<Record<string, number>> {
  const r = await runPython(PY_ERRNOS, [], undefined, 20_000);
  assert.equal(r.code, 0, r.stderr);
  return Object.fromEntries(
    r.stdout
      .trim()
      .split("\n")
      .map((l) => [l.split(" ")[0]!, Number(l.split(" ")[1])]),
  );
}

/** Python: receives one datagram with IP_RECVTTL and prints the TTL it arrived with. */
const TTL_RECEIVER = `
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
s.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_RECVTTL", 12), 1)  # 12 on Linux; older Pythons lack the name
s.settimeout(10)
print(s.getsockname()[1], flush=True)
data, anc, flags, addr = s.recvmsg(64, socket.CMSG_SPACE(4))
ttl = [struct.unpack("i", d[:4])[0] for (lvl, typ, d) in anc if lvl == socket.IPPROTO_IP and typ == socket.IP_TTL]
print(ttl[0] if ttl else -1, flush=True)
`;

/** Sends one datagram from `s` to a Python receiver; resolves the TTL it arrived with. */
async function ttlSeenByPython(s: DatagramSocket): Promise<number> {
  const py = spawn("python3", ["-c", TTL_RECEIVER], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = once(py, "exit");
  try {
    const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
    const port = Number((await within(lines.next(), 10_000, "python receiver port")).value);
    await s.sendto(Buffer.from("ttl?"), { address: "127.0.0.1", port, family: 4 });
    return Number((await within(lines.next(), 10_000, "python receiver ttl")).value);
  } finally {
    if (py.exitCode === null) py.kill();
    await exited;
  }
}

describe("DatagramSocket options", () => {
  test("an option set before bind is held and applied at bind: the TTL Python receives", async () => {
    const s = new DatagramSocket(4);
    try {
      s.setTTL(7);
      await s.bind(LOOP4);
      assert.equal(await ttlSeenByPython(s), 7);
      s.setTTL(42); // after bind: applied at once
      assert.equal(await ttlSeenByPython(s), 42);
    } finally {
      await s.close();
    }
  });

  test("buffer sizes: undefined before bind, then what the kernel makes of the request (as Python sees it)", async () => {
    const r = await runPython(`
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536); s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)
print(s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))
`);
    const [rcv, snd] = r.stdout.trim().split(" ").map(Number);
    const s = new DatagramSocket(4);
    try {
      s.setBufferSize("recv", 65536);
      s.setBufferSize("send", 32768);
      assert.equal(s.bufferSize("recv"), undefined);
      assert.equal(s.bufferSize("send"), undefined);
      await s.bind(LOOP4);
      assert.equal(s.bufferSize("recv"), rcv);
      assert.equal(s.bufferSize("send"), snd);
    } finally {
      await s.close();
    }
  });

  test("after bind, a refused option throws an OSError with the errno Python gets, naming the option", async () => {
    const py = await pythonErrnos();
    const s = new DatagramSocket(4);
    try {
      await s.bind(LOOP4);
      const cases: Array<[string, () => void, string]> = [
        ["ttl0", () => s.setTTL(0), "IP_TTL"],
        ["mttl300", () => s.setMulticastTTL(300), "IP_MULTICAST_TTL"],
        ["mif", () => s.setMulticastInterface("192.0.2.1"), "IP_MULTICAST_IF"],
        ["drop", () => s.membership(false, "239.1.2.3"), "IP_DROP_MEMBERSHIP"],
        ["join_unicast", () => s.membership(true, "10.0.0.1"), "IP_ADD_MEMBERSHIP"],
      ];
      for (const [key, call, name] of cases) {
        const errno = py[key];
        assert.ok(errno !== undefined && errno > 0, `python refused ${key}`);
        let err: unknown;
        try {
          call();
        } catch (e) {
          err = e;
        }
        assert.ok(err instanceof OSError, `${key}: expected an OSError, got ${String(err)}`);
        assert.equal(err.errno, errno, `${key}: ${err.message}`);
        assert.equal(err.op, "setsockopt");
        assert.match(err.message, new RegExp(name), `${key}: the message names ${name}`);
      }
      s.setTTL(64); // the socket is still usable after the refusals
    } finally {
      await s.close();
    }
  });

  test("a bad option held until bind makes bind reject with that option's OSError", async () => {
    const s = new DatagramSocket(4);
    try {
      s.setTTL(0); // held: nothing to apply it to yet
      const err = await rejectsOSError(s.bind(LOOP4), OSError, "EINVAL", "setsockopt");
      assert.match(err.message, /IP_TTL/);
    } finally {
      await s.close();
    }
  });

  test("joining a unicast address is EINVAL at once, before bind too (checkGroup)", async () => {
    const s = new DatagramSocket(4);
    try {
      assert.throws(
        () => s.membership(true, "10.0.0.1", undefined, "add_membership"),
        (e) => {
          assertOSError(e, OSError, "EINVAL", "add_membership");
          return /not a multicast group/.test(e.message);
        },
      );
      for (const ok of ["224.0.0.1", "239.255.255.255", "ff02::1", "ff05::2%lo"])
        assert.doesNotThrow(() => checkGroup(ok, "IP_ADD_MEMBERSHIP"), ok);
      for (const bad of ["223.255.255.255", "240.0.0.1", "fe80::1", "::1", "not-an-address", 42])
        assert.throws(
          () => checkGroup(bad, "IP_ADD_MEMBERSHIP"),
          (e) => e instanceof OSError && e.code === "EINVAL",
        );
    } finally {
      await s.close();
    }
  });

  test("options on a closed socket reject EBADF; reading buffer sizes gives undefined", async () => {
    const s = new DatagramSocket(4);
    await s.bind(LOOP4);
    await s.close();
    for (const call of [
      () => s.setTTL(3),
      () => s.setBroadcast(true),
      () => s.setMulticastLoopback(false),
      () => s.setBufferSize("recv", 4096),
      () => s.membership(false, "239.1.2.3"),
    ])
      assert.throws(call, (e) => {
        assertOSError(e, OSError, "EBADF");
        return /closed/.test(e.message);
      });
    assert.equal(s.bufferSize("recv"), undefined);
  });
});
