/**
 * SHA-256 on a native thread (sha256-thread.c): the shared object build.ts
 * compiles and embeds, loaded from a memfd. `nativeSha()` is undefined when
 * it is not there (another architecture, a CPU without SHA-NI, a host that
 * refuses to map a memfd executable): callers then hash inline.
 */
import { dlopen, FFIType, type Pointer } from "bun:ffi";
import { SHA256_ARCH, SHA256_SO_BASE64 } from "./blob.gen.ts";
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

let loaded: NativeSha | null | undefined;

export function nativeSha(): NativeSha | undefined {
  if (loaded === undefined) loaded = load();
  return loaded ?? undefined;
}

function load(): NativeSha | null {
  if (SHA256_SO_BASE64 === "" || SHA256_ARCH !== process.arch) return null;
  let fd = -1;
  try {
    fd = sys.memfdCreate("pelagos-sha256", sys.MFD_CLOEXEC);
    sys.writeAll(fd, Buffer.from(SHA256_SO_BASE64, "base64"));
    const s = dlopen(`/proc/self/fd/${fd}`, {
      pg_sha_start: { args: [], returns: FFIType.i32 },
      pg_sha_new: { args: [], returns: FFIType.ptr },
      pg_sha_submit: { args: [FFIType.ptr, FFIType.ptr, FFIType.f64], returns: FFIType.f64 },
      pg_sha_completed: { args: [], returns: FFIType.f64 },
      pg_sha_wait: { args: [FFIType.f64], returns: FFIType.void },
      pg_sha_finish: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.void },
      pg_sha_free: { args: [FFIType.ptr], returns: FFIType.void },
      pg_sha_update_here: { args: [FFIType.ptr, FFIType.ptr, FFIType.f64], returns: FFIType.void },
    }).symbols;
    if (s.pg_sha_start() !== 0) return null; // no SHA-NI, or no thread
    return {
      open: () => s.pg_sha_new() as Pointer | null,
      submit: (ctx, chunk, n) => s.pg_sha_submit(ctx, chunk, n),
      completed: () => s.pg_sha_completed(),
      wait: (seq) => s.pg_sha_wait(seq),
      finish: (ctx, out) => s.pg_sha_finish(ctx, out),
      free: (ctx) => s.pg_sha_free(ctx),
      updateHere: (ctx, chunk, n) => s.pg_sha_update_here(ctx, chunk, n),
    };
  } catch {
    return null;
  } finally {
    if (fd >= 0) sys.close(fd);
  }
}
