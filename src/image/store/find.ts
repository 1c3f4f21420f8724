/**
 * Finds stored images from what a user types: a reference (`busybox`,
 * `localhost:5000/x:1`), an image ID (config digest) or a prefix of one, or
 * a manifest digest.
 */
import { ImageError } from "../errors.ts";
import { parseReference, recordKey } from "../reference.ts";
import { listImages, readImage, type ImageRecord } from "./images.ts";

export function findImages(input: string): ImageRecord[] {
  try {
    const rec = readImage(recordKey(parseReference(input)));
    if (rec) return [rec];
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
  }
  const hex = input.replace(/^sha256:/, "");
  if (/^[a-f0-9]{4,64}$/.test(hex)) {
    const all = listImages();
    const byId = all.filter((r) => r.configDigest.slice(7).startsWith(hex) || r.digest.slice(7).startsWith(hex));
    const ids = new Set(byId.map((r) => r.configDigest));
    if (ids.size > 1) throw new ImageError("E_REF", `Image ID prefix "${input}" is ambiguous: it matches ${ids.size} images`);
    return byId;
  }
  return [];
}

export function findImage(input: string): ImageRecord {
  const found = findImages(input);
  if (found.length === 0) throw new ImageError("E_NO_IMAGE", `Cannot find image "${input}"`);
  return found[0]!;
}
