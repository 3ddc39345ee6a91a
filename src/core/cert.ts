/**
 * Certificates for local use: a self-signed certificate and key (or one signed by a CA made the
 * same way), built with node-forge (a maintained X.509 library), never by hand. The RSA key is
 * made by node:crypto (fast); node-forge writes and signs the certificate. node-forge loads on
 * first use only.
 *
 * @module
 */
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { isIP } from "node:net";
import { argTypeError } from "../errors/index.js";

/** The parts of node-forge used here (it ships no types). */
interface ForgeCert {
  publicKey: unknown;
  serialNumber: string;
  validity: { notBefore: Date; notAfter: Date };
  setSubject(attrs: ReadonlyArray<{ name: string; value: string }>): void;
  setIssuer(attrs: ReadonlyArray<{ name: string; value: string }>): void;
  setExtensions(exts: readonly object[]): void;
  sign(key: unknown, md: unknown): void;
}
interface Forge {
  pki: {
    createCertificate(): ForgeCert;
    privateKeyFromPem(pem: string): unknown;
    publicKeyFromPem(pem: string): unknown;
    certificateFromPem(
      pem: string,
    ): ForgeCert & { subject: { attributes: Array<{ name: string; value: string }> } };
    certificateToPem(c: ForgeCert): string;
  };
  md: { sha256: { create(): unknown } };
}

let forge: Forge | undefined;
function lib(): Forge {
  forge ??= createRequire(import.meta.url)("node-forge") as Forge;
  return forge;
}

/**
 * Options of {@link createCertificate}.
 * @example `const o: CertOptions = { hosts: ["localhost", "127.0.0.1"], days: 30 };`
 */
export interface CertOptions {
  /** Host names and IP addresses the certificate is for (SANs; the first is the CN). Default localhost. */
  readonly hosts?: readonly string[];
  /** Valid for this many days from now (default 365). */
  readonly days?: number;
  /** Not valid before this time (default: a minute ago); with `notAfter`, for expired test certificates. */
  readonly notBefore?: Date;
  /** Not valid after this time (overrides `days`). */
  readonly notAfter?: Date;
  /** Make a CA certificate (it may sign others). */
  readonly ca?: boolean;
  /** Sign with this CA (from an earlier call with `ca: true`) instead of self-signing. */
  readonly issuer?: Certificate;
  /** RSA key size (default 2048). */
  readonly bits?: number;
}

/**
 * A certificate and its private key, PEM.
 * @example `fs.writeFileSync("cert.pem", c.cert); fs.writeFileSync("key.pem", c.key, { mode: 0o600 });`
 */
export interface Certificate {
  /** The certificate, PEM. */
  readonly cert: string;
  /** Its private key (PKCS#8), PEM. */
  readonly key: string;
  /** SHA-256 fingerprint of the certificate, colon-separated hex (as `openssl x509 -fingerprint -sha256`). */
  readonly fingerprint256: string;
}

/**
 * Makes a certificate for `hosts`: self-signed by default, or signed by `issuer`. Names go in
 * as DNS SANs, addresses as IP SANs; the result verifies with Node, OpenSSL, Python and curl
 * when its CA (itself, for a self-signed one) is trusted.
 *
 * @example
 * ```ts
 * const { cert, key, fingerprint256 } = createCertificate({ hosts: ["localhost", "127.0.0.1"] });
 * const ln = await listen("tcp", "127.0.0.1:0", { tls: { cert, key } });
 * ```
 */
export function createCertificate(opts: CertOptions = {}): Certificate {
  if (opts === null || typeof opts !== "object") throw argTypeError("opts", "an options object", opts);
  const hosts = opts.hosts ?? ["localhost"];
  if (!Array.isArray(hosts) || hosts.length === 0 || !hosts.every((h) => typeof h === "string" && h !== ""))
    throw argTypeError("hosts", "a non-empty array of host names or addresses", hosts);
  const f = lib();
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: opts.bits ?? 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const c = f.pki.createCertificate();
  c.publicKey = f.pki.publicKeyFromPem(publicKey);
  c.serialNumber = `01${randomBytes(15).toString("hex")}`; // positive, unique
  const notBefore = opts.notBefore ?? new Date(Date.now() - 60_000);
  c.validity.notBefore = notBefore;
  c.validity.notAfter = opts.notAfter ?? new Date(notBefore.getTime() + (opts.days ?? 365) * 86_400_000);
  const subject = [
    { name: "commonName", value: opts.ca === true ? `sockit local CA ${hosts[0]}` : hosts[0]! },
  ];
  c.setSubject(subject);
  let signer: unknown = f.pki.privateKeyFromPem(privateKey);
  if (opts.issuer !== undefined) {
    const ic = f.pki.certificateFromPem(opts.issuer.cert);
    c.setIssuer(ic.subject.attributes.map((a) => ({ name: a.name, value: a.value })));
    signer = f.pki.privateKeyFromPem(opts.issuer.key);
  } else {
    c.setIssuer(subject);
  }
  const exts: object[] = [
    { name: "basicConstraints", cA: opts.ca === true, critical: true },
    opts.ca === true
      ? { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
      : { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ];
  if (opts.ca !== true) {
    exts.push({ name: "extKeyUsage", serverAuth: true, clientAuth: true });
    exts.push({
      name: "subjectAltName",
      altNames: hosts.map((h) => (isIP(h) !== 0 ? { type: 7, ip: h } : { type: 2, value: h })),
    });
  }
  c.setExtensions(exts);
  c.sign(signer, f.md.sha256.create());
  const cert = f.pki.certificateToPem(c);
  return { cert, key: privateKey, fingerprint256: fingerprint(cert) };
}

/**
 * SHA-256 fingerprint of a PEM certificate, colon-separated upper-case hex.
 * @example `fingerprint(fs.readFileSync("cert.pem", "utf8")) // "3A:1F:…"`
 */
export function fingerprint(pem: string): string {
  const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const hex = createHash("sha256").update(Buffer.from(b64, "base64")).digest("hex").toUpperCase();
  return hex.match(/../g)!.join(":");
}
