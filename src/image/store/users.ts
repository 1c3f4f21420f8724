/**
 * A container's use of an image: while registered, `image rm` refuses to
 * remove the image (without --force) and its layers are never collected.
 */
import * as v from "valibot";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { writeFileAtomic } from "./atomic.ts";
import { ensureStore, paths } from "./paths.ts";
import { withStoreLock } from "./lock.ts";

export const ImageUse = v.strictObject({
  version: v.literal(1),
  container: v.string(),
  reference: v.string(),
  digest: v.string(),
  layers: v.array(v.string()),
  since: v.string(),
});
export type ImageUse = v.InferOutput<typeof ImageUse>;

/** A layer given as a diff_id or as the directory prepareImageRootfs returned (`…/layers/<hex>/root`). */
function toDiffId(layer: string): string {
  const m = /\/layers\/([a-f0-9]{64})\/root\/?$/.exec(layer);
  return m ? `sha256:${m[1]}` : layer;
}

/** Records that `container` uses an image (what prepareImageRootfs returned: reference, digest, layers). */
export async function registerImageUse(container: string, use: { reference: string; digest: string; layers: string[] }): Promise<void> {
  await withStoreLock("shared", () => writeImageUse(container, use));
}

/** registerImageUse for callers that already hold the store lock. */
export function writeImageUse(container: string, use: { reference: string; digest: string; layers: string[] }): void {
  ensureStore();
  const rec: ImageUse = { version: 1, container, reference: use.reference, digest: use.digest, layers: use.layers.map(toDiffId), since: new Date().toISOString() };
  writeFileAtomic(paths.user(container), JSON.stringify(rec));
}

export async function unregisterImageUse(container: string): Promise<void> {
  await withStoreLock("shared", () => rmSync(paths.user(container), { force: true }));
}

export function listImageUses(): ImageUse[] {
  ensureStore();
  const out: ImageUse[] = [];
  for (const n of readdirSync(paths.users())) {
    try {
      out.push(v.parse(ImageUse, JSON.parse(readFileSync(`${paths.users()}/${n}`, "utf8"))));
    } catch {
      /* unreadable: ignored */
    }
  }
  return out;
}
