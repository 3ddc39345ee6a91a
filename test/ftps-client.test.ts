/**
 * sockit's FTPS client (`sockit ftp --tls`, `FtpClient.connect(…, { tls })`) against pyftpdlib's
 * TLS_FTPHandler (a server nobody here wrote, TLS by pyOpenSSL) that requires TLS on control and
 * data connections and, as vsftpd's require_ssl_reuse does, drops a data connection that does
 * not resume the control connection's TLS session: ls, get and put in passive and active mode
 * work, every data connection resumed; without the CA the command exits 3.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FtpClient } from "../src/services/ftp/index.js";
import { needs, peerPath } from "./support/peers.js";
import { SOCKIT } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";
import { runToEnd, tlsFiles } from "./support/tls-fixture.js";

const LIMIT = { timeout: 60_000 };

/** pyftpdlib's TLS handler needs pyOpenSSL (Debian: python3-openssl). */
function pyftpdlibTLS(): string | false {
  const missing = needs(["pyftpdlib"]);
  if (missing !== false || process.env.SOCKIT_REQUIRE_PEERS === "1") return missing;
  const r = spawnSync(peerPath("pyftpdlib"), ["-c", "import OpenSSL"]);
  return r.status === 0 ? false : "pyftpdlib's TLS handler needs pyOpenSSL (apt-get install python3-openssl)";
}

const SERVER = `
import sys
from OpenSSL._util import lib
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import TLS_DTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer

root, cert, key = sys.argv[1:4]

class DTP(TLS_DTPHandler):
    def handle_ssl_established(self):
        reused = bool(lib.SSL_session_reused(self.socket._ssl))
        print("data-tls reused=%s" % reused, flush=True)
        if not reused:  # as vsftpd's require_ssl_reuse
            self.close()
            return
        super().handle_ssl_established()

class Handler(TLS_FTPHandler):
    dtp_handler = DTP
    certfile = cert
    keyfile = key
    tls_control_required = True
    tls_data_required = True

auth = DummyAuthorizer()
auth.add_user("bob", "pw", root, perm="elradfmwMT")
Handler.authorizer = auth
server = FTPServer(("127.0.0.1", 0), Handler)
print("listening %d" % server.address[1], flush=True)
server.serve_forever()
`;

describe("FTPS client against pyftpdlib TLS_FTPHandler", { skip: pyftpdlibTLS(), timeout: 240_000 }, () => {
  const files = tlsFiles("ftps-client");
  const root = join(files.dir, "root");
  const data = randomBytes(1024 * 1024 + 7);
  let py: Child;
  let url: string;
  before(async () => {
    mkdirSync(root);
    writeFileSync(join(root, "a.bin"), data);
    py = start(peerPath("pyftpdlib"), ["-c", SERVER, root, files.certFile, files.keyFile]);
    const [, port] = await py.line(/^listening (\d+)$/m, 15_000);
    url = `ftp://bob:pw@localhost:${port}`;
  });
  after(async () => {
    py?.kill("SIGKILL");
    await py?.exit(5000).catch(() => {});
    files.remove();
  });

  const reused = () =>
    (py.stdout().match(/^data-tls reused=(True|False)$/gm) ?? []).map((l) => l.endsWith("True"));
  const cli = (...args: string[]) => runToEnd(process.execPath, [SOCKIT, "ftp", ...args]);

  for (const mode of ["passive", "active"]) {
    test(
      `sockit ftp --tls --ca, ${mode}: ls, get, put; each data connection resumes the session`,
      LIMIT,
      async () => {
        const before = reused().length;
        const extra = ["--tls", "--ca", files.caFile, ...(mode === "active" ? ["--active"] : [])];
        const ls = await cli("ls", ...extra, `${url}/`);
        assert.equal(ls.code, 0, ls.stderr + py.stdout());
        assert.match(ls.stdout, / a\.bin\r?$/m);
        const out = join(files.dir, `got-${mode}.bin`);
        const get = await cli("get", ...extra, "--no-progress", "-o", out, `${url}/a.bin`);
        assert.equal(get.code, 0, get.stderr);
        assert.ok(readFileSync(out).equals(data), "the download differs");
        const up = join(files.dir, `up-${mode}.bin`);
        writeFileSync(up, data.subarray(0, 5000));
        const put = await cli("put", ...extra, "--no-progress", `${url}/`, up);
        assert.equal(put.code, 0, put.stderr);
        assert.ok(readFileSync(join(root, `up-${mode}.bin`)).equals(data.subarray(0, 5000)));
        assert.deepEqual(reused().slice(before), [true, true, true], py.stdout());
      },
    );
  }

  test("the library client reports the resumed data session", LIMIT, async () => {
    const ftp = await FtpClient.connect(url.replace(/^ftp:\/\/bob:pw@/, ""), {
      user: "bob",
      password: "pw",
      tls: { ca: files.ca.cert },
      timeout: 10_000,
    });
    try {
      assert.match(ftp.tls?.protocol ?? "", /^TLSv1\.[23]$/);
      assert.ok((await ftp.nlst()).includes("a.bin"));
      assert.equal(ftp.lastDataTLS?.resumed, true);
    } finally {
      await ftp.quit();
    }
  });

  test("without the CA: exit 3, the message names the unverified certificate", LIMIT, async () => {
    const r = await cli("ls", "--tls", `${url}/`);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /certificate verify failed/);
  });
});
