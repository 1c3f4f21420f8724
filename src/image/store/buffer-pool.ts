/**
 * 1 MiB page-aligned buffers shared by every writer and decompressor of the
 * process. A buffer is touched (faulted in) once and then reused: on a VM
 * whose free memory goes back to the host, each fresh page costs a host
 * fault, and a pull that allocated new buffers per file or per chunk paid
 * that for every megabyte it moved.
 */
import { alignedBuffer, isAligned } from "../../../ffi/direct-io.ts";

export const POOL_BUFFER = 1 << 20;
/** Idle buffers kept for reuse; more are freed to the GC. */
const KEEP = 32;
const free: Uint8Array[] = [];

export function takeBuffer(): Uint8Array {
  return free.pop() ?? alignedBuffer(POOL_BUFFER);
}

/** Returns a buffer taken with takeBuffer(); the caller must hold no view of it any more. */
export function giveBuffer(b: Uint8Array): void {
  // A buffer back from another thread is checked: direct writes need the alignment.
  if (free.length < KEEP && b.byteLength === POOL_BUFFER && isAligned(b)) free.push(b);
}
