/**
 * The only dlopen of libc. Two symbols are enough: `syscall` (variadic,
 * declared with the fixed argument list we always pass) and
 * `__errno_location`. Loaded lazily on first use; importing this module has no
 * side effects.
 */
import { dlopen, FFIType, ptr, read, toArrayBuffer } from "bun:ffi";

type Lib = {
  syscall: (nr: number, a: number, b: number, c: number, d: number, e: number, f: number) => number;
  errnoPtr: number;
};

let lib: Lib | undefined;

function load(): Lib {
  const l = dlopen("libc.so.6", {
    syscall: {
      args: [FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64],
      returns: FFIType.i64_fast,
    },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  const errnoPtr = l.symbols.__errno_location() as unknown as number;
  return {
    syscall: l.symbols.syscall as unknown as Lib["syscall"],
    errnoPtr,
  };
}

export function libc(): Lib {
  lib ??= load();
  return lib;
}

/**
 * Makes a raw system call. Returns the result, or `-errno` on failure (errno
 * is read right after the call, before any other Bun API can overwrite it).
 */
export function rawSyscall(nr: number, a = 0, b = 0, c = 0, d = 0, e = 0, f = 0): number {
  const l = libc();
  const r = Number(l.syscall(nr, a, b, c, d, e, f));
  if (r === -1) return -read.i32(l.errnoPtr, 0);
  return r;
}

/** Address of a buffer's bytes, for passing to a system call. The caller keeps the buffer alive. */
export function addr(buf: ArrayBufferView): number {
  if (buf.byteLength === 0) return 0;
  return ptr(buf as Uint8Array) as unknown as number;
}

export { toArrayBuffer };
