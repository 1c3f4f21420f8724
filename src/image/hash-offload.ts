/**
 * SHA-256 of streams, and syncfs(): on native threads when there are.
 *
 * A pull hashes every byte twice (the compressed blob and the uncompressed
 * diff_id), and its JavaScript thread is what limits it. With the native
 * thread (ffi/native: x86-64 with SHA-NI; `PELAGOS_NATIVE=0` turns it
 * off) give() only queues the chunk: no copy, no JavaScript on the other
 * side. Elsewhere chunks are hashed inline with Bun's CryptoHasher. ADR 0008
 * has the measurements, and why an earlier helper (a Worker, a second
 * JavaScript VM fed by postMessage) gained nothing.
 *
 * Ownership: give(chunk) hands the chunk over until it is hashed: nobody may
 * write to its bytes after that (chunks from the network or a file never
 * are; the stream holds a reference, so the memory stays). Once hashed, a
 * chunk of the buffer pool (`after` is its pool buffer) goes back to the
 * pool, and a chunk given with `after = "free"` that is all of its
 * ArrayBuffer has its memory freed then (ArrayBuffer#transfer(0): the next
 * network chunk reuses it instead of faulting in fresh pages; the GC would
 * free it only much later). Chunks of one stream are hashed in the order
 * given. At most LIMIT bytes are queued for the whole process; give() waits
 * (blocking) for the oldest when over it.
 *
 * syncStore(path): syncfs() of the file system holding `path` (the store's
 * durability barrier, see store/README.md). It blocks for 1-15 ms while the
 * disk catches up: on a native thread (polled) the other layers go on
 * unpacking meanwhile; elsewhere it blocks the JavaScript thread.
 */
import { closeSync, openSync } from "node:fs";
import { syncfs } from "../../ffi/direct-io.ts";
import { SysError } from "../../ffi/errno.ts";
import { nativeSha, nativeSyncfs, type NativeSha } from "../../ffi/native/index.ts";
import { giveBuffer } from "./store/buffer-pool.ts";

/** Bytes queued for the hashing thread, process-wide, before give() waits. */
export const LIMIT = 4 << 20;

export interface Sha256Stream {
  give(chunk: Uint8Array, after?: After): void;
  /** `sha256:<hex>` of everything given; ends the stream. */
  digest(): Promise<string>;
  /** Ends the stream without a digest (error paths). */
  drop(): void;
}

/** What becomes of a chunk once hashed: its pool buffer goes back to the pool, or "free": its memory is freed. */
export type After = Uint8Array | "free" | undefined;

const canTransfer = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === "function";

function release(chunk: Uint8Array, after: After): void {
  if (after === undefined) return;
  if (after !== "free") giveBuffer(after);
  else if (canTransfer && chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer)
    (chunk.buffer as ArrayBuffer & { transfer(n: number): ArrayBuffer }).transfer(0);
}

class InlineStream implements Sha256Stream {
  readonly #h = new Bun.CryptoHasher("sha256");
  give(chunk: Uint8Array, after?: After): void {
    this.#h.update(chunk);
    release(chunk, after);
  }
  async digest(): Promise<string> {
    return `sha256:${this.#h.digest("hex")}`;
  }
  drop(): void {}
}

type Ctx = NonNullable<ReturnType<NativeSha["open"]>>;
/** Queued chunks, oldest first (from `first`): kept referenced until hashed. */
type Queued = { seq: number; n: number; chunk: Uint8Array; after: After };
const queue: (Queued | undefined)[] = [];
let first = 0;
let queued = 0;

/** Lets go of every chunk hashed so far (pooled buffers back to the pool). */
function reap(sha: NativeSha): void {
  const done = sha.completed();
  for (let q = queue[first]; q !== undefined && q.seq <= done; q = queue[first]) {
    queue[first++] = undefined;
    queued -= q.n;
    release(q.chunk, q.after);
  }
  if (first === queue.length) {
    queue.length = 0;
    first = 0;
  } else if (first >= 1024) {
    queue.splice(0, first);
    first = 0;
  }
}

/** Bytes given to the hashing thread and not hashed yet (tests). */
export function queuedBytes(): number {
  const sha = nativeSha();
  if (sha) reap(sha);
  return queued;
}

class NativeStream implements Sha256Stream {
  #last = 0;
  #ended = false;
  constructor(
    private readonly sha: NativeSha,
    private readonly ctx: Ctx,
  ) {}

  give(chunk: Uint8Array, after?: After): void {
    if (this.#ended) throw new Error("SHA-256 stream given data after its end");
    if (chunk.byteLength === 0) return release(chunk, after);
    const seq = this.sha.submit(this.ctx, chunk, chunk.byteLength);
    this.#last = seq;
    queue.push({ seq, n: chunk.byteLength, chunk, after });
    queued += chunk.byteLength;
    reap(this.sha);
    if (queued > LIMIT) {
      // Wait for the oldest chunks, down to half the limit (waits are rare: the thread hashes
      // ~1.4 GB/s, several times what a pull feeds it).
      let i = first;
      for (let rest = queued; rest > LIMIT / 2; i++) rest -= queue[i]!.n;
      this.sha.wait(queue[i - 1]!.seq);
      reap(this.sha);
    }
  }

  /** Waits (blocking) for this stream's last chunk: at most what is queued, ~10 ms at LIMIT. */
  #settle(): void {
    this.#ended = true;
    this.sha.wait(this.#last);
    reap(this.sha);
  }

  async digest(): Promise<string> {
    if (this.#ended) throw new Error("SHA-256 stream ended twice");
    this.#settle();
    const out = new Uint8Array(32);
    this.sha.finish(this.ctx, out);
    return `sha256:${Buffer.from(out).toString("hex")}`;
  }

  drop(): void {
    if (this.#ended) return;
    this.#settle();
    this.sha.free(this.ctx);
  }
}

/** Whether streams hash on the native thread. */
export function hashesOffThread(): boolean {
  return nativeSha() !== undefined;
}

export function sha256Stream(): Sha256Stream {
  const sha = nativeSha();
  const ctx = sha?.open();
  return sha && ctx ? new NativeStream(sha, ctx) : new InlineStream();
}

/** The error of a failed sync, keeping the errno name (`code`: ENOSPC, EIO… make E_STORE in pull). */
function syncError(e: unknown): Error {
  return Object.assign(new Error(`Cannot sync the image store: ${(e as Error).message}`, { cause: e }), { code: (e as { code?: string }).code });
}

export async function syncStore(path: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw syncError(e);
  }
  try {
    const job = nativeSyncfs()?.start(fd);
    if (!job) return syncfs(fd);
    let err: number;
    while ((err = nativeSyncfs()!.poll(job)) === -1) await Bun.sleep(1);
    if (err !== 0) throw new SysError("syncfs", err);
  } catch (e) {
    throw syncError(e);
  } finally {
    closeSync(fd);
  }
}
