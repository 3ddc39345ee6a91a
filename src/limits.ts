/**
 * Every default and limit of sockit in one place (layer L0). Each can be overridden where the
 * API says so; these are the values used when nobody does.
 *
 * @module
 */

/**
 * Bytes a stream socket buffers from the kernel before it stops reading (TCP flow control then
 * slows the peer). `setsockopt(SOL_SOCKET, SO_RCVBUF, n)` changes it per socket.
 */
export const RECV_HIGH_WATER = 256 * 1024;

/** Smallest receive buffer `SO_RCVBUF` may set. */
export const RECV_HIGH_WATER_MIN = 1024;

/** Default accept-queue bound when `listen()` is called without a backlog (Python: min(SOMAXCONN, 128)). */
export const DEFAULT_BACKLOG = 128;

/** Upper bound for a listen backlog (Linux SOMAXCONN). */
export const MAX_BACKLOG = 4096;

/** How long `close()` lets queued outgoing bytes drain before it resets the connection, ms. */
export const CLOSE_LINGER_MS = 30_000;

/**
 * How long disposing of a connection (`await using`) waits for bytes still in Node's write
 * buffer to reach the kernel before it closes anyway, ms.
 */
export const DISPOSE_FLUSH_MS = 5000;

/** Largest `recv()` bufsize accepted (bytes). */
export const MAX_RECV = 2 ** 30;

/** Longest address string a parser accepts. */
export const MAX_ADDRESS_LENGTH = 1024;

/** Longest AF_UNIX path (Linux sun_path is 108 bytes including the terminating NUL). */
export const MAX_UNIX_PATH = 107;

/** Datagrams a datagram socket queues before it drops (and counts) new ones. */
export const DGRAM_QUEUE_COUNT = 4096;

/** Bytes of datagrams a datagram socket queues before it drops (and counts) new ones. */
export const DGRAM_QUEUE_BYTES = 4 * 1024 * 1024;

/** Largest UDP payload over IPv4 (65535 − 20-byte IP header − 8-byte UDP header). */
export const MAX_UDP4_PAYLOAD = 65507;

/** Largest UDP payload over IPv6 without jumbograms (65535 − 8-byte UDP header). */
export const MAX_UDP6_PAYLOAD = 65527;

/** How long a datagram socket's `close()` waits for queued sends to reach the kernel, ms. */
export const DGRAM_CLOSE_WAIT_MS = 2000;

/** Default longest line `readline()` accepts before FrameTooLargeError (bytes, newline included). */
export const DEFAULT_MAX_LINE = 64 * 1024;
