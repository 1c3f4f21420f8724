/**
 * One layer of a pull. The compressed stream is, in one pass: hashed (the
 * blob digest), written to a temp blob file, decompressed, hashed again (the
 * diff_id) and unpacked into a temp layer dir (layer-job.ts). Only when both
 * digests match are the blob and the layer renamed into the store; any
 * mismatch leaves nothing behind.
 */
import { createReadStream } from "node:fs";
import { ImageError } from "./errors.ts";
import { layerCompression } from "../oci/image/media-types.ts";
import type { Descriptor } from "../oci/image/schemas.ts";
import { BlobSink, hasBlob } from "./store/blobs.ts";
import { ensureLayer, isLayerComplete } from "./store/layers.ts";
import { paths } from "./store/paths.ts";
import { Tee, runLayerJob, verifyBlob } from "./layer-job.ts";
import type { LayerProgress } from "./progress.ts";
import { mark } from "../log/timing.ts";

export type LayerSource = () => AsyncIterable<Uint8Array>;

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
    const r = await runLayerJob({ root, desc, diffId, compression, storeBlob: !blobPresent }, source(), (n) => p.advance(n));
    mark(`layer ${desc.digest.slice(7, 19)}: unpacked`);
    return r;
  });
  if (status === "present" && !hasBlob(desc.digest)) {
    // Another image brought the same layer compressed differently: keep this blob too (for save).
    blobOnly = true;
    const sink = new BlobSink(desc.size, false);
    const t = new Tee(remote(), sink, (n) => p.advance(n));
    try {
      await t.drain().then((ok) => {
        if (!ok) throw new ImageError("E_NETWORK", `Cannot download layer blob "${desc.digest}"`);
      });
      await sink.commit(desc.digest, desc.size, await verifyBlob(desc, t));
    } catch (e) {
      await sink.abort();
      throw e;
    }
  }
  return status === "unpacked" ? "Pull complete" : blobOnly ? "Blob stored" : "Already exists";
}
