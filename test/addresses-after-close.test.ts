/**
 * Names survive the end of a connection; Unix binds report a missing directory as C does;
 * dial("udp") honours a local address and port.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { AF_UNIX, FileNotFoundError, SOCK_STREAM, socket } from "../src/bsd/index.js";
import { dial, listen, listenPacket } from "../src/net/index.js";
import { rejectsOSError } from "./support/errors.js";
import { socketsOn } from "./support/kernel.js";
import { waitFor } from "./support/kit.js";
import { within } from "./support/leaks.js";

test("a Conn still reports both addresses after both directions have ended", async () => {
  const ln = await listen("tcp", "127.0.0.1:0");
  const c = await dial("tcp", ln.address);
  const s = await ln.accept();
  try {
    await c.closeWrite();
    await s.closeWrite();
    assert.equal(await within(s.read(), 2000, "read"), null);
    assert.equal(await within(c.read(), 2000, "read"), null);
    // the kernel is done with the connection: both FINs sent and acknowledged
    const port = Number(ln.address.split(":").pop());
    const open = ["ESTAB", "FIN-WAIT-1", "CLOSE-WAIT", "LAST-ACK", "CLOSING"];
    await waitFor(
      () => !socketsOn(port).some((k) => open.includes(k.state)),
      5000,
      "the kernel to finish both FIN exchanges",
    );
    assert.equal(s.remoteAddress, c.localAddress);
    assert.equal(s.localAddress, ln.address);
    await c.close();
    assert.equal(c.remoteAddress, ln.address, "after close() too");
  } finally {
    await c.close();
    await s.close();
    await ln.close();
  }
});

test("binding a Unix socket in a directory that does not exist raises FileNotFoundError (ENOENT)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sockit-nodir-"));
  const s = socket(AF_UNIX, SOCK_STREAM);
  try {
    const err = await rejectsOSError(
      s.bind(join(dir, "missing", "s.sock")),
      FileNotFoundError,
      "ENOENT",
      "bind",
    );
    assert.match(err.message, /does not exist/);
    assert.doesNotMatch(err.message, /port/);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dial("udp") sends from the localAddress and localPort it is given', async () => {
  const srv = await listenPacket("udp", "127.0.0.1:0");
  const probe = await listenPacket("udp", "127.0.0.1:0");
  const port = probe.port;
  await probe.close();
  const pc = await dial("udp", srv.localAddress, { localAddress: "127.0.0.1", localPort: port });
  try {
    await pc.write("hi");
    const p = await within(srv.readFrom(), 2000, "readFrom");
    assert.equal(p.address, `127.0.0.1:${port}`);
    await srv.writeTo("back", p.endpoint);
    assert.equal((await within(pc.read(), 2000, "read")).toString(), "back");
  } finally {
    await pc.close();
    await srv.close();
  }
});

test("abort() after close() and after closeWrite() still releases the connection", async () => {
  const ln = await listen("tcp", "127.0.0.1:0");
  try {
    for (const first of ["close", "closeWrite"] as const) {
      const c = await dial("tcp", ln.address);
      const s = await ln.accept();
      await c.write("unread"); // unread data at close: the kernel would reset anyway
      await c[first]();
      c.abort();
      s.abort();
      await s.close();
    }
  } finally {
    await ln.close();
  }
});
