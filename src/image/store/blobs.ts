/**
 * Content-addressed blobs. A blob is written to tmp/, hashed while it is
 * written, and renamed to blobs/sha256/<hex> only when its digest and size
 * match: a file under blobs/ always holds the bytes its name promises.
 */
import { closeSync, constants, existsSync, fsync, openSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { ImageError } from "../errors.ts";
import { tempName, writeFileAtomic } from "./atomic.ts";
import { DIRECT_MIN, DirectWriter, openMaybeDirect } from "./direct-writer.ts";
import { paths, ensureStore } from "./paths.ts";
import { sha256Hex } from "../../state/random.ts";

export function sha256(data: Uint8Array | string): string {
  return `sha256:${sha256Hex(data)}`;
}

export function hasBlob(digest: string): boolean {
  return existsSync(paths.blob(digest));
}

export function blobSize(digest: string): number | undefined {
  try {
    return statSync(paths.blob(digest)).size;
  } catch {
    return undefined;
  }
}

/** Reads a small blob (manifest, config) and re-checks its digest. */
export function readBlob(digest: string): Uint8Array {
  const data = readFileSync(paths.blob(digest));
  if (sha256(data) !== digest) throw new ImageError("E_DIGEST", `Blob "${digest}" in the store is corrupt: its content does not match its digest`);
  return data;
}

export function tryReadBlob(digest: string): Uint8Array | undefined {
  try {
    return readBlob(digest);
  } catch {
    return undefined;
  }
}

export function digestMismatch(what: string, want: string, got: string): ImageError {
  return new ImageError("E_DIGEST", `Cannot verify ${what}: expected digest "${want}", got "${got}"`);
}

/** Stores bytes whose digest must equal `digest` (small blobs: manifests, configs). */
export function putBlob(digest: string, data: Uint8Array): void {
  const got = sha256(data);
  if (got !== digest) throw digestMismatch(`blob "${digest}"`, digest, got);
  if (hasBlob(digest)) return;
  writeFileAtomic(paths.blob(digest), data);
}

/**
 * A blob being written: hashed as it goes, renamed into place by commit().
 * Await what write() returns before the next write; commit() and abort()
 * wait for the disk first.
 */
export class BlobSink {
  readonly #tmp: string;
  readonly #fd: number;
  readonly #hasher: Bun.CryptoHasher | undefined;
  readonly #out = new DirectWriter();
  #digest: string | undefined;
  size = 0;
  #open = true;

  /**
   * `expectedSize`: big blobs are written with O_DIRECT (see direct-writer.ts).
   * `hash: false`: the caller hashes what it writes and passes the digest to commit().
   */
  constructor(expectedSize = 0, hash = true) {
    ensureStore();
    this.#tmp = tempName("blob");
    const open = (f: number) => openSync(this.#tmp, f, 0o644);
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
    const [fd, direct] = expectedSize >= DIRECT_MIN ? openMaybeDirect(open, flags, () => rmSync(this.#tmp, { force: true })) : [open(flags), false];
    this.#fd = fd;
    this.#out.begin(fd, direct);
    if (hash) this.#hasher = new Bun.CryptoHasher("sha256");
  }

  write(chunk: Uint8Array): Promise<void> | undefined {
    this.#hasher?.update(chunk);
    this.size += chunk.byteLength;
    return this.#out.write(chunk);
  }

  /** `sha256:<hex>` of what was written; ends the hashing (call once everything is written). */
  digest(): string {
    if (this.#hasher === undefined) throw new Error("BlobSink.digest() on a sink that does not hash");
    return (this.#digest ??= `sha256:${this.#hasher.digest("hex")}`);
  }

  /** Verifies (against `computed` when the caller hashed) and publishes; on mismatch removes the temp file and throws E_DIGEST. */
  async commit(digest: string, size?: number, computed?: string): Promise<void> {
    await this.#close();
    const got = computed ?? this.digest();
    if (got !== digest || (size !== undefined && size !== this.size)) {
      rmSync(this.#tmp, { force: true });
      throw got !== digest
        ? digestMismatch(`blob "${digest}"`, digest, got)
        : new ImageError("E_DIGEST", `Cannot verify blob "${digest}": expected ${size} bytes, got ${this.size}`);
    }
    renameSync(this.#tmp, paths.blob(digest));
  }

  /** Publishes under the digest of what was written (for archives that do not name their blobs by digest). */
  async commitComputed(): Promise<string> {
    await this.#close();
    const digest = this.digest();
    renameSync(this.#tmp, paths.blob(digest));
    return digest;
  }

  async abort(): Promise<void> {
    try {
      await this.#close(true);
    } finally {
      rmSync(this.#tmp, { force: true });
    }
  }

  async #close(aborting = false): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    try {
      if (aborting) await this.#out.settle();
      else {
        await this.#out.end();
        await new Promise<void>((res, rej) => fsync(this.#fd, (e) => (e ? rej(e) : res()))); // on an I/O thread
      }
    } finally {
      await this.#out.settle();
      closeSync(this.#fd);
    }
  }
}
