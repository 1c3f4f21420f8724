/**
 * Idmapped mounts from the host side (user namespaces for `pelagos run`):
 * the container's init cannot idmap its own root filesystem (that needs
 * CAP_SYS_ADMIN over the filesystem's user namespace, the host's), so the
 * runtime builds the detached idmapped tree and hands its fd over.
 */
import { SysError } from "./errno.ts";
import { addr, rawSyscall } from "./libc.ts";
import { syscallTable } from "./syscalls.ts";
import { cstr } from "./sys.ts";

const AT_FDCWD = -100, AT_EMPTY_PATH = 0x1000, AT_RECURSIVE = 0x8000, OPEN_TREE_CLONE = 1, O_CLOEXEC = 0o2000000;
const MOUNT_ATTR_IDMAP = 0x100000;

/** open_tree(path, CLONE|RECURSIVE) + mount_setattr(IDMAP = the user namespace `usernsFd`): a detached tree. */
export function idmappedTree(path: string, usernsFd: number): number {
  const T = syscallTable();
  const p = cstr(path);
  const tree = rawSyscall(T.open_tree, AT_FDCWD, addr(p), OPEN_TREE_CLONE | AT_RECURSIVE | O_CLOEXEC);
  if (tree < 0) throw new SysError("open_tree", -tree, path);
  // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd }
  const attr = new BigUint64Array([BigInt(MOUNT_ATTR_IDMAP), 0n, 0n, BigInt(usernsFd)]);
  const empty = cstr("");
  const r = rawSyscall(T.mount_setattr, tree, addr(empty), AT_EMPTY_PATH | AT_RECURSIVE, addr(attr), 32);
  if (r < 0) {
    rawSyscall(T.close, tree);
    throw new SysError("mount_setattr", -r, path);
  }
  return tree;
}

/** sendmsg(sock, data, SCM_RIGHTS fd): one message carrying bytes and one descriptor. */
export function sendWithFd(sock: number, data: Uint8Array, fd: number): void {
  const T = syscallTable();
  const iov = new BigUint64Array([BigInt(addr(data)), BigInt(data.byteLength)]);
  const cbuf = new Uint8Array(24);
  const dv = new DataView(cbuf.buffer);
  dv.setBigUint64(0, 20n, true); // CMSG_LEN(sizeof(int))
  dv.setInt32(8, 1, true); // SOL_SOCKET
  dv.setInt32(12, 1, true); // SCM_RIGHTS
  dv.setInt32(16, fd, true);
  const mh = new BigUint64Array([0n, 0n, BigInt(addr(iov)), 1n, BigInt(addr(cbuf)), 24n, 0n]);
  for (;;) {
    const r = rawSyscall(T.sendmsg, sock, addr(mh), 0x4000 /* MSG_NOSIGNAL */);
    if (r === -4) continue;
    if (r < 0) throw new SysError("sendmsg", -r);
    if (r !== data.byteLength) throw new SysError("sendmsg", 5 /* EIO: short write on a stream socket */);
    return;
  }
}

/** flock(fd, LOCK_EX | LOCK_NB): true when taken, false when another process holds it. */
export function tryLockExclusive(fd: number): boolean {
  const r = rawSyscall(syscallTable().flock, fd, 2 /* LOCK_EX */ | 4 /* LOCK_NB */);
  if (r === -11 /* EWOULDBLOCK */ || r === -4) return false;
  if (r < 0) throw new SysError("flock", -r);
  return true;
}
