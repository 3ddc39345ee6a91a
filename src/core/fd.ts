/**
 * Small per-process descriptor numbers, allocated like the kernel does (lowest free, from 3),
 * so traces read like strace and `fileno()` has something faithful to return.
 *
 * @module
 */

const free: number[] = []; // a min-heap of released numbers
let next = 3;

/**
 * Takes the lowest free descriptor number.
 * @example `const fd = allocFd(); // 3`
 */
export function allocFd(): number {
  if (free.length === 0) return next++;
  const top = free[0]!;
  const last = free.pop()!;
  if (free.length > 0) {
    free[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < free.length && free[l]! < free[m]!) m = l;
      if (r < free.length && free[r]! < free[m]!) m = r;
      if (m === i) break;
      [free[i], free[m]] = [free[m]!, free[i]!];
      i = m;
    }
  }
  return top;
}

/**
 * Gives a descriptor number back (once; the caller guarantees it).
 * @example `releaseFd(fd)`
 */
export function releaseFd(fd: number): void {
  if (fd < 3) return;
  free.push(fd);
  let i = free.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (free[p]! <= free[i]!) break;
    [free[i], free[p]] = [free[p]!, free[i]!];
    i = p;
  }
}
