/**
 * The literal-destination fast path both faces share: which hosts it takes without a lookup
 * (Python's `ipaddress` and `inet_ntop` are the oracle for what is a literal and how it is
 * spelled) and what it remembers. test/literal-destination.test.ts sends through it from both
 * faces.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { OSError } from "../errors/index.js";
import { LiteralDestination, literalEndpoint } from "./destination.js";

const HOSTS = [
  "127.0.0.1",
  "10.1.2.3",
  "127.1",
  "01.2.3.4",
  "::1",
  "0:0:0:0:0:0:0:1",
  "2001:DB8:0:0::1",
  "::ffff:1.2.3.4",
  "fe80::1%lo",
  "localhost",
  "example.invalid",
  "1.2.3.4.5",
];

/** Python's answer per host: its canonical text if it is a plain IP literal, else "name". */
function pythonLiterals(hosts: string[]): string[] {
  const code = [
    "import ipaddress, socket, sys, json",
    "out = []",
    "for h in json.loads(sys.argv[1]):",
    "    try:",
    "        if '%' in h: raise ValueError",
    "        a = ipaddress.ip_address(h)",
    "        fam = socket.AF_INET if a.version == 4 else socket.AF_INET6",
    "        out.append(socket.inet_ntop(fam, socket.inet_pton(fam, h)))",
    "    except ValueError:",
    "        out.append('name')",
    "print(json.dumps(out))",
  ].join("\n");
  const text = execFileSync("python3", ["-c", code, JSON.stringify(hosts)], { timeout: 30_000 });
  return JSON.parse(text.toString()) as string[];
}

test("a host is taken without a lookup exactly when Python calls it an IP literal, spelled as inet_ntop", () => {
  const want = pythonLiterals(HOSTS);
  HOSTS.forEach((host, i) => {
    const ep = literalEndpoint(host, 9, 0);
    assert.equal(ep?.address ?? "name", want[i], host);
    if (ep) assert.equal(ep.family, ep.address.includes(":") ? 6 : 4, host);
  });
  // the other family is left to the resolver (which names the mismatch), as is port 0 refused
  assert.equal(literalEndpoint("::1", 9, 4), undefined);
  assert.equal(literalEndpoint("127.0.0.1", 9, 6), undefined);
  assert.throws(
    () => literalEndpoint("127.0.0.1", 0, 0),
    (e: unknown) => e instanceof OSError && e.code === "EINVAL" && /port 0/.test(e.message),
  );
});

test("the last literal destination is remembered under the face's own text; names are not", () => {
  const d = new LiteralDestination();
  assert.equal(d.get("127.0.0.1", 9), undefined);
  const ep = d.literal("127.0.0.1", 9, 0);
  assert.equal(d.get("127.0.0.1", 9), ep, "the same endpoint, not a new one");
  assert.equal(d.get("127.0.0.1", 10), undefined, "another port");
  assert.equal(d.literal("localhost", 9, 0), undefined);
  assert.equal(d.get("127.0.0.1", 9), ep, "a name leaves the last literal in place");
  const text = "[0:0::1]:9";
  const v6 = d.literal("0:0::1", 9, 0, text, -1);
  assert.equal(v6?.address, "::1");
  assert.equal(d.get(text, -1), v6);
  assert.equal(d.get("127.0.0.1", 9), undefined, "one entry");
});
