/**
 * Two network namespaces joined by a veth cable, for tests that need a link that drops packets
 * (a firewall that silently eats SYNs), which loopback cannot do. Needs root, `ip` and `nft`;
 * {@link netnsSkipReason} says why a test must skip otherwise.
 *
 * The client namespace has 198.51.100.1 and 2001:db8::1, the server namespace 198.51.100.2 and
 * 2001:db8::2 (documentation ranges), each with a permanent neighbour entry for the other (a loss
 * rule must not make ARP fail and a connect end in EHOSTUNREACH). While the pair exists, the root namespace has
 * `unreachable` routes for both ranges, so a command run outside the namespaces by mistake fails
 * instead of leaving the machine. Names carry the process id: parallel test files do not collide.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { needs, peerPath } from "./peers.js";

const RUN_MS = 10_000;

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, {
    encoding: "utf8",
    timeout: RUN_MS,
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    ...(input === undefined ? {} : { input }),
  });
}

/**
 * Why namespace tests cannot run here (not root, `ip` or `nft` missing), or undefined.
 * @example `test("…", { skip: netnsSkipReason() }, async () => { … })`
 */
export function netnsSkipReason(): string | undefined {
  if (process.platform !== "linux") return "network namespaces are a Linux feature";
  if (process.getuid?.() !== 0) return "creating network namespaces needs root";
  // through the peers module: SOCKIT_HIDE_PEERS hides them, SOCKIT_REQUIRE_PEERS forbids the skip
  return needs(["ip", "nft"]) || undefined;
}

/**
 * A client namespace and a server namespace on one veth cable.
 * @example `const [cmd, args] = pair.argv(pair.client, ["ping", "-c1", pair.serverV4])`
 */
export interface NetnsPair {
  /** The client namespace's name (run commands there with {@link NetnsPair.argv}). */
  readonly client: string;
  /** The server namespace's name. */
  readonly server: string;
  /** The server's addresses, as a client in `client` reaches them. */
  readonly serverV4: "198.51.100.2";
  readonly serverV6: "2001:db8::2";
  /** `["ip", "netns", "exec", ns, ...cmd]` split into command and arguments for spawn(). */
  argv(ns: string, cmd: string[]): [string, string[]];
  /** The server namespace silently drops every TCP packet to `port` (IPv4 and IPv6). */
  dropTcpPort(port: number): void;
  /**
   * Switches off TSO, GSO and GRO on both veth ends (with `ethtool`, a peer: guard the test with
   * `needs(["ethtool"])`), so a loss rule drops wire-sized packets, not 64 KB aggregates.
   */
  noOffloads(): void;
  /**
   * The `side` namespace (default the server's) drops `percent` % of all packets arriving on its
   * veth, at random (nftables `numgen random` at the netdev ingress hook). `dropped()` reads the
   * rule's counter; `remove()` deletes the rule (idempotent; `close()` removes it with the
   * namespace anyway).
   */
  randomLoss(percent: number, side?: "client" | "server"): { dropped(): number; remove(): void };
  /** Deletes both namespaces (and the guard routes this pair added). Idempotent. */
  close(): void;
}

const V4 = "198.51.100.0/24";
const V6 = "2001:db8::/64";

/**
 * Adds an `unreachable` guard route unless one is there; true when this call added it. Test files
 * run in parallel: another pair may add the same route between a check and an add, so the add
 * itself is the check ("File exists" means someone else's guard is in place).
 */
function guard(family: "-4" | "-6", prefix: string): boolean {
  const r = spawnSync("ip", [family, "route", "add", "unreachable", prefix], {
    encoding: "utf8",
    timeout: RUN_MS,
  });
  if (r.status === 0) return true;
  if (/File exists/.test(r.stderr ?? "")) return false;
  throw new Error(
    `ip ${family} route add unreachable ${prefix}: ${r.stderr || r.error?.message || r.status}`,
  );
}

/**
 * Creates the pair; the caller must call `close()` (in `finally` / `after`).
 * @example
 * ```ts
 * const ns = netnsPair();
 * try { ns.dropTcpPort(9); const [cmd, args] = ns.argv(ns.client, ["nc", ns.serverV4, "9"]); … }
 * finally { ns.close(); }
 * ```
 */
