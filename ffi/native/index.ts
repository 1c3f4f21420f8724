/**
 * Native helper threads (native.c): the shared object build.ts compiles and
 * embeds, loaded from a memfd on first use. Each accessor is undefined when
 * its part is not there (another architecture, a host that refuses to map a
 * memfd executable; for hashing also a CPU without SHA-NI), and whenever
 * `PELAGOS_NATIVE=0`: callers then do the work on the calling thread.
 */
import { dlopen, FFIType, type Pointer } from "bun:ffi";
import { NATIVE_ARCH, NATIVE_SO_BASE64 } from "./blob.gen.ts";
import * as sys from "../sys.ts";

export type NativeSha = {
  /** A new stream; null when out of memory. */
  open(): Pointer | null;
  /** Queues the bytes of `chunk` (left untouched until done) for `ctx`; returns the job's sequence number. */
  submit(ctx: Pointer, chunk: Uint8Array, n: number): number;
  /** How many jobs are done: every job with a sequence number up to it. */
  completed(): number;
  /** Blocks until job `seq` is done. */
  wait(seq: number): void;
  /** Digest into `out` (32 bytes) and frees `ctx`; its jobs must be done. */
  finish(ctx: Pointer, out: Uint8Array): void;
  /** Frees `ctx` without a digest; its jobs must be done. */
  free(ctx: Pointer): void;
  /** Hashes on the calling thread, with the same code (tests). */
  updateHere(ctx: Pointer, chunk: Uint8Array, n: number): void;
};

export type NativeSyncfs = {
  /** Starts syncfs(fd) on a thread; the fd must stay open until poll() is done. Null when no thread could start. */
  start(fd: number): Pointer | null;
  /** -1 while running; then syncfs's errno (0: success), and the job is freed. */
  poll(job: Pointer): number;
};

const symbols = {
  pg_sha_start: { args: [], returns: FFIType.i32 },
  pg_sha_new: { args: [], returns: FFIType.ptr },
  pg_sha_submit: { args: [FFIType.ptr, FFIType.ptr, FFIType.f64], returns: FFIType.f64 },
  pg_sha_completed: { args: [], returns: FFIType.f64 },
  pg_sha_wait: { args: [FFIType.f64], returns: FFIType.void },
  pg_sha_finish: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.void },
  pg_sha_free: { args: [FFIType.ptr], returns: FFIType.void },
  pg_sha_update_here: { args: [FFIType.ptr, FFIType.ptr, FFIType.f64], returns: FFIType.void },
  pg_syncfs_start: { args: [FFIType.i32], returns: FFIType.ptr },
  pg_syncfs_poll: { args: [FFIType.ptr], returns: FFIType.i32 },
} as const;

type Lib = ReturnType<typeof dlopen<typeof symbols>>["symbols"];
let lib: Lib | null | undefined;
let sha: NativeSha | null | undefined;
let sync: NativeSyncfs | null | undefined;

function load(): Lib | null {
  if (NATIVE_SO_BASE64 === "" || NATIVE_ARCH !== process.arch) return null;
  let fd = -1;
  try {
    fd = sys.memfdCreate("pelagos-native", sys.MFD_CLOEXEC);
    sys.writeAll(fd, Buffer.from(NATIVE_SO_BASE64, "base64"));
    return dlopen(`/proc/self/fd/${fd}`, symbols).symbols;
  } catch {
    return null;
  } finally {
    if (fd >= 0) sys.close(fd);
  }
}

function library(): Lib | null {
  if (lib === undefined) lib = load();
  return lib;
}

const off = () => process.env.PELAGOS_NATIVE === "0";

/** SHA-256 on the hashing thread (started here, on first use). */
export function nativeSha(): NativeSha | undefined {
  if (off()) return undefined;
  if (sha === undefined) {
    const s = library();
    sha =
      s && s.pg_sha_start() === 0 // no SHA-NI, or no thread: null
        ? {
            open: () => s.pg_sha_new() as Pointer | null,
            submit: (ctx, chunk, n) => s.pg_sha_submit(ctx, chunk, n),
            completed: () => s.pg_sha_completed(),
            wait: (seq) => s.pg_sha_wait(seq),
            finish: (ctx, out) => s.pg_sha_finish(ctx, out),
            free: (ctx) => s.pg_sha_free(ctx),
            updateHere: (ctx, chunk, n) => s.pg_sha_update_here(ctx, chunk, n),
          }
        : null;
  }
  return sha ?? undefined;
}

/** syncfs() on a thread of its own. */
export function nativeSyncfs(): NativeSyncfs | undefined {
  if (off()) return undefined;
  if (sync === undefined) {
    const s = library();
    sync = s ? { start: (fd) => s.pg_syncfs_start(fd) as Pointer | null, poll: (job) => s.pg_syncfs_poll(job) } : null;
  }
  return sync ?? undefined;
}
