/**
 * The TLS flags shared by `connect` and `listen`, and the `cert` command: reading certificate
 * files, the `--insecure` warning, and a fresh self-signed certificate when `listen --tls` is
 * given none.
 *
 * @module
 */
import * as fs from "node:fs";
import type { Command } from "commander";
import { toSocketError } from "../errors/index.js";
import { createCertificate, dial, fingerprint, type TLSInfo, type TLSOptions } from "../net/index.js";
import type { CommandRegistry } from "./commands/registry.js";
import type { Context } from "./context.js";
import { UsageError } from "./exit.js";
import { addGlobalOptions } from "./globals.js";

/**
 * The TLS flags as commander parses them.
 * @example `const f: TLSFlags = { tls: true, ca: "ca.pem" }`
 */
export interface TLSFlags {
  readonly tls?: boolean;
  readonly ca?: string;
  readonly servername?: string;
  readonly insecure?: boolean;
  readonly cert?: string;
  readonly key?: string;
}

/** Reads a PEM file; a missing or unreadable one is an OSError naming the flag. */
function readPem(flag: string, file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw toSocketError(err, {
      op: "open",
      address: `${file} (${flag})`,
      hint: `cannot read ${flag} ${file}`,
    });
  }
}

/**
 * The client's TLS options from `--tls --ca --servername --insecure` (undefined without
 * `--tls`); `--insecure` prints a warning. UsageError for TLS flags without `--tls`.
 * @example `const tls = clientTLS({ tls: true, ca: "ca.pem" }, ctx)`
 */
export function clientTLS(f: TLSFlags, ctx: Context): TLSOptions | undefined {
  if (f.tls !== true) {
    if (f.ca !== undefined || f.servername !== undefined || f.insecure === true)
      throw new UsageError("--ca, --servername and --insecure need --tls");
    return undefined;
  }
  if (f.insecure === true) {
    ctx.warn(
      "--insecure: the server's certificate is NOT verified; anyone on the path can read and change this connection",
    );
  }
  return {
    ...(f.ca === undefined ? {} : { ca: readPem("--ca", f.ca) }),
    ...(f.servername === undefined ? {} : { serverName: f.servername }),
    ...(f.insecure === true ? { rejectUnauthorized: false } : {}),
  };
}

/**
 * The server's TLS options from `--tls --cert --key` (undefined without `--tls`). Without
 * `--cert`/`--key`: a fresh self-signed certificate for localhost, 127.0.0.1 and ::1, its
 * fingerprint printed on stderr.
 * @example `const tls = serverTLS({ tls: true }, ctx)`
 */
export function serverTLS(f: TLSFlags, ctx: Context): TLSOptions | undefined {
  if (f.tls !== true) {
    if (f.cert !== undefined || f.key !== undefined) throw new UsageError("--cert and --key need --tls");
    return undefined;
  }
  if ((f.cert === undefined) !== (f.key === undefined))
    throw new UsageError("give both --cert FILE and --key FILE");
  if (f.cert !== undefined && f.key !== undefined) {
    const cert = readPem("--cert", f.cert);
    ctx.info(`TLS certificate ${f.cert}, SHA-256 ${fingerprint(cert)}`);
    return { cert, key: readPem("--key", f.key) };
  }
  const c = createCertificate({ hosts: ["localhost", "127.0.0.1", "::1"], days: 30 });
  ctx.err(`sockit: TLS with a fresh self-signed certificate for localhost, SHA-256 ${c.fingerprint256}\n`);
  return { cert: c.cert, key: c.key };
}

/**
 * One line about a finished handshake, for `-v`.
 * @example `ctx.info(describeTLS(conn.tls!))`
 */
export function describeTLS(t: TLSInfo): string {
  const peer = t.chain[0];
  return `TLS ${t.protocol} ${t.cipher}${peer === undefined ? "" : `, peer certificate ${peer.subject} (issuer ${peer.issuer})`}${t.authorized ? "" : " — NOT verified"}`;
}

/**
 * `sockit info --tls HOST:PORT`: connects (without rejecting what does not verify), then prints
 * the protocol, the cipher, whether and why not the certificate verifies (with `--ca`,
 * `--servername` as for connect), and the chain: subjects, issuers, validity, SANs, fingerprints
 * — the `openssl s_client` job, readable. `--json` gives the same as one object.
 * @example `await runTLSInfo("localhost:443", { ca: "ca.pem" }, ctx)`
 */
