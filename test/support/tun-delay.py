#!/usr/bin/python3
"""A delaying link between two network namespaces, in user space (for kernels without netem).

Run as root in the root namespace. Creates two TUN devices (IFF_TUN | IFF_NO_PI), moves the first
into namespace A and the second into namespace B (the open file descriptors stay attached after
the move), and forwards every IP packet read from one to the other after a fixed one-way delay,
optionally dropping a seeded random share of them. Each direction has a bounded queue: a packet
arriving at a full queue is dropped (a tail drop, as a router would). Addresses and routes inside
the namespaces are the caller's job.

Prints `ready` (one line, flushed) once both devices are in place, and at exit (SIGTERM, SIGINT or
after --seconds) one JSON line: {"stats": {"ab": {...}, "ba": {...}}, "seconds": S}, where each
direction counts rx (packets read), tx (written), lost (dropped by --loss), full (dropped by the
queue bound), down (refused by a device that is down) and bytes (written). Exit status 0 then;
2 on bad arguments or a setup failure.

Example:
  python3 tun-delay.py --ns-a left --ns-b right --dev-a tl0 --dev-b tr0 --delay 50 --seconds 60
"""

import argparse
import collections
import errno
import fcntl
import json
import os
import random
import select
import signal
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
MAX_PACKET = 65536
BATCH = 64  # packets read from one device before looking at the other


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        ifr = struct.pack("16sH22x", name.encode(), IFF_TUN | IFF_NO_PI)
        fcntl.ioctl(fd, TUNSETIFF, ifr)
    except OSError:
        os.close(fd)
        raise
    return fd


def ip(*args):
    subprocess.run(["ip", *args], check=True, timeout=10, stdout=subprocess.DEVNULL)


class Direction:
    """One way through the link: packets read from `src`, written to `dst` when due."""

    def __init__(self, src, dst, delay_s, loss, limit, rng):
        self.src, self.dst = src, dst
        self.delay_s, self.loss, self.limit, self.rng = delay_s, loss, limit, rng
        self.queue = collections.deque()
        self.stats = {"rx": 0, "tx": 0, "lost": 0, "full": 0, "down": 0, "bytes": 0}

    def read(self, now):
        for _ in range(BATCH):
            try:
                packet = os.read(self.src, MAX_PACKET)
            except BlockingIOError:
                return
            if not packet:
                return
            self.stats["rx"] += 1
            if self.loss > 0 and self.rng.random() * 100 < self.loss:
                self.stats["lost"] += 1
            elif len(self.queue) >= self.limit:
                self.stats["full"] += 1
            else:
                self.queue.append((now + self.delay_s, packet))

    def write(self, now):
        while self.queue and self.queue[0][0] <= now:
            packet = self.queue[0][1]
            try:
                os.write(self.dst, packet)
            except BlockingIOError:
                return  # the device is full: try again on the next turn
            except OSError as e:
                # the device is down or the namespace went away: the packet is lost, as on a wire
                if e.errno not in (errno.EIO, errno.EINVAL, errno.ENOBUFS):
                    raise
                self.stats["down"] += 1
            else:
                self.stats["tx"] += 1
                self.stats["bytes"] += len(packet)
            self.queue.popleft()

    def next_due(self):
        return self.queue[0][0] if self.queue else None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ns-a", required=True, help="namespace for the first device")
    p.add_argument("--ns-b", required=True, help="namespace for the second device")
    p.add_argument("--dev-a", required=True, help="name of the first TUN device (at most 15 bytes)")
    p.add_argument("--dev-b", required=True, help="name of the second TUN device")
    p.add_argument("--delay", type=float, default=50.0, help="one-way delay A→B in ms (default 50)")
    p.add_argument("--delay-back", type=float, default=0.0, help="one-way delay B→A in ms (default 0)")
    p.add_argument("--loss", type=float, default=0.0, help="percent of packets dropped, each way")
    p.add_argument("--seed", type=int, default=1, help="seed of the loss draw")
    p.add_argument("--limit", type=int, default=10000, help="packets queued per direction at most")
    p.add_argument("--seconds", type=float, default=120.0, help="exit after this long at most")
    a = p.parse_args()
    for name in (a.dev_a, a.dev_b):
        if not 0 < len(name.encode()) <= 15:
            p.error(f"device name {name!r} must be 1 to 15 bytes")
    if not (a.delay >= 0 and a.delay_back >= 0 and 0 <= a.loss <= 100 and a.limit > 0 and a.seconds > 0):
        p.error("--delay/--delay-back >= 0, 0 <= --loss <= 100, --limit > 0, --seconds > 0")

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append("SIGTERM"))
    signal.signal(signal.SIGINT, lambda *_: stop.append("SIGINT"))

    fds = []
    try:
        for dev, ns in ((a.dev_a, a.ns_a), (a.dev_b, a.ns_b)):
            fds.append(open_tun(dev))
            ip("link", "set", dev, "netns", ns)
    except (OSError, subprocess.SubprocessError) as e:
        print(f"tun-delay: setup failed: {e}", file=sys.stderr)
        for fd in fds:
            os.close(fd)
        return 2
    fa, fb = fds
    rng = random.Random(a.seed)
    ways = {
        "ab": Direction(fa, fb, a.delay / 1000, a.loss, a.limit, rng),
        "ba": Direction(fb, fa, a.delay_back / 1000, a.loss, a.limit, rng),
    }
    started = time.monotonic()
    deadline = started + a.seconds
    print("ready", flush=True)

    while not stop:
        now = time.monotonic()
        if now >= deadline:
            break
        dues = [d for d in (w.next_due() for w in ways.values()) if d is not None]
        wait = min([deadline] + dues) - now
        try:
            readable, _, _ = select.select([fa, fb], [], [], max(0.0, wait))
        except InterruptedError:
            continue
        now = time.monotonic()
        if fa in readable:
            ways["ab"].read(now)
        if fb in readable:
            ways["ba"].read(now)
        for w in ways.values():
            w.write(now)

    for fd in fds:
        os.close(fd)  # the devices vanish with their last descriptor
    stats = {k: w.stats for k, w in ways.items()}
    print(json.dumps({"stats": stats, "seconds": round(time.monotonic() - started, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
