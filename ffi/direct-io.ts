/**
 * Direct I/O for the image store: O_DIRECT (its value differs per
 * architecture), aligned staging buffers, fcntl(F_GETFL/F_SETFL) to drop
 * O_DIRECT for an unaligned tail, ftruncate and syncfs. Each throws SysError.
 */
import { SysError } from "./errno.ts";
import { addr, rawSyscall } from "./libc.ts";
import { syscallTable } from "./syscalls.ts";

const T = () => syscallTable();

/** O_DIRECT: 0o40000 on x86_64, 0o200000 on aarch64 (where 0o40000 is O_DIRECTORY). */
export const O_DIRECT = process.arch === "arm64" ? 0o200000 : 0o40000;
/** Offsets, lengths and buffer addresses of direct writes are multiples of this (covers 512e and 4Kn disks). */
export const DIRECT_ALIGN = 4096;

const F_GETFL = 3, F_SETFL = 4, EINTR = 4;

function check(r: number, name: string): number {
  if (r < 0) throw new SysError(name, -r);
  return r;
}

/** A zeroed buffer of `size` bytes whose first byte is DIRECT_ALIGN-aligned (its backing store never moves). */
export function alignedBuffer(size: number): Uint8Array {
  const raw = new Uint8Array(size + DIRECT_ALIGN);
  const skew = addr(raw) % DIRECT_ALIGN;
  return raw.subarray(skew === 0 ? 0 : DIRECT_ALIGN - skew, (skew === 0 ? 0 : DIRECT_ALIGN - skew) + size);
}

export function isAligned(buf: Uint8Array): boolean {
  return addr(buf) % DIRECT_ALIGN === 0;
}

/** Clears O_DIRECT on an open file (later writes go through the page cache). */
export function clearDirect(fd: number): void {
  const fl = check(rawSyscall(T().fcntl, fd, F_GETFL), "fcntl");
  check(rawSyscall(T().fcntl, fd, F_SETFL, fl & ~O_DIRECT), "fcntl");
}

export function ftruncate(fd: number, len: number): void {
  for (;;) {
    const r = rawSyscall(T().ftruncate, fd, len);
    if (r !== -EINTR) return void check(r, "ftruncate");
  }
}

/** Writes back every dirty page and inode of the file system holding `fd`, then flushes the device cache. */
export function syncfs(fd: number): void {
  check(rawSyscall(T().syncfs, fd), "syncfs");
}
