/**
 * The work of one layer: the compressed stream is, in one pass, hashed (the blob
 * digest), written to a temp blob file, decompressed, hashed again (the
 * diff_id) and unpacked into `root`. The blob is published only when its
 * digest and size match and the diff_id matches the config's; the caller
 * (store/layers.ts ensureLayer) publishes the layer dir after that.
 */
import { ImageError } from "./errors.ts";
import type { Compression } from "../oci/image/media-types.ts";
import type { Descriptor } from "../oci/image/schemas.ts";
import { BlobSink, digestMismatch } from "./store/blobs.ts";
import { ownsGunzip, unpackLayer, type UnpackResult } from "./unpack/unpack-layer.ts";
import { sha256Stream, type Sha256Stream } from "./hash-offload.ts";
import { UnpackError } from "./unpack/layer-writer.ts";
import { TarFormatError } from "./unpack/tar-reader.ts";

export type LayerJob = {
  /** Temp layer dir to unpack into. */
  root: string;
  desc: Descriptor;
  diffId: string;
  compression: Compression;
  /** Write the compressed stream to the blob store too (false when the blob is the source). */
  storeBlob: boolean;
};

export type LayerJobResult = UnpackResult & { from: string };

/**
 * Hashes, stores (when there is a sink) and counts what passes through; the
 * iterator stays drainable after the consumer stops. A chunk is handed to
 * the hasher when the consumer asks for the next one (hash-offload.ts: its
 * bytes must not change after that; nobody writes to received chunks). With
 * `free`, the consumer is done with a chunk by then too, and its memory is
 * freed once hashed.
 */
export class Tee {
  readonly #hash: Sha256Stream;
  readonly #it: AsyncIterator<Uint8Array>;
  #held: Uint8Array | undefined; // yielded, not yet handed to the hasher
  #digest: Promise<string> | undefined;
  n = 0;

  constructor(src: AsyncIterable<Uint8Array>, private sink: BlobSink | undefined, private advance: (n: number) => void = () => {}, private free = false) {
    this.#it = src[Symbol.asyncIterator]();
    this.#hash = sha256Stream();
  }

  /** Stores and counts; returns a promise when the sink has to wait for the disk. */
  #take(c: Uint8Array): Promise<void> | undefined {
    this.n += c.byteLength;
    this.advance(c.byteLength);
    return this.sink?.write(c);
  }

  #release(): void {
    const c = this.#held;
    this.#held = undefined;
    if (c) this.#hash.give(c, this.free ? "free" : undefined);
  }

  /** Digest of everything taken; call once the stream has ended. */
  digest(): Promise<string> {
    if (this.#digest === undefined) {
      this.#release();
      this.#digest = this.#hash.digest();
    }
    return this.#digest;
  }

  async *stream(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const r = await this.#it.next();
      if (r.done) return;
      const w = this.#take(r.value);
      if (w) await w;
      this.#held = r.value;
      yield r.value;
      this.#release();
    }
  }

  /** Reads the rest (after an unpack error) so the digest can tell a tampered blob from a bad archive. */
  async drain(): Promise<boolean> {
    try {
      this.#release();
      for (;;) {
        const r = await this.#it.next();
        if (r.done) return true;
        await this.#take(r.value);
        this.#hash.give(r.value, "free"); // never seen by a consumer
      }
    } catch {
      return false;
    }
  }

  /** Ends the hashing without a digest (error paths). */
  drop(): void {
    if (this.#digest === undefined) this.#hash.drop();
  }
}

export async function verifyBlob(desc: Descriptor, t: Tee): Promise<string> {
  const got = await t.digest();
  if (got !== desc.digest) throw digestMismatch(`layer blob "${desc.digest}"`, desc.digest, got);
  if (t.n !== desc.size) throw new ImageError("E_DIGEST", `Cannot verify layer blob "${desc.digest}": expected ${desc.size} bytes, got ${t.n}`);
  return got;
}

export async function runLayerJob(job: LayerJob, src: AsyncIterable<Uint8Array>, advance?: (n: number) => void): Promise<LayerJobResult> {
  const { desc, diffId } = job;
  const sink = job.storeBlob ? new BlobSink(desc.size, false) : undefined;
  const t = new Tee(src, sink, advance, ownsGunzip(job.compression));
  try {
    let r;
    try {
      r = await unpackLayer(t.stream(), job.compression, job.root);
    } catch (e) {
      if (await t.drain()) await verifyBlob(desc, t); // a tampered blob is a digest error, not an unpack error
      if (e instanceof UnpackError || e instanceof TarFormatError || (e as { code?: string }).code?.startsWith?.("Z_"))
        throw new ImageError("E_UNPACK", `Cannot unpack layer "${desc.digest}": ${(e as Error).message}`, { cause: e });
      throw e;
    }
    const got = await verifyBlob(desc, t);
    if (r.diffId !== diffId)
      throw new ImageError("E_DIGEST", `Cannot verify layer "${desc.digest}": expected diff_id "${diffId}" from the image config, got "${r.diffId}"`);
    await sink?.commit(desc.digest, desc.size, got);
    return { ...r, from: desc.digest };
  } catch (e) {
    t.drop();
    await sink?.abort();
    throw e;
  }
}
