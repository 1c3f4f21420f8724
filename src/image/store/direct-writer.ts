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
import { DIRECT_ALIGN, O_DIRECT, clearDirect } from "../../../ffi/direct-io.ts";
import { POOL_BUFFER, giveBuffer, takeBuffer } from "./buffer-pool.ts";
import { write, writeSync } from "node:fs";
import { writeAll } from "../../../ffi/sys.ts";

/** Files at least this big are written direct; smaller ones are not worth a disk round trip. */
export const DIRECT_MIN = 1 << 20;
const STAGING = POOL_BUFFER;
/** Buffers per writer: one filling while the others are on their way to the disk. */
const DEPTH = 3;

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

type Slot = { buf: Uint8Array; pending: Promise<void> | undefined };

/** The positioned writes a DirectWriter makes (node:fs; tests pass failing ones). */
export type PositionedIo = { write: typeof write; writeSync: typeof writeSync };
const nodeIo: PositionedIo = { write, writeSync };

/**
 * Writes one file at a time; its staging buffers are reused for every file
 * (one writer per layer or blob in flight). Full buffers are written with
 * positioned writes on Bun's I/O threads, so the disk works while the caller
 * decompresses and hashes the next megabytes.
 *
 * Contract: await what write() returns before passing the next chunk (and
 * before reusing the chunk); await end() (or settle(), on error paths)
 * before closing the fd — a write still in flight would otherwise land in
 * whatever file reuses the number.
 */
export class DirectWriter {
  readonly #slots: Slot[] = [];
  #cur = 0;
  #fd = -1;
  #fill = 0;
  #pos = 0;
  /** Staged, positioned writes for this file (it was opened with O_DIRECT); fixed until the next begin(). */
  #staged = false;
  /** O_DIRECT still set on the fd: cleared when the file system refuses a direct write (the writes stay positioned). */
  #direct = false;
  #err: unknown;

  constructor(private readonly io: PositionedIo = nodeIo) {}

  /** Starts a file opened with (`direct`) or without O_DIRECT, at offset 0. */
  begin(fd: number, direct: boolean): void {
    this.#fd = fd;
    this.#fill = 0;
    this.#pos = 0;
    this.#staged = direct;
    this.#direct = direct;
    this.#err = undefined;
  }

  /** Takes `chunk` (copied, unless the file is buffered); returns a promise only when it has to wait for the disk. */
  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#err !== undefined) throw this.#err;
    if (!this.#staged) return void writeAll(this.#fd, chunk);
    let off = 0;
    while (off < chunk.byteLength) {
      const slot = this.#slot();
      if (slot.pending) {
        const rest = chunk.subarray(off);
        return slot.pending.then(() => this.write(rest));
      }
      const k = Math.min(STAGING - this.#fill, chunk.byteLength - off);
      slot.buf.set(chunk.subarray(off, off + k), this.#fill);
      this.#fill += k;
      off += k;
      if (this.#fill === STAGING) this.#submit(slot);
    }
    return undefined;
  }

  /** Waits for the disk, then writes what is staged: the aligned part direct, the tail buffered. */
  async end(): Promise<void> {
    await this.#wait();
    try {
      if (this.#err !== undefined) throw this.#err;
      if (!this.#staged || this.#fill === 0) return;
      const buf = this.#slot().buf;
      const aligned = this.#fill - (this.#fill % DIRECT_ALIGN);
      if (aligned > 0) {
        // On an I/O thread like the full buffers: the event loop does not wait for the disk.
        await this.#writeAt(buf.subarray(0, aligned), this.#pos);
        this.#pos += aligned;
      }
      if (this.#fill > aligned) {
        if (this.#direct) this.#buffered();
        this.#writeSyncAt(buf.subarray(aligned, this.#fill), this.#pos);
      }
      this.#fill = 0;
    } finally {
      this.#release();
    }
  }

  /** Resolves once no write is in flight (never rejects); the buffers go back to the pool. */
  async settle(): Promise<void> {
    await this.#wait();
    this.#release();
  }

  async #wait(): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.pending));
  }

  #release(): void {
    for (const s of this.#slots.splice(0)) giveBuffer(s.buf);
    this.#cur = 0;
  }

  #slot(): Slot {
    let s = this.#slots[this.#cur];
    if (s === undefined) this.#slots.push((s = { buf: takeBuffer(), pending: undefined }));
    return s;
  }

  #submit(slot: Slot): void {
    slot.pending = this.#writeAt(slot.buf, this.#pos).then(
      () => void (slot.pending = undefined),
      (e) => {
        this.#err ??= e;
        slot.pending = undefined;
      },
    );
    this.#pos += STAGING;
    this.#fill = 0;
    this.#cur = (this.#cur + 1) % DEPTH;
  }

  async #writeAt(buf: Uint8Array, pos: number): Promise<void> {
    let off = 0;
    while (off < buf.byteLength) {
      const direct = this.#direct;
      try {
        off += await new Promise<number>((res, rej) => this.io.write(this.#fd, buf, off, buf.byteLength - off, pos + off, (e, n) => (e ? rej(e) : res(n))));
      } catch (e) {
        if (!this.#refused(e, direct)) throw e;
      }
    }
  }

  #writeSyncAt(buf: Uint8Array, pos: number): number {
    let off = 0;
    while (off < buf.byteLength) {
      const direct = this.#direct;
      try {
        off += this.io.writeSync(this.#fd, buf, off, buf.byteLength - off, pos + off);
      } catch (e) {
        if (!this.#refused(e, direct)) throw e;
      }
    }
    return off;
  }

  /** EINVAL from a direct write: the file system took O_DIRECT at open but not this write; clear O_DIRECT (and retry). */
  #refused(e: unknown, wasDirect: boolean): boolean {
    if ((e as { code?: string }).code !== "EINVAL" || !wasDirect) return false;
    if (this.#direct) this.#buffered();
    return true;
  }

  #buffered(): void {
    clearDirect(this.#fd);
    this.#direct = false;
  }
}
