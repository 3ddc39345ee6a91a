/**
 * Helpers for UDP tests: kernel counters, the port a child process bound, pacing.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { waitFor } from "./kit.js";

/** Lets the event loop run I/O (so a receiver in this process drains the kernel buffer). */
export function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * The kernel's UDP receive-buffer error count for this network namespace (IPv4 + IPv6), from
 * /proc/net/snmp and /proc/net/snmp6: datagrams the kernel dropped because a socket's buffer was
 * full. Other processes can raise it too, so use it only to decide how strict an assertion can be.
 */
export function kernelUdpRcvbufErrors(): number {
  let n = 0;
  try {
    const lines = readFileSync("/proc/net/snmp", "utf8").split("\n");
    const head = lines.find((l) => l.startsWith("Udp: InDatagrams"));
    const vals = lines.find((l) => l.startsWith("Udp: ") && !l.startsWith("Udp: InDatagrams"));
    if (head && vals) {
      const i = head.split(/\s+/).indexOf("RcvbufErrors");
      n += Number(vals.split(/\s+/)[i] ?? 0);
    }
  } catch {
    // not Linux: counts as 0
  }
  try {
    const m = readFileSync("/proc/net/snmp6", "utf8").match(/^Udp6RcvbufErrors\s+(\d+)/m);
    if (m) n += Number(m[1]);
  } catch {
    // no IPv6 counters
  }
  return n;
}

/** The UDP ports bound by process `pid` (from its socket inodes and /proc/net/udp, udp6). */
export function udpPortsOf(pid: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
        if (m) inodes.add(m[1]!);
      } catch {
        // fd closed meanwhile
      }
    }
  } catch {
    return [];
  }
  const ports: number[] = [];
  for (const table of ["/proc/net/udp", "/proc/net/udp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      if (inodes.has(cols[9]!)) ports.push(Number.parseInt(cols[1]!.split(":")[1]!, 16));
    }
  }
  return ports.filter((p) => p > 0);
}

/** Waits (at most `ms`) until process `pid` has bound a UDP port, and returns it. */
export async function waitUdpPort(pid: number, ms = 5000): Promise<number> {
  let ports: number[] = [];
  await waitFor(() => (ports = udpPortsOf(pid)).length > 0, ms, `process ${pid} to bind a UDP port`);
  return ports[0]!;
}
