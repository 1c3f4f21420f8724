/**
 * Garbage collection: layers and blobs that no image record and no
 * registered container references are removed, with the lock files of
 * layers that are gone; temp entries of dead processes too. Runs under the
 * exclusive store lock (the callers take it), so no pull holds a layer lock.
 */
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { listImages } from "./images.ts";
import { listImageUses } from "./users.ts";
import { listLayers, removeLayer, readLayerMeta } from "./layers.ts";
import { ensureStore, paths } from "./paths.ts";
import { tryReadBlob } from "./blobs.ts";
import { isIndexType } from "../../oci/image/media-types.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes tmp/ entries whose creating process is gone (names are `<tag>-<pid>-<random>`). */
export function cleanDeadTemps(): number {
  ensureStore();
  let n = 0;
  for (const name of readdirSync(paths.tmp())) {
    const m = /-(\d+)-[a-f0-9]{12}$/.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(`${paths.tmp()}/${name}`, { recursive: true, force: true });
    n++;
  }
  return n;
}

export type GcResult = { layers: number; blobs: number; bytes: number };

function referenced(): { diffIds: Set<string>; blobs: Set<string> } {
  const diffIds = new Set<string>();
  const blobs = new Set<string>();
  for (const r of listImages()) {
    blobs.add(r.digest);
    blobs.add(r.configDigest);
    if (r.indexDigest) {
      blobs.add(r.indexDigest);
      // keep the index's other manifests only if present: they are small
      const idx = tryReadBlob(r.indexDigest);
      if (idx) {
        try {
          const j = JSON.parse(new TextDecoder().decode(idx)) as { mediaType?: string; manifests?: { digest: string; mediaType?: string }[] };
          for (const m of j.manifests ?? []) if (isIndexType(m.mediaType)) blobs.add(m.digest);
        } catch {
          /* unreadable index: nothing more to keep */
        }
      }
    }
    for (const l of r.layers) {
      blobs.add(l.digest);
      diffIds.add(l.diffId);
    }
  }
  for (const u of listImageUses()) for (const l of u.layers) diffIds.add(l);
  return { diffIds, blobs };
}

function dirSize(path: string): number {
  let total = 0;
  const walk = (p: string) => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const full = `${p}/${e.name}`;
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) total += statSync(full).size;
    }
  };
  try {
    walk(path);
  } catch {
    /* vanished */
  }
  return total;
}

export function collectGarbage(): GcResult {
  ensureStore();
  const keep = referenced();
  const res: GcResult = { layers: 0, blobs: 0, bytes: 0 };
  for (const d of listLayers()) {
    if (keep.diffIds.has(d)) continue;
    res.bytes += readLayerMeta(d)?.size ?? 0;
    removeLayer(d);
    res.layers++;
  }
  for (const hex of readdirSync(paths.blobs())) {
    const digest = `sha256:${hex}`;
    if (keep.blobs.has(digest)) continue;
    try {
      res.bytes += statSync(`${paths.blobs()}/${hex}`).size;
      rmSync(`${paths.blobs()}/${hex}`, { force: true });
      res.blobs++;
    } catch {
      /* gone */
    }
  }
  // A layer's lock file (locks/layer-<hex>, store/layers.ts) outlives the layer otherwise.
  for (const name of readdirSync(paths.lock(""))) {
    const m = /^layer-([0-9a-f]{64})$/.exec(name);
    if (m && !existsSync(paths.layer(`sha256:${m[1]}`))) rmSync(paths.lock(name), { force: true });
  }
  cleanDeadTemps();
  return res;
}

export { dirSize };
