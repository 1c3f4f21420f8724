/**
 * Unpacked layers, keyed by their uncompressed digest (diff_id), so a layer
 * shared by two images, or compressed two ways, is stored once.
 *
 * A layer is unpacked into tmp/layer-…/root, then meta.json is written
 * inside that temp dir, the file system is synced (syncfs), then the whole
 * dir is renamed to layers/<hex>. A layer dir without a valid meta.json (a crash between
 * rename and nothing — rename is atomic — or a foreign leftover) is not
 * trusted and is replaced on the next pull.
 */
import * as v from "valibot";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { ImageError } from "../errors.ts";
import { tempName } from "./atomic.ts";
import { syncStore } from "../hash-offload.ts";
import { hexOf, paths, ensureStore } from "./paths.ts";
import { withLock } from "./lock.ts";

export const LayerMeta = v.strictObject({
  version: v.literal(1),
  diffId: v.string(),
  entries: v.number(),
  size: v.number(),
  unpackedAt: v.string(),
  /** Compressed blob the layer was made from (informative: any blob with this diff_id gives the same tree). */
  from: v.optional(v.string()),
});
export type LayerMeta = v.InferOutput<typeof LayerMeta>;

export function readLayerMeta(diffId: string): LayerMeta | undefined {
  try {
    const m = v.parse(LayerMeta, JSON.parse(readFileSync(paths.layerMeta(diffId), "utf8")));
    return m.diffId === diffId && existsSync(paths.layerRoot(diffId)) ? m : undefined;
  } catch {
    return undefined;
  }
}

export const isLayerComplete = (diffId: string) => readLayerMeta(diffId) !== undefined;

export function listLayers(): string[] {
  ensureStore();
  return readdirSync(paths.layers())
    .filter((n) => /^[a-f0-9]{64}$/.test(n))
    .map((n) => `sha256:${n}`);
}

/**
 * Makes sure layer `diffId` exists, calling `produce(dir)` to unpack it into a
 * fresh temp dir when it does not. `produce` returns the diff_id it actually
 * computed; a mismatch discards everything. Holds the layer's lock, so two
 * pulls of the same layer unpack it once; leftovers of a killed pull are
 * removed here.
 */
export async function ensureLayer(
  diffId: string,
  produce: (root: string) => Promise<{ diffId: string; entries: number; size: number; from?: string }>,
): Promise<"present" | "unpacked"> {
  ensureStore();
  const hex = hexOf(diffId);
  return withLock(`layer-${hex}`, "exclusive", async () => {
    if (isLayerComplete(diffId)) return "present";
    removeLeftovers(`layer-${hex}-`);
    const tmp = tempName(`layer-${hex}`);
    mkdirSync(`${tmp}/root`, { recursive: true, mode: 0o755 });
    chmodSync(`${tmp}/root`, 0o755); // becomes "/" when no layer has a "./" entry: not subject to umask
    try {
      const r = await produce(`${tmp}/root`);
      if (r.diffId !== diffId)
        throw new ImageError("E_DIGEST", `Cannot verify layer: expected diff_id "${diffId}" from the image config, got "${r.diffId}"`);
      const meta: LayerMeta = { version: 1, diffId, entries: r.entries, size: r.size, unpackedAt: new Date().toISOString() };
      if (r.from !== undefined) meta.from = r.from;
      // meta.json needs no temp file of its own: the whole dir appears at once, by the rename below.
      writeFileSync(`${tmp}/meta.json`, JSON.stringify(meta), { mode: 0o644 });
      // Durability barrier: every file, inode and directory of the layer (and meta.json) on the
      // disk before its name is published; a crash can then leave a temp dir, never a trusted
      // layer with missing data. One syncfs instead of an fsync per file (see README.md).
      await syncStore(tmp);
      rmSync(paths.layer(diffId), { recursive: true, force: true }); // an untrusted leftover
      renameSync(tmp, paths.layer(diffId));
      return "unpacked";
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  });
}

/** Removes tmp/ entries starting with `prefix` (their writer held the lock we now hold, so it is gone). */
function removeLeftovers(prefix: string): void {
  for (const n of readdirSync(paths.tmp())) if (n.startsWith(prefix)) rmSync(`${paths.tmp()}/${n}`, { recursive: true, force: true });
}

export function removeLayer(diffId: string): void {
  // Rename first so a half-removed tree is never mistaken for a layer.
  const dead = tempName(`dead-${hexOf(diffId)}`);
  try {
    renameSync(paths.layer(diffId), dead);
  } catch {
    return;
  }
  rmSync(dead, { recursive: true, force: true });
}
