/**
 * One layer of a pull. The compressed stream is, in one pass: hashed (the
 * blob digest), written to a temp blob file, decompressed, hashed again (the
 * diff_id) and unpacked into a temp layer dir. Only when both digests match
 * are the blob and the layer renamed into the store; any mismatch leaves
 * nothing behind.
 */
import { createReadStream } from "node:fs";
import { ImageError } from "./errors.ts";
import { layerCompression } from "../oci/image/media-types.ts";
import type { Descriptor } from "../oci/image/schemas.ts";
import { BlobSink, hasBlob, digestMismatch } from "./store/blobs.ts";
import { ensureLayer, isLayerComplete } from "./store/layers.ts";
import { paths } from "./store/paths.ts";
import { unpackLayer } from "./unpack/unpack-layer.ts";
import { UnpackError } from "./unpack/layer-writer.ts";
import { TarFormatError } from "./unpack/tar-reader.ts";
import type { LayerProgress } from "./progress.ts";
import { mark } from "../log/timing.ts";

export type LayerSource = () => AsyncIterable<Uint8Array>;

/** Hashes (through the sink when there is one: each byte once), stores and counts what passes through; the iterator stays drainable after the consumer stops. */
class Tee {
  readonly #hasher: Bun.CryptoHasher | undefined;
  n = 0;
  readonly #it: AsyncIterator<Uint8Array>;
  constructor(src: AsyncIterable<Uint8Array>, private sink: BlobSink | undefined, private p: LayerProgress) {
    this.#it = src[Symbol.asyncIterator]();
    if (sink === undefined) this.#hasher = new Bun.CryptoHasher("sha256");
  }
  /** Returns a promise when the sink has to wait for the disk. */
  #take(c: Uint8Array): Promise<void> | undefined {
    this.n += c.byteLength;
    this.p.advance(c.byteLength);
    if (this.sink) return this.sink.write(c);
    this.#hasher!.update(c);
    return undefined;
  }
  #digest: string | undefined;
  /** Digest of everything taken; call once the stream has ended. */
  digest(): string {
    return this.sink?.digest() ?? (this.#digest ??= `sha256:${this.#hasher!.digest("hex")}`);
  }
  async *stream(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const r = await this.#it.next();
      if (r.done) return;
      const w = this.#take(r.value);
      if (w) await w;
      yield r.value;
    }
  }
  /** Reads the rest (after an unpack error) so the digest can tell a tampered blob from a bad archive. */
  async drain(): Promise<boolean> {
    try {
      for (;;) {
        const r = await this.#it.next();
        if (r.done) return true;
        await this.#take(r.value);
      }
    } catch {
      return false;
    }
  }
}

function verifyBlob(desc: Descriptor, t: Tee): void {
  const got = t.digest();
  const n = t.n;
  if (got !== desc.digest) throw digestMismatch(`layer blob "${desc.digest}"`, desc.digest, got);
  if (n !== desc.size) throw new ImageError("E_DIGEST", `Cannot verify layer blob "${desc.digest}": expected ${desc.size} bytes, got ${n}`);
}

/** Makes layer `diffId` and blob `desc` present; returns what was done. */
export async function fetchLayer(desc: Descriptor, diffId: string, remote: LayerSource, p: LayerProgress): Promise<string> {
  const compression = layerCompression(desc.mediaType);
  if (compression === undefined) throw new ImageError("E_UNSUPPORTED", `Cannot unpack layer "${desc.digest}": unsupported media type "${desc.mediaType}"`);
  const blobPresent = hasBlob(desc.digest);
  if (isLayerComplete(diffId) && blobPresent) return "Already exists";
  // Repair from the local blob when only the layer is missing.
  const source: LayerSource = blobPresent ? () => createReadStream(paths.blob(desc.digest)) as AsyncIterable<Uint8Array> : remote;
  let blobOnly = false;
  mark(`layer ${desc.digest.slice(7, 19)}: start`);
  const status = await ensureLayer(diffId, async (root) => {
    const sink = blobPresent ? undefined : new BlobSink(desc.size);
    const t = new Tee(source(), sink, p);
    try {
      let r;
      try {
        r = await unpackLayer(t.stream(), compression, root);
      } catch (e) {
        if (await t.drain()) verifyBlob(desc, t); // a tampered blob is a digest error, not an unpack error
        if (e instanceof UnpackError || e instanceof TarFormatError || (e as { code?: string }).code?.startsWith?.("Z_"))
          throw new ImageError("E_UNPACK", `Cannot unpack layer "${desc.digest}": ${(e as Error).message}`, { cause: e });
        throw e;
      }
      verifyBlob(desc, t);
      if (r.diffId !== diffId)
        throw new ImageError("E_DIGEST", `Cannot verify layer "${desc.digest}": expected diff_id "${diffId}" from the image config, got "${r.diffId}"`);
      mark(`layer ${desc.digest.slice(7, 19)}: unpacked`);
      await sink?.commit(desc.digest, desc.size);
      mark(`layer ${desc.digest.slice(7, 19)}: blob committed`);
      return { ...r, from: desc.digest };
    } catch (e) {
      await sink?.abort();
      throw e;
    }
  });
  if (status === "present" && !hasBlob(desc.digest)) {
    // Another image brought the same layer compressed differently: keep this blob too (for save).
    blobOnly = true;
    const sink = new BlobSink(desc.size);
    const t = new Tee(remote(), sink, p);
    try {
      await t.drain().then((ok) => {
        if (!ok) throw new ImageError("E_NETWORK", `Cannot download layer blob "${desc.digest}"`);
      });
      verifyBlob(desc, t);
      await sink.commit(desc.digest, desc.size);
    } catch (e) {
      await sink.abort();
      throw e;
    }
  }
  return status === "unpacked" ? "Pull complete" : blobOnly ? "Blob stored" : "Already exists";
}
