/**
 * Typed wrappers over the system calls the runtime makes from TypeScript
 * (host side only: nothing here runs in a container). Each returns a value or
 * throws SysError with the call's name, the errno name and the object.
 */
import { SysError } from "./errno.ts";
import { addr, rawSyscall } from "./libc.ts";
import { syscallTable } from "./syscalls.ts";

const T = () => syscallTable();

export const AT_FDCWD = -100;
export const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_EXCL = 0o200, O_NOCTTY = 0o400;
import { O_DIRECTORY, O_NOFOLLOW } from "./consts.ts";
export { O_DIRECTORY, O_NOFOLLOW }; // per architecture
export const O_TRUNC = 0o1000, O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000, O_PATH = 0o10000000;
export const S_IFIFO = 0o010000, S_IFCHR = 0o020000, S_IFDIR = 0o040000, S_IFREG = 0o100000;

export function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`, "utf8");
}

function check(r: number, name: string, path?: string): number {
  if (r < 0) throw new SysError(name, -r, path);
  return r;
}

export function open(path: string, flags: number, mode = 0): number {
  const p = cstr(path);
  return check(rawSyscall(T().openat, AT_FDCWD, addr(p), flags | O_CLOEXEC, mode), "open", path);
}

export function close(fd: number): void {
  rawSyscall(T().close, fd);
}

export function read(fd: number, buf: Uint8Array): number {
  for (;;) {
    const r = rawSyscall(T().read, fd, addr(buf), buf.byteLength);
    if (r === -4) continue;
    return check(r, "read");
  }
}

export function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.byteLength) {
    const part = data.subarray(off);
    const r = rawSyscall(T().write, fd, addr(part), part.byteLength);
    if (r === -4) continue;
    off += check(r, "write");
  }
}

export const MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2;
export function memfdCreate(name: string, flags: number): number {
  const p = cstr(name);
  return check(rawSyscall(T().memfd_create, addr(p), flags), "memfd_create", name);
}

export const F_SETFD = 2, F_GETFD = 1, F_ADD_SEALS = 1033;
export const F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4, F_SEAL_WRITE = 8;
export function fcntl(fd: number, cmd: number, arg = 0): number {
  return check(rawSyscall(T().fcntl, fd, cmd, arg), "fcntl");
}

export const AF_UNIX = 1, SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5, SOCK_CLOEXEC = 0o2000000;
export function socketpair(type = SOCK_STREAM): [number, number] {
  const fds = new Int32Array(2);
  check(rawSyscall(T().socketpair, AF_UNIX, type | SOCK_CLOEXEC, 0, addr(fds)), "socketpair");
  return [fds[0]!, fds[1]!];
}

export function pipe(flags = O_CLOEXEC): [number, number] {
  const fds = new Int32Array(2);
  check(rawSyscall(T().pipe2, addr(fds), flags), "pipe2");
  return [fds[0]!, fds[1]!];
}

export function kill(pid: number, sig: number): void {
  check(rawSyscall(T().kill, pid, sig), "kill", String(pid));
}

/** kill(2) that reports whether the process existed instead of throwing ESRCH. */
export function tryKill(pid: number, sig: number): boolean {
  const r = rawSyscall(T().kill, pid, sig);
  if (r === -3) return false;
  check(r, "kill", String(pid));
  return true;
}

export function pidfdOpen(pid: number): number {
  return check(rawSyscall(T().pidfd_open, pid, 0), "pidfd_open", String(pid));
}

export function pidfdSendSignal(pidfd: number, sig: number): void {
  check(rawSyscall(T().pidfd_send_signal, pidfd, sig, 0, 0), "pidfd_send_signal");
}

export const POLLIN = 1, POLLHUP = 0x10;
/** Waits until `fd` is readable (or hung up). Returns false on timeout. */
export function pollIn(fd: number, timeoutMs: number): boolean {
  const pfd = new Int32Array([fd, POLLIN]);
  const ts = new BigInt64Array([BigInt(Math.floor(timeoutMs / 1000)), BigInt((timeoutMs % 1000) * 1e6)]);
  for (;;) {
    const r = rawSyscall(T().ppoll, addr(pfd), 1, addr(ts), 0, 8);
    if (r === -4) continue;
    return check(r, "ppoll") > 0;
  }
}

export function ioctl(fd: number, req: number, arg: number | ArrayBufferView = 0): number {
  const a = typeof arg === "number" ? arg : addr(arg);
  return check(rawSyscall(T().ioctl, fd, req, a), "ioctl");
}

export function mknodFifo(path: string, mode = 0o600): void {
  const p = cstr(path);
  check(rawSyscall(T().mknodat, AT_FDCWD, addr(p), S_IFIFO | mode, 0), "mkfifo", path);
}

export const MNT_DETACH = 2;
export function umount2(path: string, flags: number): void {
  const p = cstr(path);
  check(rawSyscall(T().umount2, addr(p), flags), "umount2", path);
}

/** Receives one file descriptor sent with SCM_RIGHTS. */
export function recvFd(sock: number): number {
  const data = new Uint8Array(1);
  const iov = new BigUint64Array([BigInt(addr(data)), 1n]);
  const cbuf = new Uint8Array(24);
  const mh = new BigUint64Array([0n, 0n, BigInt(addr(iov)), 1n, BigInt(addr(cbuf)), 24n, 0n]);
  for (;;) {
    const r = rawSyscall(T().recvmsg, sock, addr(mh), 0x40000000 /* MSG_CMSG_CLOEXEC */);
    if (r === -4) continue;
    check(r, "recvmsg");
    break;
  }
  const dv = new DataView(cbuf.buffer);
  if (dv.getInt32(8, true) !== 1 || dv.getInt32(12, true) !== 1) throw new SysError("recvmsg", 71 /* EPROTO */);
  return dv.getInt32(16, true);
}

export function getpid(): number {
  return rawSyscall(T().getpid);
}

export function setsidIfNeeded(): void {
  rawSyscall(T().setsid);
}

/** socket(AF_UNIX, SOCK_STREAM) connected to `path` (the OCI console socket). */
export function connectUnix(path: string): number {
  const fd = check(rawSyscall(T().socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
  const sa = new Uint8Array(110);
  new DataView(sa.buffer).setUint16(0, AF_UNIX, true);
  const p = Buffer.from(path);
  if (p.length >= 108) {
    close(fd);
    throw new SysError("connect", 36 /* ENAMETOOLONG */, path);
  }
  sa.set(p, 2);
  const r = rawSyscall(T().connect, fd, addr(sa), 2 + p.length + 1);
  if (r < 0) {
    close(fd);
    throw new SysError("connect", -r, path);
  }
  return fd;
}

/** Opens a fifo for writing without blocking: ENXIO means nobody holds it open for reading. */
export function openFifoWriter(path: string): number {
  return open(path, O_WRONLY | O_NONBLOCK);
}

export const RESOLVE_IN_ROOT = 0x10, RESOLVE_NO_MAGICLINKS = 2;
/** openat2(dirfd, path, {flags, resolve: RESOLVE_IN_ROOT}): `path` cannot leave `dirfd`. */
export function openInRoot(dirfd: number, path: string, flags: number): number {
  const p = cstr(path);
  const how = new BigUint64Array([BigInt(flags | O_CLOEXEC), 0n, BigInt(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)]);
  return check(rawSyscall(T().openat2, dirfd, addr(p), addr(how), 24), "openat2", path);
}

/** Reads a file inside a root filesystem, resolving symlinks inside it; undefined if absent. */
export function readFileInRoot(rootfs: string, path: string): string | undefined {
  const root = open(rootfs, O_PATH | O_DIRECTORY);
  try {
    let fd: number;
    try {
      fd = openInRoot(root, path, O_RDONLY);
    } catch (e) {
      if ((e as SysError).code === "ENOENT") return undefined;
      throw e;
    }
    try {
      const chunks: Uint8Array[] = [];
      const buf = new Uint8Array(65536);
      let total = 0;
      for (;;) {
        const n = read(fd, buf);
        if (n === 0) break;
        chunks.push(buf.slice(0, n));
        total += n;
        if (total > 16 << 20) throw new SysError("read", 27 /* EFBIG */, path);
      }
      return Buffer.concat(chunks).toString("utf8");
    } finally {
      close(fd);
    }
  } finally {
    close(root);
  }
}
