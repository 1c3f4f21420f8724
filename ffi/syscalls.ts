/**
 * System call numbers for the architectures pelagos supports. Plans for the
 * trampoline are built from these, so the TS side and the C side agree.
 */
const X86_64 = {
  read: 0, write: 1, close: 3, fstat: 5, lseek: 8, mmap: 9, ioctl: 16, pipe2: 293, dup3: 292,
  socket: 41, connect: 42, sendmsg: 46, recvmsg: 47, socketpair: 53, kill: 62, fcntl: 72,
  chdir: 80, fchdir: 81, umask: 95, getuid: 102, setsid: 112, setgroups: 116, setresuid: 117,
  setresgid: 119, capget: 125, capset: 126, personality: 135, prctl: 157, chroot: 161, pivot_root: 155,
  mount: 165, umount2: 166, sethostname: 170, setdomainname: 171, gettid: 186, openat: 257,
  mkdirat: 258, mknodat: 259, fchownat: 260, unlinkat: 263, symlinkat: 266, fchmodat: 268,
  unshare: 272, prlimit64: 302, setns: 308, seccomp: 317, execveat: 322, memfd_create: 319,
  pidfd_send_signal: 424, open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432,
  pidfd_open: 434, clone3: 435, close_range: 436, openat2: 437, mount_setattr: 442, waitid: 247,
  ppoll: 271, getpid: 39, keyctl: 250,
  utimensat: 280, linkat: 265, renameat2: 316, flock: 73, fsetxattr: 190, lsetxattr: 189,
  fchown: 93, fchmod: 91, readlinkat: 267, fsync: 74, lgetxattr: 192, bpf: 321,
  syncfs: 306,
} as const;

const AARCH64: { [K in keyof typeof X86_64]: number } = {
  read: 63, write: 64, close: 57, fstat: 80, lseek: 62, mmap: 222, ioctl: 29, pipe2: 59, dup3: 24,
  socket: 198, connect: 203, sendmsg: 211, recvmsg: 212, socketpair: 199, kill: 129, fcntl: 25,
  chdir: 49, fchdir: 50, umask: 166, getuid: 174, setsid: 157, setgroups: 159, setresuid: 147,
  setresgid: 149, capget: 90, capset: 91, personality: 92, prctl: 167, chroot: 51, pivot_root: 41,
  mount: 40, umount2: 39, sethostname: 161, setdomainname: 162, gettid: 178, openat: 56,
  mkdirat: 34, mknodat: 33, fchownat: 54, unlinkat: 35, symlinkat: 36, fchmodat: 53,
  unshare: 97, prlimit64: 261, setns: 268, seccomp: 277, execveat: 281, memfd_create: 279,
  pidfd_send_signal: 424, open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432,
  pidfd_open: 434, clone3: 435, close_range: 436, openat2: 437, mount_setattr: 442, waitid: 95,
  ppoll: 73, getpid: 172, keyctl: 219,   utimensat: 88, linkat: 37, renameat2: 276, flock: 32, fsetxattr: 7, lsetxattr: 6,
  fchown: 55, fchmod: 52, readlinkat: 78, fsync: 82, lgetxattr: 9, bpf: 280,
  syncfs: 267,
};

export type SyscallName = keyof typeof X86_64;
export type SyscallTable = { readonly [K in SyscallName]: number };

export function syscallTable(arch: string = process.arch): SyscallTable {
  if (arch === "x64") return X86_64;
  if (arch === "arm64") return AARCH64;
  throw new Error(`Unsupported architecture "${arch}": pelagos runs on x64 and arm64`);
}