export async function runTLSInfo(target: string, f: TLSFlags, ctx: Context): Promise<number> {
  const extra = clientTLS(
    {
      tls: true,
      ...(f.ca === undefined ? {} : { ca: f.ca }),
      ...(f.servername === undefined ? {} : { servername: f.servername }),
    },
    ctx,
  )!;
  const conn = await dial("tcp", target, { timeout: 10_000, tls: { ...extra, rejectUnauthorized: false } });
  const t = conn.tls!;
  // a wrong host name is not an OpenSSL verify error: check the name as a verifying dial would
  let nameError: string | undefined;
  const host = f.servername ?? /^\[?([^\]]*?)\]?:[^:]+$/.exec(target)?.[1];
  if (host !== undefined && t.chain[0] !== undefined) {
    const { X509Certificate } = await import("node:crypto");
    const x = new X509Certificate(t.chain[0].raw);
    const ok = /^[\d.]+$|:/.test(host) ? x.checkIP(host) !== undefined : x.checkHost(host) !== undefined;
    if (!ok) nameError = `wrong host name: the certificate is not for ${host}`;
  }
  await conn.close();
  const verified = t.verifyError === undefined && nameError === undefined;
  const why = t.verifyError ?? nameError;
  const out = ctx.io.stdout;
  if (ctx.opts.json) {
    out.write(`${JSON.stringify({ ...t, chain: t.chain.map(({ raw: _raw, ...c }) => c), verified, verifyError: why ?? null })}
`);
    return 0;
  }
  out.write(`protocol: ${t.protocol}
cipher:   ${t.cipher} (${t.bits} bits)
`);
  if (t.alpn !== undefined)
    out.write(`alpn:     ${t.alpn}
`);
  out.write(`verified: ${verified ? "yes" : `no — ${why}`}
`);
  out.write(`chain (${t.chain.length}):
`);
  t.chain.forEach((c, i) => {
    out.write(`  ${i} subject:  ${c.subject}
`);
    out.write(`    issuer:   ${c.issuer}
`);
    out.write(`    valid:    ${c.validFrom.toISOString()} .. ${c.validTo.toISOString()}${c.validTo.getTime() < Date.now() ? "  (EXPIRED)" : ""}
`);
    if (c.subjectAltNames.length > 0)
      out.write(`    SANs:     ${c.subjectAltNames.join(", ")}
`);
    out.write(`    SHA-256:  ${c.fingerprint256}
`);
  });
  return 0;
}

/** Flags of `cert create`. */
interface CertFlags {
  readonly host?: string[];
  readonly cert?: string;
  readonly key?: string;
  readonly days?: string;
}

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

/**
 * Adds `cert create` to the program.
 * @example `registerCert(program, reg)`
 */
export function registerCert(program: Command, reg: CommandRegistry): void {
  const cert = program.command("cert").description("certificates for local use");
  const create = addGlobalOptions(cert.command("create"))
    .description("make a self-signed certificate and key (PEM)")
    .option(
      "--host <name>",
      "a host name or address the certificate is for (repeatable; default localhost)",
      collect,
    )
    .option("--cert <file>", "write the certificate here", "cert.pem")
    .option("--key <file>", "write the private key here (mode 600)", "key.pem")
    .option("--days <n>", "valid for N days", "365")
    .addHelpText(
      "after",
      `
Examples:
  sockit cert create --host localhost
  sockit listen --tls --cert cert.pem --key key.pem 8443
  sockit connect --tls --ca cert.pem localhost 8443`,
    );
  create.action((flags: CertFlags) => {
    reg.choose(create, async (ctx) => {
      const days = Number(flags.days ?? "365");
      if (!Number.isInteger(days) || days < 1 || days > 36500)
        throw new UsageError(`--days must be 1..36500, got ${flags.days}`);
      const c = createCertificate({ hosts: flags.host ?? ["localhost"], days });
      const certFile = flags.cert ?? "cert.pem";
      const keyFile = flags.key ?? "key.pem";
      try {
        fs.writeFileSync(certFile, c.cert);
        fs.writeFileSync(keyFile, c.key, { mode: 0o600 });
      } catch (err) {
        throw toSocketError(err, { op: "open", hint: `cannot write ${certFile} or ${keyFile}` });
      }
      ctx.err(
        `sockit: wrote ${certFile} and ${keyFile} for ${(flags.host ?? ["localhost"]).join(", ")}\nSHA-256 ${c.fingerprint256}\n`,
      );
      return 0;
    });
  });
}
