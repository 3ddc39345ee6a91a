/**
 * The system programs the interop tests talk to (netcat, ncat, socat, xinetd, rdate, …) are
 * optional: a test that needs one that is missing is skipped, with the reason and the Debian
 * package that brings it. Python 3 is not one of them: it is required everywhere.
 *
 * - `needs(["socat"])` is what node:test's `skip` option wants: `false` (run the test) or the
 *   reason (`"socat not installed (apt-get install socat)"`).
 * - `peerPath("socat")` is the program's resolved path, for spawning it. It throws the same reason
 *   when the program is missing, so a test that runs anyway fails with that message.
 * - `SOCKIT_REQUIRE_PEERS=1`: `needs()` never skips; the test runs and fails in `peerPath()` with
 *   the reason (CI sets it, so every interop is proven there).
 * - `SOCKIT_HIDE_PEERS=nc,socat` (or `all`): those programs count as missing even when installed,
 *   to see what a machine without them runs.
 *
 * Programs are looked up on PATH, then in /usr/sbin and /sbin (where Debian puts rdate, xinetd,
 * nft and ip, which a user's PATH often lacks).
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * Each optional peer program and the Debian package that installs it.
 *
 * @example
 * ```ts
 * PEER_PACKAGES.nc; // "netcat-openbsd"
 * ```
 */
export const PEER_PACKAGES = {
  nc: "netcat-openbsd",
  ncat: "ncat",
  socat: "socat",
  xinetd: "xinetd",
  rdate: "rdate",
  nft: "nftables",
  ip: "iproute2",
  ss: "iproute2",
  tc: "iproute2",
  ethtool: "ethtool",
  curl: "curl",
  wget: "wget",
  ngircd: "ngircd",
  "weechat-headless": "weechat-headless",
  irssi: "irssi",
  tmux: "tmux",
  "redis-server": "redis-server",
  lftp: "lftp",
  swaks: "swaks",
  nginx: "nginx",
  wrk: "wrk",
  chromium: "chromium",
  openssl: "openssl",
  pyftpdlib: "python3-pyftpdlib",
  aiosmtpd: "python3-aiosmtpd",
} as const;

/**
 * Peers that are Debian's Python modules rather than programs: found when Debian's python3 can
 * import them from its dist-packages; {@link peerPath} then answers `/usr/bin/python3`, to run as
 * `python3 -m MODULE`.
 */
const PYTHON_MODULES: ReadonlySet<string> = new Set(["pyftpdlib", "aiosmtpd"]);
const DEBIAN_PYTHON = "/usr/bin/python3";
const DIST_PACKAGES = "/usr/lib/python3/dist-packages";

/**
 * The name of an optional peer program (a key of {@link PEER_PACKAGES}).
 *
 * @example
 * ```ts
 * const p: PeerProgram = "socat";
 * ```
 */
export type PeerProgram = keyof typeof PEER_PACKAGES;

/**
 * Where the environment comes from (default `process.env`): PATH, SOCKIT_HIDE_PEERS and
 * SOCKIT_REQUIRE_PEERS are read from it on each call.
 *
 * @example
 * ```ts
 * needs(["nc"], { env: { PATH: "/usr/bin", SOCKIT_HIDE_PEERS: "nc" } }); // the reason
 * ```
 */
export interface PeerOptions {
  env?: NodeJS.ProcessEnv;
}

/** Directories searched after PATH. */
const SBIN = ["/usr/sbin", "/sbin"];

function isPeer(name: string): name is PeerProgram {
  return Object.hasOwn(PEER_PACKAGES, name);
}

/** The programs SOCKIT_HIDE_PEERS hides; throws on a name that is not a peer (a typo hides nothing). */
function hidden(env: NodeJS.ProcessEnv): Set<PeerProgram> {
  const names = (env.SOCKIT_HIDE_PEERS ?? "")
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.includes("all")) return new Set(Object.keys(PEER_PACKAGES) as PeerProgram[]);
  for (const n of names) {
    if (!isPeer(n)) {
      throw new Error(
        `SOCKIT_HIDE_PEERS: "${n}" is not a peer program; use "all" or some of: ${Object.keys(PEER_PACKAGES).join(", ")}`,
      );
    }
  }
  return new Set(names as PeerProgram[]);
}

