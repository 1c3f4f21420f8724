/**
 * File-system calls the image store and the layer unpacker need beyond what
 * node:fs offers: openat2 (RESOLVE_IN_ROOT confinement), *at calls relative
 * to a directory fd that never follow the last component, xattrs, device
 * nodes, nanosecond timestamps on symlinks, and flock. Each throws SysError.
 */
import { SysError } from "./errno.ts";
import { addr, rawSyscall } from "./libc.ts";
import { syscallTable } from "./syscalls.ts";
import { cstr } from "./sys.ts";

const T = () => syscallTable();

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EMPTY_PATH = 0x1000;
export const RESOLVE_NO_XDEV = 0x01, RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08, RESOLVE_IN_ROOT = 0x10;
export const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_EXCL = 0o200, O_TRUNC = 0o1000;
import { O_DIRECTORY, O_NOFOLLOW } from "./consts.ts";
export { O_DIRECTORY, O_NOFOLLOW }; // per architecture
export const O_CLOEXEC = 0o2000000, O_PATH = 0o10000000;
export const S_IFMT = 0o170000, S_IFIFO = 0o010000, S_IFCHR = 0o020000, S_IFDIR = 0o040000;
export const S_IFBLK = 0o060000, S_IFREG = 0o100000, S_IFLNK = 0o120000;
export const LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
export const EEXIST = 17, ENOENT = 2, EISDIR = 21, ENOTDIR = 20, EWOULDBLOCK = 11, EINTR = 4, ENOTEMPTY = 39;

function check(r: number, name: string, path?: string): number {
  if (r < 0) throw new SysError(name, -r, path);
  return r;
}

function retry(call: () => number): number {
  for (;;) {
    const r = call();
    if (r !== -EINTR) return r;
  }
}

/** openat2(2). `path` is resolved relative to `dirfd` under the `resolve` rules. */
export function openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number {
  const p = cstr(path);
  const how = new BigUint64Array([BigInt(flags | O_CLOEXEC), BigInt(mode), BigInt(resolve)]);
  return check(retry(() => rawSyscall(T().openat2, dirfd, addr(p), addr(how), 24)), "openat2", path);
}

/** openat(2) without path confinement: use only with a single path component or a trusted path. */
export function openat(dirfd: number, path: string, flags: number, mode = 0): number {
  const p = cstr(path);
  return check(retry(() => rawSyscall(T().openat, dirfd, addr(p), flags | O_CLOEXEC, mode)), "openat", path);
}

export function close(fd: number): void {
  rawSyscall(T().close, fd);
}

export function mkdirat(dirfd: number, name: string, mode: number): void {
  const p = cstr(name);
  check(rawSyscall(T().mkdirat, dirfd, addr(p), mode), "mkdirat", name);
}

/** mkdirat that reports EEXIST as `false` instead of throwing. */
export function tryMkdirat(dirfd: number, name: string, mode: number): boolean {
  const p = cstr(name);
  const r = rawSyscall(T().mkdirat, dirfd, addr(p), mode);
  if (r === -EEXIST) return false;
  check(r, "mkdirat", name);
  return true;
}

export function mknodat(dirfd: number, name: string, mode: number, major: number, minor: number): void {
  const p = cstr(name);
  // Linux dev_t encoding (new_encode_dev): minor low 8 bits, major 12 bits, minor high bits.
  const dev = (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12);
  check(rawSyscall(T().mknodat, dirfd, addr(p), mode, dev), "mknodat", name);
}

export function symlinkat(target: string, dirfd: number, name: string): void {
  const t = cstr(target);
  const p = cstr(name);
  check(rawSyscall(T().symlinkat, addr(t), dirfd, addr(p)), "symlinkat", name);
}

export function linkat(olddirfd: number, oldname: string, newdirfd: number, newname: string, flags = 0): void {
  const o = cstr(oldname);
  const n = cstr(newname);
  check(rawSyscall(T().linkat, olddirfd, addr(o), newdirfd, addr(n), flags), "linkat", newname);
}

/** unlinkat(2); returns the negative errno instead of throwing so callers can branch on EISDIR/ENOENT. */
export function unlinkatRaw(dirfd: number, name: string, flags = 0): number {
  const p = cstr(name);
  const r = rawSyscall(T().unlinkat, dirfd, addr(p), flags);
  return r < 0 ? r : 0;
}

export function fchownat(dirfd: number, name: string, uid: number, gid: number, flags: number): void {
  const p = cstr(name);
  check(rawSyscall(T().fchownat, dirfd, addr(p), uid, gid, flags), "fchownat", name);
}

export function fchown(fd: number, uid: number, gid: number): void {
  check(rawSyscall(T().fchown, fd, uid, gid), "fchown");
}

export function fchmod(fd: number, mode: number): void {
  check(rawSyscall(T().fchmod, fd, mode), "fchmod");
}

export function fchmodat(dirfd: number, name: string, mode: number): void {
  const p = cstr(name);
  check(rawSyscall(T().fchmodat, dirfd, addr(p), mode), "fchmodat", name);
}

/** utimensat(2) with nanosecond atime/mtime; `flags` usually AT_SYMLINK_NOFOLLOW. */
export function utimensat(dirfd: number, name: string, atimeNs: bigint, mtimeNs: bigint, flags: number): void {
  const p = cstr(name);
  const ts = new BigInt64Array([atimeNs / 1_000_000_000n, atimeNs % 1_000_000_000n, mtimeNs / 1_000_000_000n, mtimeNs % 1_000_000_000n]);
  check(rawSyscall(T().utimensat, dirfd, name === "" ? 0 : addr(p), addr(ts), flags), "utimensat", name);
}

export function fsetxattr(fd: number, name: string, value: Uint8Array): void {
  const n = cstr(name);
  const v = value.byteLength === 0 ? new Uint8Array(1) : value;
  check(rawSyscall(T().fsetxattr, fd, addr(n), addr(v), value.byteLength, 0), "fsetxattr", name);
}

export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  const p = cstr(path);
  const n = cstr(name);
  const v = value.byteLength === 0 ? new Uint8Array(1) : value;
  check(rawSyscall(T().lsetxattr, addr(p), addr(n), addr(v), value.byteLength, 0), "lsetxattr", `${path} ${name}`);
}

/** lgetxattr(2): the value, or undefined when the attribute is absent. */
export function lgetxattr(path: string, name: string): Uint8Array | undefined {
  const p = cstr(path);
  const n = cstr(name);
  const buf = new Uint8Array(4096);
  const r = rawSyscall(T().lgetxattr, addr(p), addr(n), addr(buf), buf.byteLength);
  if (r === -61 /* ENODATA */) return undefined;
  check(r, "lgetxattr", `${path} ${name}`);
  return buf.slice(0, r);
}

export function renameat(olddirfd: number, oldname: string, newdirfd: number, newname: string, flags = 0): number {
  const o = cstr(oldname);
  const n = cstr(newname);
  const r = rawSyscall(T().renameat2, olddirfd, addr(o), newdirfd, addr(n), flags);
  return r < 0 ? r : 0;
}

export function fsync(fd: number): void {
  check(retry(() => rawSyscall(T().fsync, fd)), "fsync");
}

/** flock(2) that never blocks: true when the lock was taken, false when someone else holds it. */
export function tryFlock(fd: number, op: number): boolean {
  const r = retry(() => rawSyscall(T().flock, fd, op | LOCK_NB));
  if (r === -EWOULDBLOCK) return false;
  check(r, "flock");
  return true;
}

export function flockUnlock(fd: number): void {
  rawSyscall(T().flock, fd, LOCK_UN);
}
