/**
 * What the kernel holds for sockets, for tests that bound it: `/proc/net/sockstat` (machine-wide
 * TCP orphans and memory pages) and `ss` (each socket on one local port: its state, queues, memory
 * and whether a process still owns it — a socket no process owns is an orphan).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

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

/** Descriptors open in process `pid` now. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
