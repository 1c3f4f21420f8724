/**
 * Work beside the main thread, when asked for (PELAGOS_HASH_THREAD=1): SHA-256
 * of streams, and syncfs().
 *
 * By default both run on the calling thread. A pull hashes every byte twice
 * (the compressed blob and the uncompressed diff_id); on the 2-core machines
 * we measure on, a helper thread gained nothing with both cores idle and
 * made pulls ~10% slower with one core busy (ADR 0008, amended): it is a
 * second JavaScript VM that compiles its code cold, competes for the cores
 * with Bun's HTTP, I/O and JIT threads, and costs a postMessage per chunk.
 * SHA-256 with the CPU's SHA extensions is cheap next to inflating and
 * writing the same bytes.
 *
 * Ownership: give(chunk) hands the chunk over — the caller must be done
 * with it, and on the worker the chunk's buffer is transferred (zero copy)
 * when the chunk is all of it, else copied. A chunk from the buffer pool
 * (`pooled`) is given back to the pool once hashed. Chunks are hashed in the
 * order given. On the worker at most LIMIT bytes are in flight: give()
 * returns a promise to await when over it.
 *
 * syncStore(path): syncfs() of the file system holding `path` (the store's
 * durability barrier, see store/README.md); on the worker it is waited for
 * there, so other layers keep unpacking meanwhile.
 */
import { closeSync, openSync } from "node:fs";
import { syncfs } from "../../ffi/direct-io.ts";
import { giveBuffer } from "./store/buffer-pool.ts";
import type { FromHashWorker, ToHashWorker } from "./hash-worker.ts";

const LIMIT = 32 << 20;

export interface Sha256Stream {
  give(chunk: Uint8Array, pooled?: Uint8Array): Promise<void> | undefined;
  /** `sha256:<hex>` of everything given; ends the stream. */
  digest(): Promise<string>;
  /** Ends the stream without a digest (error paths). */
  drop(): void;
}

class InlineStream implements Sha256Stream {
  readonly #h = new Bun.CryptoHasher("sha256");
  give(chunk: Uint8Array, pooled?: Uint8Array): undefined {
    this.#h.update(chunk);
    if (pooled) giveBuffer(pooled);
  }
  async digest(): Promise<string> {
    return `sha256:${this.#h.digest("hex")}`;
  }
  drop(): void {}
}

let worker: Worker | null | undefined;
let nextId = 1;
let open = 0;
let inflight = 0;
let wakers: (() => void)[] = [];
const digests = new Map<number, { resolve: (hex: string) => void; reject: (e: Error) => void }>();
const syncs = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

/** The worker is ref'd while anything is pending on it (a pending promise alone does not keep a process alive). */
function hold(w: Worker): void {
  if (open++ === 0) w.ref();
}
function release(): void {
  if (open > 0 && --open === 0) worker?.unref();
}

/** The worker's module: beside this file in the source tree; under the entry root (src/) in the compiled binary. */
function workerUrl(): string {
  if (import.meta.url.startsWith("file:///$bunfs/")) return new URL("./image/hash-worker.ts", `file://${Bun.main}`).href;
  return new URL("./hash-worker.ts", import.meta.url).href;
}

function wake(): void {
  const w = wakers;
  wakers = [];
  for (const f of w) f();
}

function fail(e: Error): void {
  worker?.terminate();
  worker = null; // later streams hash inline; the streams in flight fail
  for (const d of digests.values()) d.reject(e);
  for (const d of syncs.values()) d.reject(e);
  digests.clear();
  syncs.clear();
  inflight = 0;
  wake();
}

