/**
 * Image records: one JSON file per reference under images/, written
 * atomically, validated (strict) on read. The record holds what `run` needs
 * without re-reading blobs: layers bottom → top with their diff_ids, the
 * config digest, the platform.
 */
import * as v from "valibot";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { StateError } from "../../errors.ts";
import { writeFileAtomic } from "./atomic.ts";
import { ensureStore, paths } from "./paths.ts";

export const ImageRecord = v.strictObject({
  version: v.literal(1),
  /** Canonical reference this record is stored under (`docker.io/library/busybox:latest`). */
  reference: v.string(),
  /** Digest of the image manifest (the platform-specific one). */
  digest: v.string(),
  /** Digest of the index it was chosen from, when pulled through one. */
  indexDigest: v.optional(v.string()),
  mediaType: v.string(),
  configDigest: v.string(),
  layers: v.array(v.strictObject({ digest: v.string(), diffId: v.string(), mediaType: v.string(), size: v.number() })),
  platform: v.strictObject({ os: v.string(), architecture: v.string(), variant: v.optional(v.string()) }),
  created: v.optional(v.string()),
  pulledAt: v.string(),
});
export type ImageRecord = v.InferOutput<typeof ImageRecord>;

export function writeImage(rec: ImageRecord): void {
  ensureStore();
  writeFileAtomic(paths.image(rec.reference), `${JSON.stringify(rec, null, 2)}\n`);
}

function parse(path: string): ImageRecord {
  const r = v.safeParse(ImageRecord, JSON.parse(readFileSync(path, "utf8")));
  if (!r.success) throw new StateError("E_STATE", `Invalid image record "${path}": ${r.issues[0]?.message}`);
  return r.output;
}

export function readImage(ref: string): ImageRecord | undefined {
  try {
    return parse(paths.image(ref));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

export function listImages(): ImageRecord[] {
  ensureStore();
  const out: ImageRecord[] = [];
  for (const n of readdirSync(paths.images())) {
    if (!n.endsWith(".json")) continue;
    try {
      out.push(parse(`${paths.images()}/${n}`));
    } catch {
      /* a corrupt record is skipped here; `image rm` can still remove it by name */
    }
  }
  return out.sort((a, b) => a.reference.localeCompare(b.reference));
}

export function deleteImage(ref: string): boolean {
  try {
    rmSync(paths.image(ref));
    return true;
  } catch {
    return false;
  }
}
