/**
 * Writes a big file with O_DIRECT through an aligned staging buffer: the
 * bytes go from the buffer to the disk without passing through the page
 * cache. A pull writes every layer twice (blob + unpacked tree); through the
 * page cache that is one fresh page per 4 KiB, which is most of a pull's
 * time on a VM whose free memory is handed back to the host (each fresh page
 * is a host fault), and the cache would only be dropped again later. The
 * data must reach the disk before the layer is published anyway (see
 * README.md, durability), so writing it there directly costs no extra I/O.
 *
 * Whole buffers are written direct; an unaligned tail is written after
 * O_DIRECT is cleared. A file system that refuses O_DIRECT (EINVAL at open
 * or at the first write) gets plain buffered writes.
 */
import { SysError } from "../../../ffi/errno.ts";
import { DIRECT_ALIGN, O_DIRECT, alignedBuffer, clearDirect } from "../../../ffi/direct-io.ts";
import { writeSync } from "node:fs";
import { writeAll } from "../../../ffi/sys.ts";

/** Files at least this big are written direct; smaller ones are not worth a disk round trip. */
export const DIRECT_MIN = 1 << 20;
const STAGING = 2 << 20;

export { O_DIRECT };

/**
 * Opens with `open(flags | O_DIRECT)`, or without O_DIRECT when the file
 * system refuses it (an O_CREAT open may have created the file before
 * refusing: `created()` removes it first). Returns [fd, direct].
 */
export function openMaybeDirect(open: (flags: number) => number, flags: number, created: () => void): [number, boolean] {
  try {
    return [open(flags | O_DIRECT), true];
  } catch (e) {
    if (!(e instanceof SysError) || e.code !== "EINVAL") throw e;
    created();
    return [open(flags), false];
  }
}

/** One staging buffer, reused for every file a writer writes (one per layer or blob in flight). */
export class DirectWriter {
  #buf: Uint8Array | undefined;
  #fd = -1;
  #fill = 0;
  #direct = false;

  /** Starts a file opened with (`direct`) or without O_DIRECT at offset 0. */
  begin(fd: number, direct: boolean): void {
    this.#fd = fd;
    this.#fill = 0;
    this.#direct = direct;
  }

  write(chunk: Uint8Array): void {
    if (!this.#direct) return writeAll(this.#fd, chunk);
    const buf = (this.#buf ??= alignedBuffer(STAGING));
    let off = 0;
    while (off < chunk.byteLength) {
      const k = Math.min(STAGING - this.#fill, chunk.byteLength - off);
      buf.set(chunk.subarray(off, off + k), this.#fill);
      this.#fill += k;
      off += k;
      if (this.#fill === STAGING) this.#flush(STAGING);
    }
  }

  /** Writes what is staged: the aligned part direct, the tail buffered. The fd stays open (the caller closes it). */
  end(): void {
    if (!this.#direct) return;
    const aligned = this.#fill - (this.#fill % DIRECT_ALIGN);
    if (aligned > 0) this.#flush(aligned);
    if (this.#fill > 0) {
      this.#buffered();
      writeAll(this.#fd, this.#buf!.subarray(0, this.#fill));
      this.#fill = 0;
    }
  }

  #flush(n: number): void {
    let off = 0;
    while (off < n) {
      try {
        off += writeSync(this.#fd, this.#buf!, off, n - off);
      } catch (e) {
        // EINVAL: the file system took O_DIRECT at open but not this write; the rest goes buffered.
        if ((e as { code?: string }).code !== "EINVAL" || !this.#direct) throw e;
        this.#buffered();
      }
    }
    this.#buf!.copyWithin(0, n, this.#fill);
    this.#fill -= n;
  }

  #buffered(): void {
    clearDirect(this.#fd);
    this.#direct = false;
  }
}