function getWorker(): Worker | null {
  if (worker !== undefined) return worker;
  if (process.env.PELAGOS_HASH_THREAD !== "1") return (worker = null);
  try {
    const w = new Worker(workerUrl());
    w.onmessage = ({ data: m }: MessageEvent<FromHashWorker>) => {
      if (m.t === "back") {
        inflight -= m.n;
        if (m.ab) giveBuffer(new Uint8Array(m.ab, m.off, m.len));
        if (inflight <= LIMIT) wake();
      } else if (m.t === "digest") {
        digests.get(m.id)?.resolve(`sha256:${m.hex}`);
        digests.delete(m.id);
      } else {
        const s = syncs.get(m.id);
        syncs.delete(m.id);
        if (s) m.err === undefined ? s.resolve() : s.reject(new Error(`Cannot sync the image store: ${m.err}`));
        release();
      }
    };
    w.onerror = (e) => fail(new Error(`Hash worker failed: ${e.message}`));
    w.unref(); // ref'd only while a stream is open (a pending digest must keep the process alive)
    worker = w;
  } catch {
    worker = null;
  }
  return worker;
}

class WorkerStream implements Sha256Stream {
  readonly #id = nextId++;
  #ended = false;
  constructor(private w: Worker) {
    hold(w);
  }

  give(chunk: Uint8Array, pooled?: Uint8Array): Promise<void> | undefined {
    if (worker !== this.w) throw new Error("Hash worker is gone");
    let m: ToHashWorker;
    if (pooled) m = { t: "data", id: this.#id, ab: pooled.buffer as ArrayBuffer, off: chunk.byteOffset, len: chunk.byteLength, back: { off: pooled.byteOffset, len: pooled.byteLength } };
    else {
      // new Uint8Array(view) copies (Buffer#slice would not: it makes a view of the same memory).
      const own = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer ? chunk : new Uint8Array(chunk);
      m = { t: "data", id: this.#id, ab: own.buffer as ArrayBuffer, off: 0, len: own.byteLength };
    }
    inflight += chunk.byteLength;
    this.w.postMessage(m, [m.ab]);
    if (inflight > LIMIT) return new Promise((r) => wakers.push(r));
    return undefined;
  }

  digest(): Promise<string> {
    const p = new Promise<string>((resolve, reject) => digests.set(this.#id, { resolve, reject }));
    this.w.postMessage({ t: "digest", id: this.#id } satisfies ToHashWorker);
    return p.finally(() => this.#end());
  }

  drop(): void {
    if (this.#ended) return;
    if (worker === this.w) this.w.postMessage({ t: "drop", id: this.#id } satisfies ToHashWorker);
    this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (worker === this.w) release(); // a stopped worker's streams no longer count
  }
}

/** Starts the helper thread now, when there is to be one (a pull calls this before resolving, so the thread is up when the first layer streams). */
export function startHelperThread(): void {
  getWorker();
}

/**
 * Ends the helper thread (a long-lived process, `run`, need not keep it; the
 * next use starts another). Called when no pull is in flight: anything still
 * pending on it (a stream an error path left open) is failed, so a forgotten
 * stream can never keep the process alive.
 */
export function stopHelperThread(): void {
  if (!worker) return;
  const w = worker;
  worker = undefined;
  w.terminate();
  const e = new Error("Helper thread stopped");
  for (const d of digests.values()) d.reject(e);
  for (const d of syncs.values()) d.reject(e);
  digests.clear();
  syncs.clear();
  open = 0;
  inflight = 0;
  wake();
}

export function sha256Stream(offload: boolean): Sha256Stream {
  const w = offload ? getWorker() : null;
  return w ? new WorkerStream(w) : new InlineStream();
}

export async function syncStore(path: string): Promise<void> {
  const w = getWorker();
  if (w === null) {
    try {
      const fd = openSync(path, "r");
      try {
        return syncfs(fd);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      throw new Error(`Cannot sync the image store: ${(e as Error).message}`);
    }
  }
  const id = nextId++;
  hold(w);
  const p = new Promise<void>((resolve, reject) => syncs.set(id, { resolve, reject }));
  w.postMessage({ t: "syncfs", id, path } satisfies ToHashWorker);
  return p;
}
