/**
 * `image save`: an OCI image layout archive that is also a `docker save`
 * archive (docker ≥ 25 writes the same shape): oci-layout, index.json with
 * the names as annotations, manifest.json for docker, blobs/sha256/*.
 */
import { ImageError } from "../errors.ts";
import { familiarName, parseReference } from "../reference.ts";
import type { ImageRecord } from "../store/images.ts";
import { blobSize, hasBlob, readBlob } from "../store/blobs.ts";
import { paths } from "../store/paths.ts";
import { TarWriter } from "./tar-writer.ts";

export function saveImages(images: ImageRecord[], write: (chunk: Uint8Array) => void): void {
  const blobs = new Map<string, number>();
  const index: unknown[] = [];
  const dockerManifest: unknown[] = [];
  for (const r of images) {
    for (const d of [r.digest, r.configDigest, ...r.layers.map((l) => l.digest)]) {
      if (!hasBlob(d)) throw new ImageError("E_ARCHIVE", `Cannot save "${r.reference}": blob "${d}" is missing from the store (pull the image again)`);
      blobs.set(d, blobSize(d)!);
    }
    readBlob(r.digest); // re-verify the manifest before exporting it
    const ref = parseReference(r.reference);
    index.push({
      mediaType: r.mediaType,
      digest: r.digest,
      size: blobs.get(r.digest),
      annotations: { "io.containerd.image.name": r.reference, ...(ref.tag ? { "org.opencontainers.image.ref.name": ref.tag } : {}) },
      platform: r.platform,
    });
    dockerManifest.push({
      Config: `blobs/sha256/${r.configDigest.slice(7)}`,
      RepoTags: ref.tag ? [`${familiarName(ref)}:${ref.tag}`] : [],
      Layers: r.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
    });
  }
  const t = new TarWriter(write);
  t.bytes("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  t.bytes("index.json", JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: index }));
  t.bytes("manifest.json", JSON.stringify(dockerManifest));
  t.dir("blobs");
  t.dir("blobs/sha256");
  for (const [d, size] of blobs) t.file(`blobs/sha256/${d.slice(7)}`, paths.blob(d), size);
  t.end();
}