/** True when SOCKIT_REQUIRE_PEERS asks for missing peers to fail rather than skip. */
function required(env: NodeJS.ProcessEnv): boolean {
  const v = (env.SOCKIT_REQUIRE_PEERS ?? "").trim().toLowerCase();
  return v !== "" && v !== "0" && v !== "false" && v !== "no";
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The program's path on PATH, /usr/sbin or /sbin (ignoring SOCKIT_HIDE_PEERS), or undefined. */
function lookup(program: string, env: NodeJS.ProcessEnv): string | undefined {
  if (PYTHON_MODULES.has(program)) {
    try {
      return executable(DEBIAN_PYTHON) && statSync(join(DIST_PACKAGES, program)).isDirectory()
        ? DEBIAN_PYTHON
        : undefined;
    } catch {
      return undefined;
    }
  }
  const dirs = (env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const dir of [...dirs, ...SBIN]) {
    const path = join(dir, program);
    if (executable(path)) return path;
  }
  return undefined;
}

function check(programs: readonly string[]): asserts programs is readonly PeerProgram[] {
  for (const p of programs) {
    if (!isPeer(p)) {
      throw new Error(
        `"${p}" is not an optional peer (python3 is required, never skipped); known: ${Object.keys(PEER_PACKAGES).join(", ")}`,
      );
    }
  }
}

/**
 * Why these programs cannot be used here, or undefined when all can: `"nc, socat not installed
 * (apt-get install netcat-openbsd socat)"`, with `[hidden by SOCKIT_HIDE_PEERS: …]` appended
 * when some are installed but hidden. Does not look at SOCKIT_REQUIRE_PEERS.
 *
 * @example
 * ```ts
 * missingPeers(["socat"]); // undefined where socat is installed
 * ```
 */
export function missingPeers(
  programs: readonly PeerProgram[],
  options: PeerOptions = {},
): string | undefined {
  check(programs);
  const env = options.env ?? process.env;
  const hide = hidden(env);
  const absent: PeerProgram[] = [];
  const hid: PeerProgram[] = [];
  for (const p of new Set(programs)) {
    if (hide.has(p)) {
      absent.push(p);
      if (lookup(p, env) !== undefined) hid.push(p);
    } else if (lookup(p, env) === undefined) absent.push(p);
  }
  if (absent.length === 0) return undefined;
  const packages = [...new Set(absent.map((p) => PEER_PACKAGES[p]))];
  const note = hid.length > 0 ? ` [hidden by SOCKIT_HIDE_PEERS: ${hid.join(", ")}]` : "";
  return `${absent.join(", ")} not installed (apt-get install ${packages.join(" ")})${note}`;
}

/**
 * node:test's `skip` option for a test or describe that spawns these programs: `false` when all
 * are here (or when SOCKIT_REQUIRE_PEERS=1: then the test runs, and {@link peerPath} fails it
 * with the reason), else the reason, e.g. `"socat not installed (apt-get install socat)"`.
 *
 * @example
 * ```ts
 * test("sockit connect → socat", { timeout: 10_000, skip: needs(["socat"]) }, async () => {
 *   const c = start(peerPath("socat"), ["-u", "TCP-LISTEN:0,bind=127.0.0.1", "STDOUT"]);
 *   // …
 * });
 * ```
 */
export function needs(programs: readonly PeerProgram[], options: PeerOptions = {}): false | string {
  const reason = missingPeers(programs, options);
  if (reason === undefined || required(options.env ?? process.env)) return false;
  return reason;
}

/**
 * The path to spawn `program` by (found on PATH, /usr/sbin or /sbin), so no test hard-codes
 * `/usr/sbin/rdate`. Throws an Error with {@link needs}'s reason when the program is missing or
 * hidden by SOCKIT_HIDE_PEERS: under SOCKIT_REQUIRE_PEERS=1 that is how a guarded test fails.
 *
 * @example
 * ```ts
 * const r = spawn(peerPath("rdate"), ["-p", "-o", String(port), "127.0.0.1"]);
 * ```
 */
export function peerPath(program: PeerProgram, options: PeerOptions = {}): string {
  const env = options.env ?? process.env;
  const reason = missingPeers([program], options);
  if (reason !== undefined) {
    const why = required(env) ? "; SOCKIT_REQUIRE_PEERS=1 makes a missing peer a failure" : "";
    throw new Error(`${reason}${why}`);
  }
  return lookup(program, env)!;
}
