/**
 * Direct I/O for the image store: O_DIRECT (consts.ts: its value differs per
 * architecture), aligned staging buffers, fcntl(F_GETFL/F_SETFL) to drop
 * O_DIRECT for an unaligned tail, and syncfs. Each throws SysError.
 */
import { SysError } from "./errno.ts";
import { addr, rawSyscall } from "./libc.ts";
import { syscallTable } from "./syscalls.ts";
import { O_DIRECT } from "./consts.ts";
import { fcntl } from "./sys.ts";

export { O_DIRECT };

/** Offsets, lengths and buffer addresses of direct writes are multiples of this (covers 512e and 4Kn disks). */
export const DIRECT_ALIGN = 4096;

const F_GETFL = 3, F_SETFL = 4;

/** A zeroed buffer of `size` bytes whose first byte is DIRECT_ALIGN-aligned (its backing store never moves). */
export function alignedBuffer(size: number): Uint8Array {
  const raw = new Uint8Array(size + DIRECT_ALIGN);
  const skew = addr(raw) % DIRECT_ALIGN;
  return raw.subarray(skew === 0 ? 0 : DIRECT_ALIGN - skew, (skew === 0 ? 0 : DIRECT_ALIGN - skew) + size);
}

export function isAligned(buf: Uint8Array): boolean {
  return addr(buf) % DIRECT_ALIGN === 0;
}

/** Whether O_DIRECT is set on an open file. */
export function isDirect(fd: number): boolean {
  return (fcntl(fd, F_GETFL) & O_DIRECT) !== 0;
}

/** Clears O_DIRECT on an open file (later writes go through the page cache). */
export function clearDirect(fd: number): void {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_DIRECT);
}

/** Writes back every dirty page and inode of the file system holding `fd`, then flushes the device cache. */
export function syncfs(fd: number): void {
  const r = rawSyscall(syscallTable().syncfs, fd);
  if (r < 0) throw new SysError("syncfs", -r);
}