export function netnsPair(): NetnsPair {
  const tag = `sk${process.pid}`;
  const client = `${tag}c`;
  const server = `${tag}s`;
  const ours: Array<["-4" | "-6", string]> = [];
  const [vc, vs] = [`${tag}vc`, `${tag}vs`];
  let losses = 0;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    for (const ns of [client, server])
      spawnSync("ip", ["netns", "del", ns], { stdio: "ignore", timeout: RUN_MS });
    for (const [family, prefix] of ours) {
      spawnSync("ip", [family, "route", "del", "unreachable", prefix], { stdio: "ignore", timeout: RUN_MS });
    }
  };
  try {
    if (guard("-4", V4)) ours.push(["-4", V4]);
    if (guard("-6", V6)) ours.push(["-6", V6]);
    run("ip", ["netns", "add", client]);
    run("ip", ["netns", "add", server]);
    run("ip", ["link", "add", vc, "netns", client, "type", "veth", "peer", "name", vs, "netns", server]);
    for (const [ns, dev, host] of [
      [client, vc, "1"],
      [server, vs, "2"],
    ] as const) {
      run("ip", ["-n", ns, "addr", "add", `198.51.100.${host}/24`, "dev", dev]);
      run("ip", ["-n", ns, "addr", "add", `2001:db8::${host}/64`, "dev", dev, "nodad"]);
      run("ip", ["-n", ns, "link", "set", "lo", "up"]);
      run("ip", ["-n", ns, "link", "set", dev, "up"]);
    }
    // Permanent neighbour entries: with a loss rule on the link, ARP and neighbour discovery
    // would be dropped too, and a connect could fail with EHOSTUNREACH (three lost probes)
    // before a single TCP segment is sent; the tests are about loss of data, not of ARP.
    const mac = (ns: string, dev: string): string =>
      (JSON.parse(run("ip", ["-j", "-n", ns, "link", "show", "dev", dev])) as Array<{ address: string }>)[0]!
        .address;
    for (const [ns, dev, peer, peerDev, host] of [
      [client, vc, server, vs, "2"],
      [server, vs, client, vc, "1"],
    ] as const) {
      const lladdr = mac(peer, peerDev);
      for (const ip of [`198.51.100.${host}`, `2001:db8::${host}`])
        run("ip", ["-n", ns, "neigh", "replace", ip, "lladdr", lladdr, "dev", dev, "nud", "permanent"]);
    }
  } catch (err) {
    close();
    throw err;
  }
  return {
    client,
    server,
    serverV4: "198.51.100.2",
    serverV6: "2001:db8::2",
    argv: (ns, cmd) => ["ip", ["netns", "exec", ns, ...cmd]],
    dropTcpPort: (port) => {
      run("ip", [
        "netns",
        "exec",
        server,
        "nft",
        "add table inet sockit_drop; " +
          "add chain inet sockit_drop in { type filter hook input priority 0; policy accept; }; " +
          `add rule inet sockit_drop in tcp dport ${port} counter drop`,
      ]);
    },
    noOffloads: () => {
      for (const [ns, dev] of [
        [client, vc],
        [server, vs],
      ] as const)
        run("ip", [
          "netns",
          "exec",
          ns,
          peerPath("ethtool"),
          "-K",
          dev,
          "tso",
          "off",
          "gso",
          "off",
          "gro",
          "off",
        ]);
    },
    randomLoss: (percent, side = "server") => {
      const [ns, dev] = side === "server" ? [server, vs] : [client, vc];
      const table = `sockit_loss${++losses}`;
      const permille = Math.round(percent * 10);
      run(
        "ip",
        ["netns", "exec", ns, "nft", "-f", "-"],
        `table netdev ${table} {
  chain in {
    type filter hook ingress device "${dev}" priority 0; policy accept;
    numgen random mod 1000 < ${permille} counter drop
  }
}
`,
      );
      let removed = false;
      return {
        dropped: () => {
          const out = run("ip", ["netns", "exec", ns, "nft", "list", "table", "netdev", table]);
          return Number(/counter packets (\d+)/.exec(out)?.[1] ?? NaN);
        },
        remove: () => {
          if (removed) return;
          removed = true;
          spawnSync("ip", ["netns", "exec", ns, "nft", "delete", "table", "netdev", table], {
            stdio: "ignore",
            timeout: RUN_MS,
          });
        },
      };
    },
    close,
  };
}
