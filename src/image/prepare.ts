/**
 * The API `run` uses: make sure an image is present (per the pull policy)
 * and return its layer directories (bottom → top, for overlay lowerdir+) and
 * its config. `registerImageUse`/`unregisterImageUse` (store/users.ts) keep a
 * running container's layers from being collected.
 */
import { ImageError } from "./errors.ts";
import { parseReference, formatReference, recordKey } from "./reference.ts";
import { parsePlatform, platformMatches } from "./platform.ts";
import { pullImage } from "./pull.ts";
import { makeProgress } from "./progress.ts";
import { readImage, type ImageRecord } from "./store/images.ts";
import { isLayerComplete } from "./store/layers.ts";
import { paths } from "./store/paths.ts";
import { hasBlob, readBlob } from "./store/blobs.ts";
import { withStoreLock } from "./store/lock.ts";
import { writeImageUse } from "./store/users.ts";
import { fetchLayer } from "./fetch-layer.ts";
import { ConfigFile, parseDocument, type ImageConfig } from "../oci/image/schemas.ts";

export type PullPolicy = "always" | "missing" | "never";

export type PreparedImage = {
  /** Absolute layer directories, bottom → top. */
  layers: string[];
  config: ImageConfig;
  /** Canonical reference (`docker.io/library/busybox:latest`). */
  reference: string;
  /** Manifest digest. */
  digest: string;
};

/**
 * True when the record can run as is. Missing layers whose blobs are still in
 * the store are unpacked again from them (verified), without the network.
 */
async function usable(rec: ImageRecord | undefined, platform: string | undefined): Promise<boolean> {
  if (!rec) return false;
  if (platform && !platformMatches(rec.platform, parsePlatform(platform))) return false;
  const missing = rec.layers.filter((l) => !isLayerComplete(l.diffId));
  if (missing.length === 0) return true;
  if (!missing.every((l) => hasBlob(l.digest))) return false;
  const noRemote = (): AsyncIterable<Uint8Array> => {
    throw new ImageError("E_NO_IMAGE", `Cannot repair "${rec.reference}": a layer blob is missing`);
  };
  await withStoreLock("shared", async () => {
    for (const l of missing) await fetchLayer(l, l.diffId, noRemote, { advance() {}, done() {} });
  });
  return true;
}

export type PrepareOptions = {
  pull: PullPolicy;
  platform?: string;
  quiet?: boolean;
  insecure?: boolean;
  /** Register this container's use of the image atomically (no prune can run in between). */
  container?: string;
};

export async function prepareImageRootfs(ref: string, opts: PrepareOptions): Promise<PreparedImage> {
  const parsed = parseReference(ref);
  const key = recordKey(parsed);
  let rec = readImage(key);
  if (opts.pull === "always" || !rec || !(await usable(rec, opts.platform))) {
    if (opts.pull === "never")
      throw new ImageError("E_NO_IMAGE", `Cannot find image "${formatReference(parsed)}" locally${rec ? " (incomplete or another platform)" : ""} and --pull=never`);
    rec = await pullImage(ref, { platform: opts.platform, insecure: opts.insecure, progress: makeProgress(opts.quiet) });
  }
  const pulled = rec;
  // Re-checked under the store lock, so an `rm`/`prune` that ran since cannot have taken layers away
  // from what we return (and register).
  return withStoreLock("shared", async () => {
    if (!(await usable(pulled, undefined)))
      throw new ImageError("E_NO_IMAGE", `Cannot use image "${pulled.reference}": it was removed while being prepared`);
    const cfg = parseDocument(ConfigFile, readBlob(pulled.configDigest), `image config "${pulled.configDigest}"`);
    // A layer repeated in one image: only its topmost occurrence matters to overlay.
    const ids = pulled.layers.map((l) => l.diffId);
    const layers = ids.filter((d, i) => ids.lastIndexOf(d) === i).map((d) => paths.layerRoot(d));
    const out: PreparedImage = { layers, config: cfg.config ?? {}, reference: pulled.reference, digest: pulled.digest };
    if (opts.container !== undefined) writeImageUse(opts.container, out);
    return out;
  });
}
