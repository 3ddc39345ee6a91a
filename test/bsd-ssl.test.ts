// Python's ssl names in the Berkeley face, against Python's own ssl module both ways.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import {
  AF_INET,
  CERT_NONE,
  create_default_context,
  Purpose,
  SOCK_STREAM,
  socket,
  SSLCertVerificationError,
  OSError,
} from "../src/bsd/index.js";
import { createCertificate } from "../src/core/cert.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sockit-ssl-"));
const cert = createCertificate({ hosts: ["localhost", "127.0.0.1"] });
const certFile = path.join(dir, "cert.pem");
const keyFile = path.join(dir, "key.pem");
fs.writeFileSync(certFile, cert.cert);
fs.writeFileSync(keyFile, cert.key, { mode: 0o600 });
const procs = new Set<ChildProcess>();

function python(
  code: string,
  ...args: string[]
): { p: ChildProcess; line: Promise<string>; out: () => string } {
  const p = spawn("python3", ["-c", code, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  procs.add(p);
  p.once("close", () => procs.delete(p));
  let out = "";
  const line = new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`python printed nothing: ${out}`)), 5000);
    p.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) {
        clearTimeout(t);
        resolve(out.split("\n")[0]!);
      }
    });
    p.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  });
  return { p, line, out: () => out };
}
const exited = (p: ChildProcess) =>
  p.exitCode !== null ? Promise.resolve() : new Promise<void>((r) => p.once("close", () => r()));

describe("bsd ssl", { timeout: 60_000 }, () => {
  after(async () => {
    for (const p of procs) {
      p.kill();
      await exited(p);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test(
    "create_default_context + wrap_socket → Python's ssl server: version, cipher, getpeercert",
    { timeout: 15_000 },
    async () => {
      const py = python(
        `import socket,ssl,sys
ctx=ssl.create_default_context(ssl.Purpose.CLIENT_AUTH); ctx.load_cert_chain(sys.argv[1], sys.argv[2])
l=socket.create_server(("127.0.0.1",0)); print(l.getsockname()[1], flush=True)
for i in range(2):
    c,_=l.accept()
    try:
        s=ctx.wrap_socket(c, server_side=True); s.sendall(s.recv(100).upper()); s.close()
    except ssl.SSLError: c.close()`,
        certFile,
        keyFile,
      );
      const port = Number(await py.line);
      // not trusted yet: Python's SSLCertVerificationError, with Python's verify_code
      const s0 = socket(AF_INET, SOCK_STREAM);
      await s0.connect(["127.0.0.1", port]);
      await assert.rejects(
        create_default_context().wrap_socket(s0, { server_hostname: "localhost" }),
        (e: unknown) => {
          assert.ok(e instanceof SSLCertVerificationError && e instanceof OSError, String(e));
          assert.equal(e.verify_code, 18);
          return true;
        },
      );
      await s0.close();

      const ctx = create_default_context(Purpose.SERVER_AUTH, { cafile: certFile });
      const s = socket(AF_INET, SOCK_STREAM);
      await s.connect(["127.0.0.1", port]);
      const ss = await ctx.wrap_socket(s, { server_hostname: "localhost" });
      await ss.do_handshake();
      assert.equal(ss.version(), "TLSv1.3");
      assert.deepEqual(ss.cipher(), ["TLS_AES_256_GCM_SHA384", "TLSv1.3", 256]);
      const pc = ss.getpeercert() as {
        subject: string;
        subjectAltName: ReadonlyArray<readonly [string, string]>;
      };
      assert.match(pc.subject, /CN=localhost/);
      assert.deepEqual(pc.subjectAltName[0], ["DNS", "localhost"]);
      await ss.sendall(Buffer.from("hello"));
      assert.equal((await ss.recv(100)).toString(), "HELLO");
      assert.equal((await ss.recv(100)).length, 0);
      await assert.rejects(ss.unwrap(), (e: unknown) => e instanceof OSError && e.code === "EOPNOTSUPP");
      await ss.close();
      await exited(py.p);
    },
  );

  test(
    "a listening SSLSocket ← Python's ssl client; CERT_NONE needs check_hostname off",
    { timeout: 15_000 },
    async () => {
      const ctx = create_default_context(Purpose.CLIENT_AUTH);
      ctx.load_cert_chain(certFile, keyFile);
      const l = socket(AF_INET, SOCK_STREAM);
      await l.bind(["127.0.0.1", 0]);
      await l.listen();
      const ls = await ctx.wrap_socket(l, { server_side: true });
      const port = (l.getsockname() as [string, number])[1];
      const py = python(
        `import socket,ssl,sys
ctx=ssl.create_default_context(cafile=sys.argv[1])
s=ctx.wrap_socket(socket.create_connection(("127.0.0.1",int(sys.argv[2]))), server_hostname="localhost")
s.sendall(b"py"); print(s.recv(100).decode(), s.version(), flush=True); s.close()`,
        certFile,
        String(port),
      );
      const [conn] = await ls.accept();
      assert.equal(conn.version(), "TLSv1.3");
      assert.equal((await conn.recv(10)).toString(), "py");
      await conn.sendall(Buffer.from("sockit"));
      assert.equal(await py.line, "sockit TLSv1.3");
      await conn.close();
      await ls.close();
      await exited(py.p);

      const c = create_default_context();
      c.verify_mode = CERT_NONE;
      const s = socket(AF_INET, SOCK_STREAM);
      await assert.rejects(c.wrap_socket(s), (e: unknown) => e instanceof OSError && e.code === "EINVAL");
      await s.close();
    },
  );
});
