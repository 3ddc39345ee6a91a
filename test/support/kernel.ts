/**
 * What the kernel holds for sockets, for tests that bound it: `/proc/net/sockstat` (machine-wide
 * TCP orphans and memory pages) and `ss` (each socket on one local port: its state, queues, memory
 * and whether a process still owns it — a socket no process owns is an orphan). Where `ss` is
 * missing (no iproute2) or hidden (SOCKIT_HIDE_PEERS), /proc/net/tcp and tcp6 answer instead:
 * the same states, queues and owner (an orphan's inode is 0); memory is then the queued bytes.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { needs } from "./peers.js";

/** The TCP line of /proc/net/sockstat. */
export interface SockStat {
  readonly inuse: number;
  readonly orphan: number;
  /** Pages of TCP socket memory, machine-wide (what tcp_mem limits). */
  readonly memPages: number;
}

/** Reads the TCP line of /proc/net/sockstat. */
export function sockstat(): SockStat {
  const line = /^TCP: (.*)$/m.exec(readFileSync("/proc/net/sockstat", "utf8"))?.[1] ?? "";
  const field = (name: string) => Number(new RegExp(`\\b${name} (\\d+)`).exec(line)?.[1] ?? NaN);
  return { inuse: field("inuse"), orphan: field("orphan"), memPages: field("mem") };
}

/** One TCP socket as `ss -tanmp` shows it. */
export interface KernelSocket {
  readonly state: string;
  readonly recvQ: number;
  readonly sendQ: number;
  readonly local: string;
  readonly peer: string;
  /** A process holds a descriptor for it (false: an orphan). */
  readonly owned: boolean;
  /** Bytes received and queued (skmem r). */
  readonly rmem: number;
  /** Bytes queued for sending, with overhead (skmem w). */
  readonly wqueued: number;
}

/** Every TCP socket (listeners included) whose local port is `port`, in the caller's namespace. */
export function socketsOn(port: number): KernelSocket[] {
  if (needs(["ss"]) !== false) return procSocketsOn(port);
  const out = execFileSync("ss", ["-tanmpH", `sport = :${port}`], { encoding: "utf8" });
  const sockets: KernelSocket[] = [];
  let head: string | undefined;
  for (const line of out.split("\n")) {
    if (line.trim() === "") continue;
    if (!/^\s/.test(line)) {
      head = line;
      continue;
    }
    if (head === undefined) continue;
    const [state = "", recvQ = "0", sendQ = "0", local = "", peer = ""] = head.trim().split(/\s+/);
    const mem = (k: string) => Number(new RegExp(`[(,]${k}(\\d+)`).exec(line)?.[1] ?? 0);
    sockets.push({
      state,
      recvQ: Number(recvQ),
      sendQ: Number(sendQ),
      local,
      peer,
      owned: head.includes("users:"),
      rmem: mem("r"),
      wqueued: mem("w"),
    });
    head = undefined;
  }
  return sockets;
}

/** ss's names for the kernel's TCP states (include/net/tcp_states.h). */
const STATES = [
  "",
  "ESTAB",
  "SYN-SENT",
  "SYN-RECV",
  "FIN-WAIT-1",
  "FIN-WAIT-2",
  "TIME-WAIT",
  "UNCONN",
  "CLOSE-WAIT",
  "LAST-ACK",
  "LISTEN",
  "CLOSING",
];

/** "0100007F:1F90" (or the IPv6 form) as ss writes it: "127.0.0.1:8080", "[::1]:8080". */
function procAddress(hex: string): string {
  const [a = "", p = "0"] = hex.split(":");
  const port = parseInt(p, 16);
  if (a.length === 8) {
    const n = parseInt(a, 16);
    return `${n & 255}.${(n >>> 8) & 255}.${(n >>> 16) & 255}.${n >>> 24}:${port}`;
  }
  const groups: string[] = [];
  for (let w = 0; w < 4; w++) {
    const word = a
      .slice(w * 8, w * 8 + 8)
      .match(/../g)!
      .reverse()
      .join(""); // each word is little-endian
    groups.push(word.slice(0, 4), word.slice(4));
  }
  return `${new URL(`http://[${groups.join(":")}]`).hostname}:${port}`;
}

/** {@link socketsOn} from /proc/net/tcp and /proc/net/tcp6 (no ss needed). */
function procSocketsOn(port: number): KernelSocket[] {
  const sockets: KernelSocket[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue; // no IPv6 here
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const [, local = "", peer = "", st = "0", queues = "0:0", , , , , inode = "0"] = f;
      if (parseInt(local.split(":")[1] ?? "", 16) !== port) continue;
      const [tx = "0", rx = "0"] = queues.split(":");
      const state = STATES[parseInt(st, 16)] ?? st;
      const sendQ = parseInt(tx, 16);
      const recvQ = parseInt(rx, 16);
      sockets.push({
        state,
        recvQ,
        sendQ,
        local: procAddress(local),
        peer: procAddress(peer),
        owned: inode !== "0",
        rmem: state === "LISTEN" ? 0 : recvQ,
        wqueued: state === "LISTEN" ? 0 : sendQ,
      });
    }
  }
  return sockets;
}

/** Descriptors open in process `pid` now. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
