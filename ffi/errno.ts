/** errno numbers ↔ names (Linux, identical on x86_64 and aarch64) and the SysError class. */
const NAMES: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 6: "ENXIO", 7: "E2BIG", 8: "ENOEXEC",
  9: "EBADF", 10: "ECHILD", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 15: "ENOTBLK",
  16: "EBUSY", 17: "EEXIST", 18: "EXDEV", 19: "ENODEV", 20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL",
  23: "ENFILE", 24: "EMFILE", 25: "ENOTTY", 26: "ETXTBSY", 27: "EFBIG", 28: "ENOSPC", 29: "ESPIPE",
  30: "EROFS", 31: "EMLINK", 32: "EPIPE", 33: "EDOM", 34: "ERANGE", 35: "EDEADLK", 36: "ENAMETOOLONG",
  38: "ENOSYS", 39: "ENOTEMPTY", 40: "ELOOP", 61: "ENODATA", 71: "EPROTO", 75: "EOVERFLOW",
  84: "EILSEQ", 88: "ENOTSOCK", 90: "EMSGSIZE", 93: "EPROTONOSUPPORT", 95: "EOPNOTSUPP",
  97: "EAFNOSUPPORT", 98: "EADDRINUSE", 99: "EADDRNOTAVAIL", 100: "ENETDOWN", 101: "ENETUNREACH",
  104: "ECONNRESET", 105: "ENOBUFS", 106: "EISCONN", 107: "ENOTCONN", 110: "ETIMEDOUT",
  111: "ECONNREFUSED", 113: "EHOSTUNREACH", 114: "EALREADY", 115: "EINPROGRESS", 116: "ESTALE",
  122: "EDQUOT", 125: "ECANCELED", 126: "ENOKEY", 130: "EOWNERDEAD",
};

const DESCRIPTIONS: Record<string, string> = {
  EPERM: "operation not permitted", ENOENT: "no such file or directory", ESRCH: "no such process",
  EACCES: "permission denied", EEXIST: "file exists", ENOTDIR: "not a directory", EISDIR: "is a directory",
  EINVAL: "invalid argument", EBUSY: "device or resource busy", ENOSPC: "no space left on device",
  EROFS: "read-only file system", ELOOP: "too many levels of symbolic links", ENOEXEC: "exec format error",
  ENOSYS: "function not implemented", ENOTEMPTY: "directory not empty", EXDEV: "cross-device link",
  ENODEV: "no such device", ETXTBSY: "text file busy", EBADF: "bad file descriptor", ENOMEM: "out of memory",
  EOPNOTSUPP: "operation not supported", ENAMETOOLONG: "file name too long", ENXIO: "no such device or address",
};

export function errnoName(errno: number): string {
  return NAMES[errno] ?? `E${errno}`;
}

export function errnoNumber(name: string): number | undefined {
  for (const [k, v] of Object.entries(NAMES)) if (v === name) return Number(k);
  return undefined;
}

export function errnoDescription(errno: number): string {
  return DESCRIPTIONS[errnoName(errno)] ?? errnoName(errno);
}

/** A failed system call: `code` is the errno name (`ENOENT`), `syscall` the call, `path` the object. */
export class SysError extends Error {
  override name = "SysError";
  readonly code: string;
  constructor(
    readonly syscall: string,
    readonly errno: number,
    readonly path?: string,
  ) {
    super(`${syscall}${path === undefined ? "" : ` "${path}"`}: ${errnoName(errno)} (${errnoDescription(errno)})`);
    this.code = errnoName(errno);
  }
}
